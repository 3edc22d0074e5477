/**
 * Deterministic recipe for the conformance vectors in this folder.
 *   node spec/vectors/generate.ts        writes components/counter.wasm, vectors.json, *.mpp and keys/
 * Every package holds a real component: components/counter.wasm, assembled
 * from components/counter.wat (assemble.ts), or that component bent one way
 * for each refusal of the tool-world check. The test suite regenerates them in
 * memory and checks the committed files are identical, then runs every vector
 * through the gatekeeper.
 * Keys here are public test keys: never trust them outside tests.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readComponent } from '../../runtime/format/component.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { readArchive } from '../../runtime/format/read.ts';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { publicKeyFromSeed } from '../../runtime/trust/ed25519.ts';
import { privateKeyToPem, publicKeyFromRaw, publicKeyToPem, type PrivateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { packageDigest } from '../../runtime/trust/digest.ts';
import { createEnvelope } from '../../runtime/trust/envelope.ts';
import { craftZip, type CraftEntry } from './zip-craft.ts';

export type Expectation = { verdict: 'accept'; publisher: string } | { verdict: 'refuse'; code: string };
export interface Vector { id: string; file: string; description: string; expect: Expectation }
export interface VectorKey { role: string; keyid: string; trust: 'trusted' | 'unknown' | 'revoked'; publicKeyPem: string; privateKeyPem: string }

function testKey(label: string): PrivateKey {
  const seed = new Uint8Array(createHash('sha256').update(`mpp-conformance-vectors/${label}`).digest());
  return { seed, publicKey: publicKeyFromRaw(publicKeyFromSeed(seed)) };
}

export const COMPONENT_WAT = fileURLToPath(new URL('components/counter.wat', import.meta.url));
export const COMPONENT_WASM = fileURLToPath(new URL('components/counter.wasm', import.meta.url));

/** The vectors' component (a real one, 3 KB), read once. */
let counter: Uint8Array | undefined;
export function vectorComponent(): Uint8Array {
  counter ??= new Uint8Array(readFileSync(COMPONENT_WASM));
  return counter;
}

/**
 * The vectors' component grown to `size` bytes by a custom section of
 * deterministic filler (custom sections carry no semantics): a stand-in of any
 * size that every check before the sandbox accepts.
 */
export function paddedComponent(size: number, label = 'component'): Uint8Array {
  const base = vectorComponent();
  const name = Buffer.from('mpp-padding');
  // section = id, LEB128 length, name length, name, filler: find the filler that lands on `size`.
  const fixed = base.length + 1 + 1 + name.length;
  let body = 0;
  for (let lebLen = 1; lebLen <= 5; lebLen++) {
    const b = size - fixed - lebLen;
    if (b >= 0 && leb128(1 + name.length + b).length === lebLen) body = b;
  }
  const header = (n: number) => [0, ...leb128(n)];
  const payload = new Uint8Array(body);
  let block = createHash('sha256').update(label).digest();
  for (let i = 0; i < body; i += 32) {
    payload.set(block.subarray(0, Math.min(32, body - i)), i);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat([base, Uint8Array.from(header(1 + name.length + body)), Uint8Array.of(name.length), name, payload]);
}

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** The component with one name in its top-level import or export section replaced by another of the same length. */
function renamed(section: 'import' | 'export', from: string, to: string): Uint8Array {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('renamed: names must have the same length');
  const bytes = Buffer.from(vectorComponent());
  const id = section === 'import' ? 10 : 11;
  const s = readComponent(bytes).sections.find((x) => x.id === id && bytes.subarray(x.start, x.end).includes(from))!;
  const at = bytes.indexOf(from, s.start);
  bytes.write(to, at);
  return new Uint8Array(bytes);
}

/** The component without its top-level sections of the given id. */
function withoutSections(id: number): Uint8Array {
  const bytes = vectorComponent();
  const keep = readComponent(bytes).sections.filter((x) => x.id !== id);
  return Buffer.concat([bytes.subarray(0, 8), ...keep.map((x) => bytes.subarray(x.start, x.end))]);
}

export function baseManifest(over: Partial<Record<keyof Manifest, unknown>> = {}): Manifest {
  return {
    mpp: 1,
    name: 'vectors/hello',
    version: '1.0.0',
    description: 'Conformance vector package.',
    publisher: { name: 'Vector Author' },
    tools: [
      {
        name: 'greet',
        description: 'Returns a greeting.',
        sensitivity: 'none',
        inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false },
        outputSchema: { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'] },
      },
    ],
    ...over,
  } as Manifest;
}

function entriesOf(manifest: object, extra: Record<string, Uint8Array> = {}): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    ['manifest.json', serializeManifest(manifest as Manifest)],
    ['tool.wasm', vectorComponent()],
    ...Object.entries(extra),
  ]);
}

