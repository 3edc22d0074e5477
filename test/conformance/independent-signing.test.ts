/**
 * An independent implementation of the verification side of spec/format.md and
 * spec/signing.md, written from the spec text with node:crypto, node:zlib and a
 * minimal ZIP reader of its own. Nothing below the "independent verifier" line
 * imports from runtime/: if MPP and this file disagree, one of them (or the
 * spec) is wrong. MPP's runtime is used only to *produce* packages (test 1, 3)
 * and as the system under test that must accept a package made without it (test 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';
// Producing side and system under test only.
import { writeArchive } from '../../runtime/format/write.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { generateKey, parsePrivateKeyPem, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { verifyPackage } from '../../runtime/trust/gatekeeper.ts';
import type { TrustView } from '../../runtime/trust/store.ts';
import { vectorComponent } from '../../spec/vectors/generate.ts';

const SPEC = new URL('../../spec/', import.meta.url);

// ---------------------------------------------------------------------------
// Independent verifier (spec/format.md, spec/signing.md). No runtime/ imports.
// ---------------------------------------------------------------------------

const PAYLOAD_TYPE = 'application/vnd.mpp.signature.v1+json';
const PAYLOAD_KIND = 'https://mpp.dev/signature/v1';
const DIGEST_HEADER = 'mpp-package-digest-v1\n';
const SIGNATURE_RE = /^signatures\/[0-9a-f]{64}\.json$/;
const ALLOWED = new Set(['manifest.json', 'tool.wasm', 'README.md', 'icon.png']);
const COMPONENT_HEADER = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  time: number;
  date: number;
  madeBy: number;
  externalAttrs: number;
  extraLength: number;
  localOffset: number;
  data: Buffer;
}

/** Central directory first, then each local header must agree and the entries must tile the file (format.md §4). */
function readZip(bytes: Buffer): ZipEntry[] {
  const eocd = bytes.length - 22;
  assert.equal(bytes.readUInt32LE(eocd), 0x06054b50, 'EOCD in the last 22 bytes');
  assert.equal(bytes.readUInt16LE(eocd + 20), 0, 'no archive comment');
  const count = bytes.readUInt16LE(eocd + 10);
  const cdSize = bytes.readUInt32LE(eocd + 12);
  const cdOffset = bytes.readUInt32LE(eocd + 16);
  assert.equal(cdOffset + cdSize, eocd, 'central directory ends at the EOCD');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    assert.equal(bytes.readUInt32LE(p), 0x02014b50, `central record ${i}`);
    const flags = bytes.readUInt16LE(p + 8);
    const method = bytes.readUInt16LE(p + 10);
    const nameLength = bytes.readUInt16LE(p + 28);
    const extraLength = bytes.readUInt16LE(p + 30);
    const commentLength = bytes.readUInt16LE(p + 32);
    const name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(p + 46, p + 46 + nameLength));
    const crc = bytes.readUInt32LE(p + 16);
    const compressedSize = bytes.readUInt32LE(p + 20);
    const size = bytes.readUInt32LE(p + 24);
    const localOffset = bytes.readUInt32LE(p + 42);
    assert.equal(flags & ~0x0800, 0, `${name}: only the UTF-8 flag`);
    assert.ok(method === 0 || method === 8, `${name}: stored or deflated`);
    assert.equal(commentLength, 0, `${name}: no entry comment`);
    // Local header: same fields, then the data.
    const l = localOffset;
    assert.equal(bytes.readUInt32LE(l), 0x04034b50, `${name}: local header`);
    assert.equal(bytes.readUInt16LE(l + 6), flags, `${name}: local flags`);
    assert.equal(bytes.readUInt16LE(l + 8), method, `${name}: local method`);
    assert.equal(bytes.readUInt32LE(l + 10), bytes.readUInt32LE(p + 12), `${name}: local time and date`);
    assert.equal(bytes.readUInt32LE(l + 14), crc, `${name}: local CRC-32`);
    assert.equal(bytes.readUInt32LE(l + 18), compressedSize, `${name}: local compressed size`);
    assert.equal(bytes.readUInt32LE(l + 22), size, `${name}: local size`);
    assert.equal(bytes.readUInt16LE(l + 26), nameLength, `${name}: local name length`);
    assert.ok(bytes.subarray(l + 30, l + 30 + nameLength).equals(bytes.subarray(p + 46, p + 46 + nameLength)), `${name}: local name`);
    const start = l + 30 + nameLength + bytes.readUInt16LE(l + 28);
    const raw = bytes.subarray(start, start + compressedSize);
    const data = method === 0 ? Buffer.from(raw) : inflateRawSync(raw, { maxOutputLength: size + 1 });
    assert.equal(data.length, size, `${name}: declared size`);
    assert.equal(crc32(data) >>> 0, crc, `${name}: CRC-32`);
    entries.push({
      name, method, flags, extraLength, localOffset, data,
      time: bytes.readUInt16LE(p + 12),
      date: bytes.readUInt16LE(p + 14),
      madeBy: bytes.readUInt16LE(p + 4),
      externalAttrs: bytes.readUInt32LE(p + 38),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  assert.equal(p, eocd, 'central directory holds exactly its records');
  // Tiling: no prefix, gap or overlap before the central directory.
  let expected = 0;
  for (const e of [...entries].sort((a, b) => a.localOffset - b.localOffset)) {
    assert.equal(e.localOffset, expected, `${e.name}: entries tile the archive`);
    expected = e.localOffset + 30 + bytes.readUInt16LE(e.localOffset + 26) + bytes.readUInt16LE(e.localOffset + 28) + bytes.readUInt32LE(e.localOffset + 18);
  }
  assert.equal(expected, cdOffset, 'last entry ends at the central directory');
  return entries;
}

const sha256hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** signing.md §2 */
function digestText(entries: readonly { name: string; data: Uint8Array }[]): string {
  const content = entries.filter((e) => !SIGNATURE_RE.test(e.name)).sort((a, b) => byUtf8(a.name, b.name));
  return DIGEST_HEADER + content.map((e) => `${sha256hex(e.data)} ${e.data.length} ${e.name}\n`).join('');
}

/** signing.md §4.3 */
function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

interface IndependentResult {
  digest: string;
  digestText: string;
  signatures: { keyid: string; role: string }[];
  entries: ZipEntry[];
}

/** format.md §3, §8 and signing.md §5, §7 (author part) for one trusted key id. */
function verifyIndependently(bytes: Buffer, trustedKeyid: string): IndependentResult {
  const entries = readZip(bytes);
  for (const e of entries) assert.ok(ALLOWED.has(e.name) || SIGNATURE_RE.test(e.name), `allowed entry ${e.name}`);
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const manifestBytes = byName.get('manifest.json');
  const component = byName.get('tool.wasm');
  assert.ok(manifestBytes && component, 'manifest.json and tool.wasm present');
  assert.ok(component.subarray(0, 8).equals(COMPONENT_HEADER), 'component header');
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as { mpp: number; name: string; version: string };
  assert.equal(manifest.mpp, 1);
  const text = digestText(entries);
  const digest = sha256hex(text);

  const signatures: { keyid: string; role: string }[] = [];
  for (const e of entries.filter((x) => SIGNATURE_RE.test(x.name))) {
    const envelope = JSON.parse(e.data.toString('utf8')) as { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] };
    assert.deepEqual(Object.keys(envelope).sort(), ['payload', 'payloadType', 'signatures']);
    assert.equal(envelope.payloadType, PAYLOAD_TYPE);
    assert.equal(envelope.signatures.length, 1);
    const [{ keyid, sig }] = envelope.signatures as [{ keyid: string; sig: string }];
    assert.equal(sig.length, 88);
    const body = Buffer.from(envelope.payload, 'base64');
    assert.equal(body.toString('base64'), envelope.payload, 'payload is canonical padded base64');
    const payload = JSON.parse(body.toString('utf8')) as {
      _type: string; role: string; package: { name: string; version: string }; digest: { sha256: string }; publicKey: string;
    };
    assert.deepEqual(Object.keys(payload).sort(), ['_type', 'digest', 'package', 'publicKey', 'role']);
    assert.equal(payload._type, PAYLOAD_KIND);
    assert.ok(payload.role === 'author' || payload.role === 'registry');
    const spki = Buffer.from(payload.publicKey, 'base64');
    assert.equal(spki.length, 44);
    assert.ok(spki.subarray(0, 12).equals(SPKI_PREFIX), 'canonical Ed25519 SPKI');
    assert.equal(sha256hex(spki), keyid, 'key id = SHA-256 of the SPKI DER');
    assert.equal(e.name, `signatures/${keyid}.json`, 'entry name = key id');
    const key: KeyObject = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    assert.equal(verify(null, pae(envelope.payloadType, body), key, Buffer.from(sig, 'base64')), true, `Ed25519 signature of ${keyid}`);
    assert.equal(payload.package.name, manifest.name);
    assert.equal(payload.package.version, manifest.version);
    assert.equal(payload.digest.sha256, digest, 'signed digest = package digest');
    signatures.push({ keyid, role: payload.role });
  }
  assert.ok(signatures.some((s) => s.role === 'author'), 'an author signature');
  assert.ok(signatures.some((s) => s.role === 'author' && s.keyid === trustedKeyid), 'an author signature by the trusted key');
  return { digest, digestText: text, signatures, entries };
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const MANIFEST = {
  mpp: 1,
  name: 'acme/hello',
  version: '1.0.0',
  description: 'Says hello.',
  publisher: { name: 'Acme' },
  tools: [{ name: 'hello', description: 'Returns a greeting.', sensitivity: 'none', inputSchema: { type: 'object' }, outputSchema: { type: 'object' } }],
};
const manifestBytes = (m: object = MANIFEST): Buffer => Buffer.from(JSON.stringify(m, null, 2) + '\n', 'utf8');
const COMPONENT = Buffer.from(vectorComponent());

function trusting(keyid: string, state: 'trusted' | 'revoked' = 'trusted'): TrustView {
  return { state: (id) => (id === keyid ? state : 'unknown'), name: (id) => (id === keyid ? 'Acme' : undefined) };
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => (e as { code?: string }).code === code, `expected ${code}`);
}

/** The RFC 8032 §7.1 test 1 key used by the worked example in spec/signing.md. */
const EXAMPLE_KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n';

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

test('a package MPP writes and signs verifies under the independent verifier', () => {
  const key = generateKey();
  const unsigned = writeArchive(new Map<string, Uint8Array>([['manifest.json', manifestBytes()], ['tool.wasm', COMPONENT], ['README.md', Buffer.from('# hello\n')]]));
  const signed = Buffer.from(signPackage(signPackage(unsigned, key), generateKey(), 'registry'));

  const result = verifyIndependently(signed, key.publicKey.keyid);
  assert.deepEqual(result.signatures.map((s) => s.role).sort(), ['author', 'registry']);

  // format.md §7: the deterministic writing rules.
  const names = result.entries.map((e) => e.name);
  assert.deepEqual(names, [...names].sort(byUtf8), 'entries sorted by UTF-8 bytes');
  for (const e of result.entries) {
    assert.equal(e.method, e.name === 'tool.wasm' ? 0 : 8, `${e.name}: tool.wasm stored, others deflated`);
    assert.equal(e.flags, 0, `${e.name}: flags`);
    assert.equal(e.extraLength, 0, `${e.name}: no extra field`);
    assert.deepEqual([e.time, e.date], [0x0000, 0x0021], `${e.name}: DOS epoch timestamp`);
    assert.equal(e.madeBy, 0x0314, `${e.name}: made by Unix, 2.0`);
    assert.equal(e.externalAttrs, 0o100644 * 0x10000, `${e.name}: regular file rw-r--r--`);
  }

  // The worked example of signing.md §2 and §11, with the RFC 8032 test key.
  const exampleKey = parsePrivateKeyPem(EXAMPLE_KEY_PEM);
  assert.equal(exampleKey.publicKey.keyid, '06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9');
  const example = Buffer.from(signPackage(unsigned, exampleKey));
  const ex = verifyIndependently(example, exampleKey.publicKey.keyid);
  assert.equal(ex.digest, 'ed4ec9b3651a1d40ce3af9fc624a81f7531d6ced5bd644c8c4fa5e92ecafd380', 'digest of the documented example');
  const signingMd = readFileSync(new URL('signing.md', SPEC), 'utf8');
  assert.ok(signingMd.includes('```\n' + ex.digestText + '```'), 'signing.md shows this digest text');
  assert.ok(signingMd.includes(ex.digest));
});