/** Entries of an archive as a name -> bytes map (for re-crafting). */
function unpack(bytes: Uint8Array): Map<string, Uint8Array> {
  return new Map([...readArchive(bytes).values()].map((e) => [e.name, new Uint8Array(e.data)]));
}

/** Re-crafts a signed package's entries with the craft writer, so single fields can be bent. */
function craft(entries: Map<string, Uint8Array>, bend: (e: CraftEntry) => CraftEntry = (e) => e, opts = {}): Uint8Array {
  const list = [...entries].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map(([name, data]) => bend({ name, data, method: name === 'tool.wasm' ? 0 : 8 }));
  return craftZip(list, opts);
}

function flipAt(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

/** Offset of an entry's data in an archive written by writeArchive/craftZip. */
function dataOffset(bytes: Uint8Array, name: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  for (;;) {
    if (view.getUint32(p, true) !== 0x04034b50) throw new Error(`entry ${name} not found`);
    const nameLen = view.getUint16(p + 26, true);
    const extraLen = view.getUint16(p + 28, true);
    const entry = Buffer.from(bytes.subarray(p + 30, p + 30 + nameLen)).toString('utf8');
    const start = p + 30 + nameLen + extraLen;
    if (entry === name) return start;
    p = start + view.getUint32(p + 18, true);
  }
}

function centralOffset(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(bytes.length - 6, true);
}

export function generateVectors(): { keys: VectorKey[]; vectors: Vector[]; files: Map<string, Uint8Array> } {
  const author = testKey('author');
  const stranger = testKey('stranger');
  const revoked = testKey('revoked');
  const registry = testKey('registry');
  const keys: VectorKey[] = [
    { role: 'author', key: author, trust: 'trusted' as const },
    { role: 'stranger', key: stranger, trust: 'unknown' as const },
    { role: 'revoked', key: revoked, trust: 'revoked' as const },
    { role: 'registry', key: registry, trust: 'unknown' as const },
  ].map(({ role, key, trust }) => ({ role, keyid: key.publicKey.keyid, trust, publicKeyPem: publicKeyToPem(key.publicKey), privateKeyPem: privateKeyToPem(key) }));

  const vectors: Vector[] = [];
  const files = new Map<string, Uint8Array>();
  const add = (id: string, description: string, bytes: Uint8Array, expect: Expectation | string) => {
    const file = `${id}.mpp`;
    files.set(file, bytes);
    vectors.push({ id, file, description, expect: typeof expect === 'string' ? { verdict: 'refuse', code: expect } : expect });
  };
  const accept: Expectation = { verdict: 'accept', publisher: author.publicKey.keyid };
  const sign = (bytes: Uint8Array, key = author, role: 'author' | 'registry' = 'author') => signPackage(bytes, key, role);

  const unsigned = writeArchive(entriesOf(baseManifest()));
  const valid = sign(unsigned);
  const fullManifest = baseManifest({
    name: 'vectors/full',
    version: '2.1.0-beta.1+build.7',
    license: 'Apache-2.0',
    homepage: 'https://example.com/full',
    permissions: {
      filesystem: [{ path: '${workspace}/src', access: 'read', reason: 'Reads sources to index them.' }, { path: '${home}/.cache/full', access: 'read-write' }],
      network: [{ scheme: 'https', host: 'api.example.com', methods: ['GET', 'POST'], reason: 'Calls the example API.' }, { scheme: 'http', host: '127.0.0.1', port: 8080, methods: ['GET'] }],
      environment: [{ name: 'EXAMPLE_TOKEN', reason: 'Authenticates to the API.' }],
      kv: { maxBytes: 1048576, maxKeys: 1000 },
    },
    privacy: { redact: ['email', 'secret'] },
    limits: { timeoutMs: 5000, memoryMb: 64, maxInputBytes: 65536, maxOutputBytes: 1048576 },
    agents: ['*'],
  });
  const fullUnsigned = writeArchive(entriesOf(fullManifest, { 'README.md': Buffer.from('# Full\n\nEvery optional field.\n'), 'icon.png': Buffer.from('89504e470d0a1a0a', 'hex') }));

  // Accepted
  add('valid-minimal', 'Minimal package signed by a trusted author.', valid, accept);
  add('valid-full', 'Every optional entry and manifest field; author and registry signatures.', sign(sign(fullUnsigned), registry, 'registry'), accept);
  add('valid-two-authors', 'Signed by a trusted and an unknown author: one trusted author suffices.', sign(valid, stranger), accept);

  // Signatures and trust
  add('unsigned', 'No signature at all.', unsigned, 'MPP_E_UNSIGNED');
  add('registry-only', 'Only a registry countersignature, no author signature.', sign(unsigned, author, 'registry'), 'MPP_E_UNSIGNED');
  add('untrusted-key', 'Signed only by a key the host does not trust.', sign(unsigned, stranger), 'MPP_E_UNTRUSTED_KEY');
  add('revoked-key', 'Signed by a revoked key.', sign(unsigned, revoked), 'MPP_E_REVOKED_KEY');
  add('revoked-cosigner', 'Signed by the trusted author and also by a revoked key.', sign(valid, revoked), 'MPP_E_REVOKED_KEY');
  const tamperedEntries = entriesOf(baseManifest({ description: 'Tampered, then re-signed by another key.' }));
  add('resigned-untrusted', 'Content changed and re-signed with an untrusted key.', sign(writeArchive(tamperedEntries), stranger), 'MPP_E_UNTRUSTED_KEY');

  const other = sign(writeArchive(entriesOf(baseManifest({ name: 'vectors/other' }))));
  const authorSig = `signatures/${author.publicKey.keyid}.json`;
  const moved = unpack(unsigned);
  moved.set(authorSig, unpack(other).get(authorSig)!);
  add('signature-moved', 'A valid signature copied from another package.', writeArchive(moved), 'MPP_E_DIGEST_MISMATCH');
  const v101 = unpack(writeArchive(entriesOf(baseManifest({ version: '1.0.1' }))));
  v101.set(authorSig, unpack(valid).get(authorSig)!);
  add('signature-other-version', 'The 1.0.0 signature placed into version 1.0.1.', writeArchive(v101), 'MPP_E_DIGEST_MISMATCH');
  const sameContentOtherName = unpack(valid);
  sameContentOtherName.set('README.md', Buffer.from('added after signing\n'));
  add('entry-added-after-signing', 'An allowed entry (README.md) added after signing.', writeArchive(sameContentOtherName), 'MPP_E_DIGEST_MISMATCH');
  const removed = unpack(sign(writeArchive(entriesOf(baseManifest(), { 'README.md': Buffer.from('# readme\n') }))));
  removed.delete('README.md');
  add('entry-removed-after-signing', 'An entry removed after signing.', writeArchive(removed), 'MPP_E_DIGEST_MISMATCH');

  const envelope = JSON.parse(Buffer.from(unpack(valid).get(authorSig)!).toString('utf8'));
  const withEnvelope = (env: unknown, name = authorSig) => {
    const m = unpack(unsigned);
    m.set(name, Buffer.from(typeof env === 'string' ? env : JSON.stringify(env, null, 2) + '\n'));
    return writeArchive(m);
  };
  const sigBytes = Buffer.from(envelope.signatures[0].sig, 'base64');
  sigBytes[10] = sigBytes[10]! ^ 0x01;
  add('signature-flipped', 'One bit of the Ed25519 signature flipped.', withEnvelope({ ...envelope, signatures: [{ ...envelope.signatures[0], sig: sigBytes.toString('base64') }] }), 'MPP_E_BAD_SIGNATURE');
  add('signature-not-json', 'The signature entry is not JSON.', withEnvelope('{"payloadType": '), 'MPP_E_BAD_SIGNATURE');
  add('signature-unknown-field', 'The envelope has a field the format does not define.', withEnvelope({ ...envelope, note: 'hi' }), 'MPP_E_BAD_SIGNATURE');
  add('signature-duplicate-key', 'The envelope repeats its "payload" key: parsers would disagree on what was signed.', withEnvelope(JSON.stringify(envelope).replace('"payload":', '"payload":"e30=","payload":')), 'MPP_E_BAD_SIGNATURE');
  add('signature-wrong-entry-name', 'A valid envelope stored under another key id\'s file name.', withEnvelope(envelope, `signatures/${stranger.publicKey.keyid}.json`), 'MPP_E_BAD_SIGNATURE');
  const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  // A universal forgery: under the identity point (small order), R = B, S = 1 verifies any message.
  const identitySpki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from([1, ...new Array(31).fill(0)])]);
  const weakKeyid = createHash('sha256').update(identitySpki).digest('hex');
  const forgery = Buffer.concat([Buffer.from('5866666666666666666666666666666666666666666666666666666666666666', 'hex'), Buffer.from([1, ...new Array(31).fill(0)])]);
  const weakPayload = Buffer.from(JSON.stringify({ ...payload, publicKey: identitySpki.toString('base64') }));
  add('signature-weak-key', 'Signed by the identity point, a small-order key under which one fixed signature verifies every message.', withEnvelope({ payloadType: envelope.payloadType, payload: weakPayload.toString('base64'), signatures: [{ keyid: weakKeyid, sig: forgery.toString('base64') }] }, `signatures/${weakKeyid}.json`), 'MPP_E_BAD_SIGNATURE');
  add('signature-payload-swapped', 'The payload edited to claim another digest (signature no longer matches).', withEnvelope({ ...envelope, payload: Buffer.from(JSON.stringify({ ...payload, digest: { sha256: '0'.repeat(64) } })).toString('base64') }), 'MPP_E_BAD_SIGNATURE');
  add('signature-key-swapped', 'The embedded public key replaced by another key.', withEnvelope({ ...envelope, payload: Buffer.from(JSON.stringify({ ...payload, publicKey: Buffer.from(stranger.publicKey.spki).toString('base64') })).toString('base64') }), 'MPP_E_BAD_SIGNATURE');

  // A flipped bit in each entry of a valid, signed package.
  add('flip-component', 'One bit flipped in tool.wasm (stored): its CRC-32 no longer matches.', flipAt(valid, dataOffset(valid, 'tool.wasm') + 100), 'MPP_E_CORRUPT_ARCHIVE');
  add('component-crc-wrong', 'tool.wasm intact, its CRC-32 wrong in both headers (other ZIP readers refuse it).', craft(unpack(valid), (e) => (e.name === 'tool.wasm' ? { ...e, central: { crc: 0x12345678 }, local: { crc: 0x12345678 } } : e)), 'MPP_E_CORRUPT_ARCHIVE');
  add('flip-manifest', 'One bit flipped in manifest.json\'s compressed data.', flipAt(valid, dataOffset(valid, 'manifest.json') + 20), 'MPP_E_CORRUPT_ARCHIVE');
  add('flip-signature', 'One bit flipped in the signature entry\'s compressed data.', flipAt(valid, dataOffset(valid, authorSig) + 40), 'MPP_E_CORRUPT_ARCHIVE');
  add('flip-central-name', 'One bit flipped in a file name in the central directory.', flipAt(valid, centralOffset(valid) + 46 + 2), 'MPP_E_UNSAFE_ARCHIVE');
  add('flip-local-crc', 'One bit flipped in a local header\'s CRC-32.', flipAt(valid, 14), 'MPP_E_UNSAFE_ARCHIVE');

  // Layout
  const plain = unpack(valid);
  add('extra-entry', 'An entry the format does not allow (evil.sh).', craft(new Map([...plain, ['evil.sh', Buffer.from('#!/bin/sh\n')]])), 'MPP_E_EXTRA_ENTRY');
  add('renamed-entry', 'README.md renamed to readme.txt.', craft(new Map([...unpack(sign(writeArchive(entriesOf(baseManifest(), { 'README.md': Buffer.from('# r\n') }))))].map(([n, d]) => [n === 'README.md' ? 'readme.txt' : n, d]))), 'MPP_E_EXTRA_ENTRY');
  add('missing-component', 'No tool.wasm.', craft(new Map([...plain].filter(([n]) => n !== 'tool.wasm'))), 'MPP_E_MISSING_ENTRY');
  add('missing-manifest', 'No manifest.json.', craft(new Map([...plain].filter(([n]) => n !== 'manifest.json'))), 'MPP_E_MISSING_ENTRY');
  add('core-module', 'tool.wasm is a core module, not a component.', writeArchive(new Map([['manifest.json', serializeManifest(baseManifest())], ['tool.wasm', Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)]])), 'MPP_E_INVALID_COMPONENT');

  // The tool world (format.md §8): every package below is signed by the trusted author.
  // signPackage examines what it signs (and would refuse these): sign by hand.
  const withComponent = (component: Uint8Array) => {
    const entries = new Map([['manifest.json', serializeManifest(baseManifest())], ['tool.wasm', component]]);
    const digest = packageDigest([...readArchive(writeArchive(entries)).values()]).sha256;
    entries.set(authorSig, createEnvelope(author, 'author', baseManifest(), digest));
    return writeArchive(entries);
  };
  const real = vectorComponent();
  add('world-compatible-version', 'The component imports mpp:tool/log@0.1.9: a semver-compatible version of the world\'s 0.1.0 is accepted.', withComponent(renamed('import', 'mpp:tool/log@0.1.0', 'mpp:tool/log@0.1.9')), accept);
  add('world-signed-core-module', 'A signed package whose tool.wasm is a WebAssembly core module.', withComponent(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)), 'MPP_E_INVALID_COMPONENT');
  add('world-not-wasm', 'tool.wasm is not WebAssembly at all.', withComponent(Buffer.from('#!/bin/sh\necho not a component\n')), 'MPP_E_INVALID_COMPONENT');
  add('world-component-truncated', 'The component cut in half: its last section runs past the end of the file.', withComponent(real.subarray(0, real.length >> 1)), 'MPP_E_INVALID_COMPONENT');
  add('world-unknown-section', 'A section with an id the component format does not define (13) after the valid ones.', withComponent(Buffer.concat([real, Uint8Array.of(13, 1, 0)])), 'MPP_E_INVALID_COMPONENT');
  add('world-layer-2', 'A component header with layer 2, which no host reads.', withComponent(Buffer.concat([real.subarray(0, 6), Uint8Array.of(2, 0), real.subarray(8)])), 'MPP_E_INVALID_COMPONENT');
  add('world-import-not-allowed', 'The component imports mpp:tool/net@0.1.0, an interface the tool world does not list.', withComponent(renamed('import', 'mpp:tool/log@0.1.0', 'mpp:tool/net@0.1.0')), 'MPP_E_IMPORT_NOT_ALLOWED');
  add('world-import-wrong-version', 'The component imports mpp:tool/log@0.2.0: not semver-compatible with the world\'s 0.1.0.', withComponent(renamed('import', 'mpp:tool/log@0.1.0', 'mpp:tool/log@0.2.0')), 'MPP_E_IMPORT_NOT_ALLOWED');
  add('world-import-unversioned', 'The component imports a WASI interface without a version (wasi:random/random).', withComponent(renamed('import', 'mpp:tool/log@0.1.0', 'wasi:random/random')), 'MPP_E_IMPORT_NOT_ALLOWED');
  add('world-handler-wrong-version', 'The component exports mpp:tool/handler@1.1.0 instead of 0.1.x.', withComponent(renamed('export', 'mpp:tool/handler@0.1.0', 'mpp:tool/handler@1.1.0')), 'MPP_E_EXPORT_NOT_ALLOWED');
  add('world-extra-export', 'The component exports another interface (mpp:tool/monitor@0.1.0) in place of the handler.', withComponent(renamed('export', 'mpp:tool/handler@0.1.0', 'mpp:tool/monitor@0.1.0')), 'MPP_E_EXPORT_NOT_ALLOWED');
  add('world-handler-missing', 'The component has no top-level export at all.', withComponent(withoutSections(11)), 'MPP_E_HANDLER_MISSING');
  // Synchronous only (format.md §8): component-model async lets guest code run after its call returned.
  const withCanon = (body: number[]) => withComponent(Buffer.concat([real, Uint8Array.of(8, ...leb128(body.length), ...body)]));
  add('world-async-lift', 'A canon lift with the async option (component-model async), after the valid sections.', withCanon([1, 0x00, 0x00, 0x00, 1, 0x06, 0x00]), 'MPP_E_INVALID_COMPONENT');
  add('world-task-return', 'A canon task.return built-in (component-model async), after the valid sections.', withCanon([1, 0x09, 0x01, 0x00, 0x00]), 'MPP_E_INVALID_COMPONENT');
  const nested = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 8, 4, 1, 0x0e, 0x00, 0x00];
  add('world-nested-stream', 'A nested component whose canon section makes a stream (stream.new), after the valid sections.', withComponent(Buffer.concat([real, Uint8Array.of(4, ...leb128(nested.length), ...nested)])), 'MPP_E_INVALID_COMPONENT');

  // Names
  const named = (name: string, extra: Partial<CraftEntry> = {}) => craftZip([...[...plain].map(([n, data]) => ({ name: n, data, method: n === 'tool.wasm' ? 0 : 8 })), { name, data: Buffer.from('x'), ...extra }]);
  add('name-traversal', 'An entry named ../evil.', named('../evil'), 'MPP_E_UNSAFE_ARCHIVE');
  add('name-absolute', 'An entry named /etc/passwd.', named('/etc/passwd'), 'MPP_E_UNSAFE_ARCHIVE');
  add('name-backslash', 'An entry name with a backslash.', named('signatures\\evil.json'), 'MPP_E_UNSAFE_ARCHIVE');
  add('name-control', 'An entry name with a control character.', named('READ\u0007ME.md'), 'MPP_E_UNSAFE_ARCHIVE');
  add('name-not-nfc', 'An entry name not in Unicode NFC.', named('cafe\u0301.md'), 'MPP_E_UNSAFE_ARCHIVE');
  add('name-drive', 'An entry name with a drive letter.', named('C:/evil'), 'MPP_E_UNSAFE_ARCHIVE');
  add('directory-entry', 'A directory entry signatures/.', named('signatures/'), 'MPP_E_UNSAFE_ARCHIVE');
  add('symlink-entry', 'README.md stored as a symlink to /etc/passwd.', named('README.md', { data: Buffer.from('/etc/passwd'), method: 0, externalAttrs: (0o120777 << 16) >>> 0 }), 'MPP_E_UNSAFE_ARCHIVE');
  add('duplicate-entry', 'manifest.json twice (first and second copies differ).', named('manifest.json', { data: serializeManifest(baseManifest({ description: 'the other copy' })) }), 'MPP_E_UNSAFE_ARCHIVE');
  add('duplicate-case', 'README.md and readme.md: the same file on case-insensitive systems.', craft(new Map([...plain, ['README.md', Buffer.from('a')], ['readme.md', Buffer.from('b')]])), 'MPP_E_UNSAFE_ARCHIVE');

  // Structure
  add('encrypted-entry', 'An entry flagged as encrypted.', craft(plain, (e) => (e.name === 'manifest.json' ? { ...e, flags: 0x0001 } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  add('data-descriptor', 'An entry whose sizes are in a trailing data descriptor.', craft(plain, (e) => (e.name === 'manifest.json' ? { ...e, flags: 0x0008 } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  add('method-bzip2', 'An entry compressed with bzip2 (method 12).', craft(plain, (e) => (e.name === 'manifest.json' ? { ...e, method: 12, compressed: Buffer.from('BZh9') } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  add('header-name-mismatch', 'Local header says README.MD, central directory says README.md.', craft(new Map([...plain, ['README.md', Buffer.from('# hi\n')]]), (e) => (e.name === 'README.md' ? { ...e, local: { name: 'README.MD' } } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  add('header-size-mismatch', 'Local and central headers disagree about the size of tool.wasm.', craft(plain, (e) => (e.name === 'tool.wasm' ? { ...e, local: { size: 10, compressedSize: 10 } } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  add('unicode-path-extra', 'An Info-ZIP Unicode Path extra field naming another file.', craft(plain, (e) => (e.name === 'manifest.json' ? { ...e, extra: Buffer.concat([Buffer.from([0x75, 0x70, 9, 0, 1, 0, 0, 0, 0]), Buffer.from('evil')]).subarray(0, 13) } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  add('entry-comment', 'An entry carrying a comment.', craft(plain, (e) => (e.name === 'tool.wasm' ? { ...e, comment: Buffer.from('hidden') } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  add('prefix-data', 'Bytes before the first entry (a polyglot file), offsets adjusted.', craft(plain, undefined, { prefix: Buffer.from('#!/bin/sh\necho pwned\nexit 0\n') }), 'MPP_E_UNSAFE_ARCHIVE');
  add('gap-data', 'Hidden bytes between two entries.', craft(plain, undefined, { gapAfter: { 'manifest.json': Buffer.from('hidden payload') } }), 'MPP_E_UNSAFE_ARCHIVE');
  add('trailing-data', 'Bytes appended after the end record.', Buffer.concat([valid, Buffer.from('appended')]), 'MPP_E_UNSAFE_ARCHIVE');
  add('archive-comment', 'An archive comment.', craft(plain, undefined, { eocdComment: Buffer.from('comment') }), 'MPP_E_UNSAFE_ARCHIVE');
  add('overlapping-entries', 'Two central records pointing at the same local entry.', craft(new Map([...plain, ['README.md', Buffer.from('# r\n')]]), (e) => (e.name === 'tool.wasm' ? { ...e, central: { localOffset: 0 } } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  const deflated = deflateRawSync(Buffer.from('{"a":1}'));
  add('deflate-trailing-bytes', 'Bytes hidden after the end of a deflate stream.', craft(new Map([...plain, ['README.md', Buffer.from('{"a":1}')]]), (e) => (e.name === 'README.md' ? { ...e, compressed: Buffer.concat([deflated, Buffer.from('hidden')]) } : e)), 'MPP_E_UNSAFE_ARCHIVE');
  const lyingComment = new Uint8Array(valid);
  lyingComment[lyingComment.length - 2] = 5;
  add('eocd-comment-length', 'The end record declares a 5-byte comment that is not there.', lyingComment, 'MPP_E_UNSAFE_ARCHIVE');
  add('zip64-marker', 'An end record with ZIP64 markers.', craft(plain, undefined, { eocdCount: 0xffff }), 'MPP_E_UNSAFE_ARCHIVE');

  // Limits and bombs
  const zeros = new Uint8Array(90 * 1024 * 1024);
  add('bomb-ratio', 'tool.wasm declared as 90 MiB of zeros deflated ~1000:1 (refused before inflating).', craft(plain, (e) => (e.name === 'tool.wasm' ? { ...e, data: zeros, method: 8 } : e)), 'MPP_E_ARCHIVE_TOO_LARGE');
  add('bomb-lying-size', 'README.md declares 1 KiB but inflates to 1 MiB.', craft(new Map([...plain, ['README.md', new Uint8Array(1024 * 1024)]]), (e) => (e.name === 'README.md' ? { ...e, central: { size: 1024 }, local: { size: 1024 } } : e)), 'MPP_E_ARCHIVE_TOO_LARGE');
  add('entry-over-limit', 'manifest.json declared larger than its 1 MiB limit.', craft(plain, (e) => (e.name === 'manifest.json' ? { ...e, central: { size: 2 * 1024 * 1024 }, local: { size: 2 * 1024 * 1024 } } : e)), 'MPP_E_ARCHIVE_TOO_LARGE');
  add('too-many-entries', '65 entries (the limit is 64).', craftZip(Array.from({ length: 65 }, (_, i) => ({ name: `signatures/${i.toString(16).padStart(64, '0')}.json`, data: Buffer.from('{}') }))), 'MPP_E_ARCHIVE_TOO_LARGE');
  add('truncated', 'The valid package cut in half.', valid.subarray(0, valid.length >> 1), 'MPP_E_CORRUPT_ARCHIVE');
  add('empty-file', 'Zero bytes.', new Uint8Array(0), 'MPP_E_CORRUPT_ARCHIVE');
  add('not-a-zip', 'A text file.', Buffer.from('this is not a package\n'.repeat(4)), 'MPP_E_CORRUPT_ARCHIVE');

  // Manifest
  const withManifestUnsigned = (text: string) => writeArchive(new Map([['manifest.json', Buffer.from(text)], ['tool.wasm', vectorComponent()]]));
  add('manifest-unknown-field', 'The manifest has a field the schema does not define.', withManifestUnsigned(JSON.stringify({ ...baseManifest(), autoApprove: true })), 'MPP_E_INVALID_MANIFEST');
  add('manifest-bad-version', 'version is not semver.', withManifestUnsigned(JSON.stringify(baseManifest({ version: '1.0' }))), 'MPP_E_INVALID_MANIFEST');
  add('manifest-not-json', 'manifest.json is not JSON.', withManifestUnsigned('name: vectors/hello\n'), 'MPP_E_INVALID_MANIFEST');
  add('manifest-path-escape', 'A filesystem permission with a .. segment.', withManifestUnsigned(JSON.stringify(baseManifest({ permissions: { filesystem: [{ path: '${workspace}/../etc', access: 'read' }] } }))), 'MPP_E_INVALID_MANIFEST');
  add('manifest-duplicate-tool', 'Two tools with the same name.', withManifestUnsigned(JSON.stringify(baseManifest({ tools: [...baseManifest().tools, ...baseManifest().tools] }))), 'MPP_E_INVALID_MANIFEST');
  const manifestText = JSON.stringify(baseManifest());
  add('manifest-duplicate-key', 'The manifest names the package twice ("name" key repeated): parsers would disagree.', withManifestUnsigned(manifestText.replace('"name":"vectors/hello",', '"name":"vectors/hello","name":"vectors/evil",')), 'MPP_E_INVALID_MANIFEST');
  add('manifest-bom', 'manifest.json starts with a UTF-8 byte order mark.', withManifestUnsigned('\ufeff' + manifestText), 'MPP_E_INVALID_MANIFEST');
  add('manifest-format-2', 'A future format version.', withManifestUnsigned(JSON.stringify({ ...baseManifest(), mpp: 2 })), 'MPP_E_UNSUPPORTED_FORMAT');

  return { keys, vectors, files };
}

export const VECTORS_DIR = fileURLToPath(new URL('.', import.meta.url));

export function renderIndex(keys: VectorKey[], vectors: Vector[]): string {
  return JSON.stringify({ version: 1, keys: keys.map(({ privateKeyPem: _p, ...k }) => k), vectors }, null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { assembleComponent } = await import('./assemble.ts');
  mkdirSync(join(VECTORS_DIR, 'components'), { recursive: true });
  writeFileSync(COMPONENT_WASM, await assembleComponent(readFileSync(COMPONENT_WAT, 'utf8')));
  counter = undefined;
  const { keys, vectors, files } = generateVectors();
  mkdirSync(join(VECTORS_DIR, 'packages'), { recursive: true });
  mkdirSync(join(VECTORS_DIR, 'keys'), { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(VECTORS_DIR, 'packages', name), bytes);
  for (const k of keys) {
    writeFileSync(join(VECTORS_DIR, 'keys', `${k.role}.pem`), k.privateKeyPem);
    writeFileSync(join(VECTORS_DIR, 'keys', `${k.role}.pub.pem`), k.publicKeyPem);
  }
  writeFileSync(join(VECTORS_DIR, 'vectors.json'), renderIndex(keys, vectors));
  console.log(`wrote ${vectors.length} vectors to ${VECTORS_DIR}`);
}