test('a package built and signed from the spec with node:crypto and fflate is accepted by verifyPackage', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const keyid = sha256hex(spki);

  const build = (content: Map<string, Uint8Array>, signedContent = content): Buffer => {
    const digest = sha256hex(digestText([...signedContent].map(([name, data]) => ({ name, data }))));
    const body = Buffer.from(JSON.stringify({
      _type: PAYLOAD_KIND,
      role: 'author',
      package: { name: MANIFEST.name, version: MANIFEST.version },
      digest: { sha256: digest },
      publicKey: spki.toString('base64'),
    }));
    const envelope = {
      payloadType: PAYLOAD_TYPE,
      payload: body.toString('base64'),
      signatures: [{ keyid, sig: sign(null, pae(PAYLOAD_TYPE, body), privateKey).toString('base64') }],
    };
    const all = new Map(content).set(`signatures/${keyid}.json`, Buffer.from(JSON.stringify(envelope, null, 2) + '\n'));
    // format.md §7. fflate encodes DOS times from *local* time, so the epoch is given in local time.
    const zippable: Zippable = {};
    for (const name of [...all.keys()].sort(byUtf8)) {
      zippable[name] = [all.get(name)!, { level: name === 'tool.wasm' ? 0 : 9, mtime: new Date(1980, 0, 1), os: 3, attrs: 0o100644 << 16 }];
    }
    return Buffer.from(zipSync(zippable));
  };

  const content = new Map<string, Uint8Array>([['tool.wasm', COMPONENT], ['manifest.json', manifestBytes()], ['README.md', Buffer.from('# hello\n')]]);
  const bytes = build(content);
  const ours = verifyIndependently(bytes, keyid);
  for (const e of ours.entries) assert.deepEqual([e.time, e.date], [0x0000, 0x0021], `${e.name}: DOS epoch timestamp`);

  const accepted = verifyPackage(bytes, trusting(keyid));
  assert.equal(accepted.publisher.keyid, keyid);
  assert.equal(accepted.publisher.name, 'Acme');
  assert.equal(accepted.digest.sha256, ours.digest, 'MPP computes the same digest');
  assert.deepEqual(accepted.signatures.map((s) => [s.role, s.key.keyid]), [['author', keyid]]);

  // The same package under other trust states, and tampered after signing.
  expectCode(() => verifyPackage(bytes, trusting('0'.repeat(64))), 'MPP_E_UNTRUSTED_KEY');
  expectCode(() => verifyPackage(bytes, trusting(keyid, 'revoked')), 'MPP_E_REVOKED_KEY');
  const tampered = build(new Map(content).set('README.md', Buffer.from('# hello!\n')), content);
  expectCode(() => verifyPackage(tampered, trusting(keyid)), 'MPP_E_DIGEST_MISMATCH');
  const renamed = build(new Map(content).set('manifest.json', manifestBytes({ ...MANIFEST, version: '1.0.1' })));
  expectCode(() => verifyPackage(renamed, trusting(keyid)), 'MPP_E_DIGEST_MISMATCH');
});

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

/** The shell script after `<!-- conformance: <tag> -->` in spec/signing.md. */
function specScript(tag: string): string {
  const md = readFileSync(new URL('signing.md', SPEC), 'utf8');
  const match = new RegExp(`<!-- conformance: ${tag} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(md);
  assert.ok(match, `signing.md has a script marked ${tag}`);
  return match[1]!;
}

const shellTools = ['openssl', 'unzip', 'jq'];
test('the OpenSSL-only check in spec/signing.md accepts an MPP package', async (t) => {
  for (const tool of shellTools) assert.ok(has(tool), `${tool} is required (scripts/dev.sh installs it)`);
  const dir = mkdtempSync(join(tmpdir(), 'mpp-openssl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'check.sh'), specScript('openssl-verify'));
  const key = generateKey();
  const pkg = signPackage(writeArchive(new Map<string, Uint8Array>([['manifest.json', manifestBytes()], ['tool.wasm', COMPONENT]])), key);
  writeFileSync(join(dir, 'hello.mpp'), pkg);
  writeFileSync(join(dir, 'author.pub.pem'), publicKeyToPem(key.publicKey));
  writeFileSync(join(dir, 'other.pub.pem'), publicKeyToPem(generateKey().publicKey));
  const run = (...args: string[]) => spawnSync('sh', ['check.sh', ...args], { cwd: dir, encoding: 'utf8' });

  const ok = run('hello.mpp', 'author.pub.pem');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^Signature Verified Successfully$/m, 'OpenSSL verified the Ed25519 signature');
  assert.match(ok.stdout, new RegExp(`^OK: acme/hello@1\\.0\\.0 is signed by the trusted author key ${key.publicKey.keyid}$`, 'm'));

  const other = run('hello.mpp', 'other.pub.pem');
  assert.notEqual(other.status, 0);
  assert.match(other.stdout, /FAIL: no author signature/);

  await t.test('a package signed by the spec script with OpenSSL is accepted by verifyPackage', () => {
    writeFileSync(join(dir, 'sign.sh'), specScript('openssl-sign'));
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'manifest.json'), manifestBytes());
    writeFileSync(join(src, 'tool.wasm'), COMPONENT);
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'own.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const signed = spawnSync('sh', ['sign.sh', 'src', 'own.pem', 'own.mpp'], { cwd: dir, encoding: 'utf8' });
    assert.equal(signed.status, 0, signed.stdout + signed.stderr);
    const keyid = sha256hex(createPublicKey(createPrivateKey(readFileSync(join(dir, 'own.pem')))).export({ type: 'spki', format: 'der' }));
    const accepted = verifyPackage(readFileSync(join(dir, 'own.mpp')), trusting(keyid));
    assert.equal(accepted.publisher.keyid, keyid);
  });
});
