/**
 * Update safety against a malicious registry: a small node:http server
 * written here serves crafted, validly signed (or not) indexes and files.
 * Each test is one attack from TUF's threat list, and asserts the refusal
 * code the client must give. The registry's index key is pinned; the
 * publisher's key is trusted as a user would.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import { sha256Hex } from '../../runtime/hash.ts';
import { addRegistry, registryEntry } from '../../runtime/registry/client/config.ts';
import { installFromRegistry } from '../../runtime/registry/client/install.ts';
import { INDEX_KIND, INDEX_PAYLOAD_TYPE, ROTATION_KIND, ROTATION_PAYLOAD_TYPE, createRotation, signDocument, type IndexPackage, type RegistryIndex } from '../../runtime/registry/documents.ts';
import { listInstalled } from '../../runtime/store/packages.ts';
import { examinePackage, verifyPackage } from '../../runtime/trust/gatekeeper.ts';
import { generateKey, type PrivateKey } from '../../runtime/trust/keys.ts';
import { withAuditLog } from '../../runtime/audit/trail.ts';
import type { TransferTiming } from '../../runtime/registry/client/http.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { mpp } from '../helpers/cli.ts';
import { addTrustedKey, revokeKey } from '../helpers/trust.ts';
import { tempDir } from '../helpers/cli.ts';
import { exampleBuild, examplePackage, type ExampleBuild } from '../helpers/installable.ts';

const NAME = 'mpp-examples/hello';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The hostile registry: whatever the test puts in `routes`. */
async function evilRegistry(t: { after(fn: () => unknown): void }): Promise<{ url: string; routes: Map<string, Handler> }> {
  const routes = new Map<string, Handler>();
  const server = createServer((req, res) => {
    const handler = routes.get(req.url ?? '');
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, routes };
}

const bytesOf = (body: Uint8Array): Handler => (_req, res) => res.writeHead(200, { 'content-length': body.length }).end(body);

async function rejectsCode(p: Promise<unknown>, code: string, why: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isMppError(e), `${why}: expected an MppError, got ${String(e)}`);
    assert.equal(e.code, code, `${why}: ${e.message}`);
    return true;
  });
}

describe('a malicious registry', () => {
  let build: ExampleBuild;
  const publisher = generateKey();
  const files = new Map<string, Uint8Array>();

  before(async () => {
    build = await exampleBuild();
    for (const v of ['1.0.0', '1.1.0', '2.0.0']) files.set(v, examplePackage(build, publisher, { version: v }));
  });

  /** A fresh home trusting the publisher and pinning `registryKey` for the evil registry; blobs served at their addresses. */
  async function setup(t: { after(fn: () => unknown): void }, registryKey: PrivateKey) {
    const home = join(tempDir(t, 'evil'), 'home');
    const evil = await evilRegistry(t);
    await addTrustedKey(home, publisher.publicKey, 'Examples');
    await addRegistry(home, registryEntry({ name: 'evil', url: evil.url, key: registryKey.publicKey, priority: 0, scopes: [] }));
    for (const file of files.values()) evil.routes.set(`/v1/blobs/sha256/${sha256Hex(file)}`, bytesOf(file));
    const serveIndex = (doc: RegistryIndex, key = registryKey) => evil.routes.set('/v1/index', bytesOf(signDocument(key, INDEX_PAYLOAD_TYPE, doc)));
    const install = (range = '*', extra: { allowDowngrade?: boolean; timeoutMs?: number; transfer?: TransferTiming } = {}) =>
      withAuditLog(home, (audit) =>
        installFromRegistry(home, NAME, {
          range,
          allowDowngrade: Boolean(extra.allowDowngrade),
          transfer: extra.transfer ?? { timeoutMs: extra.timeoutMs ?? 20_000, idleTimeoutMs: extra.timeoutMs ?? 20_000 },
          audit,
          verify: async (bytes, trust) => verifyPackage(bytes, trust),
        }),
      );
    return { home, evil, serveIndex, install };
  }

  function entry(file: Uint8Array, over: Partial<IndexPackage['versions'][string]> = {}) {
    return { sha256: sha256Hex(file), size: file.length, digest: examinePackage(file).digest.sha256, publisher: publisher.publicKey.keyid, yanked: false, publishedAt: '2026-01-01T00:00:00.000Z', ...over };
  }

  function index(version: number, versions: string[], over: Partial<RegistryIndex> = {}, pkg: Partial<IndexPackage> = {}): RegistryIndex {
    return {
      _type: INDEX_KIND,
      version,
      issuedAt: new Date().toISOString(),
      expires: new Date(Date.now() + 3600_000).toISOString(),
      packages: { [NAME]: { keys: [publisher.publicKey.keyid], rotations: [], versions: Object.fromEntries(versions.map((v) => [v, entry(files.get(v)!)])), ...pkg } },
      ...over,
    };
  }

  it('rollback: an older index, the same version with other content, or a version seen before gone, are refused; never a downgrade', async (t) => {
    const registryKey = generateKey();
    const { home, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(5, ['1.0.0', '1.1.0']));
    assert.equal((await install()).version, '1.1.0');
    serveIndex(index(4, ['1.0.0', '1.1.0']));
    await rejectsCode(install(), 'MPP_E_REGISTRY_ROLLBACK', 'an index older than one seen');
    serveIndex(index(5, ['1.0.0']));
    await rejectsCode(install(), 'MPP_E_REGISTRY_ROLLBACK', 'the same index version with other content');
    serveIndex(index(6, ['1.0.0']));
    await rejectsCode(install(), 'MPP_E_REGISTRY_ROLLBACK', 'a newer index that drops a version seen before');
    // A registry that yanks the installed version offers a lower one: not without the user saying so.
    const yanked = index(7, ['1.0.0', '1.1.0']);
    (yanked.packages[NAME]!.versions as Record<string, { yanked: boolean }>)['1.1.0']!.yanked = true;
    serveIndex(yanked);
    await rejectsCode(install(), 'MPP_E_REGISTRY_DOWNGRADE', 'a lower version than installed');
    assert.equal((await install('*', { allowDowngrade: true })).change, 'downgraded');
    assert.equal(listInstalled(home)[0]!.version, '1.0.0');
  });

  it('freeze: an expired index is refused, however validly signed', async (t) => {
    const registryKey = generateKey();
    const { install, serveIndex } = await setup(t, registryKey);
    serveIndex(index(3, ['1.0.0'], { expires: new Date(Date.now() - 1000).toISOString() }));
    await rejectsCode(install(), 'MPP_E_REGISTRY_EXPIRED', 'an expired index');
  });

  it('mix-and-match: a file other than the one the signed index names is refused', async (t) => {
    const registryKey = generateKey();
    const { evil, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(1, ['1.1.0']));
    // The address of 1.1.0 answers with other bytes of exactly the indexed size (a longer
    // file would be cut off as endless data first: the size check runs while downloading).
    const other = Buffer.from(files.get('1.1.0')!);
    other[other.length >> 1]! ^= 0xff;
    evil.routes.set(`/v1/blobs/sha256/${sha256Hex(files.get('1.1.0')!)}`, bytesOf(other));
    await rejectsCode(install(), 'MPP_E_REGISTRY_MISMATCH', 'another file at the signed address');
  });

  it('wrong or arbitrary package: the index names one package, the file holds another', async (t) => {
    const registryKey = generateKey();
    const { serveIndex, install } = await setup(t, registryKey);
    // A compromised index key binds 2.0.0 to the file of 1.0.0 (correct hash and size, wrong package).
    const doc = index(1, ['2.0.0']);
    (doc.packages[NAME]!.versions as Record<string, unknown>)['2.0.0'] = entry(files.get('1.0.0')!);
    serveIndex(doc);
    await rejectsCode(install(), 'MPP_E_REGISTRY_MISMATCH', 'a package other than the one indexed');
    // An arbitrary package by an attacker, indexed under the name and bound to the attacker's key: the gatekeeper does not trust it.
    const fresh = await setup(t, registryKey);
    const attacker = generateKey();
    const evilFile = examplePackage(build, attacker, { version: '3.0.0' });
    fresh.evil.routes.set(`/v1/blobs/sha256/${sha256Hex(evilFile)}`, bytesOf(evilFile));
    const doc2 = index(1, [], {}, { keys: [attacker.publicKey.keyid] });
    (doc2.packages[NAME]!.versions as Record<string, unknown>)['3.0.0'] = entry(evilFile, { publisher: attacker.publicKey.keyid });
    fresh.serveIndex(doc2);
    await rejectsCode(fresh.install(), 'MPP_E_UNTRUSTED_KEY', 'an arbitrary package by an untrusted key');
  });

  it('wrong publisher: a trusted key that is not the name\'s (and not a rotation of it) cannot take the name over', async (t) => {
    const registryKey = generateKey();
    const { home, evil, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(1, ['1.0.0']));
    assert.equal((await install()).version, '1.0.0');
    const other = generateKey();
    await addTrustedKey(home, other.publicKey, 'Someone else the user also trusts');
    const takeover = examplePackage(build, other, { version: '1.5.0' });
    evil.routes.set(`/v1/blobs/sha256/${sha256Hex(takeover)}`, bytesOf(takeover));
    const doc = index(2, ['1.0.0'], {}, { keys: [publisher.publicKey.keyid, other.publicKey.keyid], rotations: [] });
    (doc.packages[NAME]!.versions as Record<string, unknown>)['1.5.0'] = entry(takeover, { publisher: other.publicKey.keyid });
    serveIndex(doc);
    await rejectsCode(install(), 'MPP_E_REGISTRY_PUBLISHER_MISMATCH', 'a key change without a rotation statement');
    // A rotation statement naming the bound key, but signed by another key, does not count.
    const forged = signDocument(other, ROTATION_PAYLOAD_TYPE, {
      _type: ROTATION_KIND,
      from: publisher.publicKey.keyid,
      fromPublicKey: Buffer.from(publisher.publicKey.spki).toString('base64'),
      to: other.publicKey.keyid,
      toPublicKey: Buffer.from(other.publicKey.spki).toString('base64'),
      issuedAt: new Date().toISOString(),
    });
    serveIndex({ ...doc, version: 3, packages: { [NAME]: { ...doc.packages[NAME]!, rotations: [forged.toString('utf8')] } } });
    await rejectsCode(install(), 'MPP_E_REGISTRY_BAD_SIGNATURE', 'a rotation not signed by the bound key');
    // The bound key was stolen and used to sign a real rotation to the thief's key; the user revoked it: the hand-over is refused.
    const thief = generateKey();
    const stolen = examplePackage(build, thief, { version: '9.0.0' });
    evil.routes.set(`/v1/blobs/sha256/${sha256Hex(stolen)}`, bytesOf(stolen));
    const doc4 = index(4, ['1.0.0'], {}, { keys: [publisher.publicKey.keyid, thief.publicKey.keyid], rotations: [createRotation(publisher, thief.publicKey).toString('utf8')] });
    (doc4.packages[NAME]!.versions as Record<string, unknown>)['1.5.0'] = entry(takeover, { publisher: other.publicKey.keyid, yanked: true });
    (doc4.packages[NAME]!.versions as Record<string, unknown>)['9.0.0'] = entry(stolen, { publisher: thief.publicKey.keyid });
    serveIndex(doc4);
    await revokeKey(home, publisher.publicKey.keyid, 'stolen');
    await rejectsCode(install(), 'MPP_E_REVOKED_KEY', 'a revoked key hands nothing over');
  });

  it('key compromise: a package signed by a revoked key is refused, and an index signed by another key than the pinned one', async (t) => {
    const registryKey = generateKey();
    const { home, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(1, ['1.0.0']), generateKey());
    await rejectsCode(install(), 'MPP_E_REGISTRY_BAD_SIGNATURE', 'an index signed by a key other than the pinned one');
    serveIndex(index(1, ['1.0.0']));
    await revokeKey(home, publisher.publicKey.keyid, 'compromised');
    await rejectsCode(install(), 'MPP_E_REVOKED_KEY', 'a package by a revoked key');
  });

  it('endless data: a file longer than the signed size, or an endless index, is cut off', async (t) => {
    const registryKey = generateKey();
    const { evil, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(1, ['1.0.0']));
    const file = files.get('1.0.0')!;
    // No Content-Length: only the streaming limit can stop it.
    evil.routes.set(`/v1/blobs/sha256/${sha256Hex(file)}`, (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (res.write(chunk)) { /* fill the socket */ }
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      pump();
    });
    await rejectsCode(install(), 'MPP_E_REGISTRY_TOO_LARGE', 'a download past the signed size');
    evil.routes.set('/v1/index', (_req, res) => res.writeHead(200, { 'content-length': 1 << 30 }).end('{'));
    await rejectsCode(install(), 'MPP_E_REGISTRY_TOO_LARGE', 'an index that announces a gigabyte');
  });

  it('slow retrieval: a registry that trickles or stalls is cut off by the time limits', async (t) => {
    const registryKey = generateKey();
    const { evil, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(1, ['1.0.0']));
    const file = files.get('1.0.0')!;
    evil.routes.set(`/v1/blobs/sha256/${sha256Hex(file)}`, (_req, res) => {
      res.writeHead(200, { 'content-length': file.length });
      let off = 0;
      const timer = setInterval(() => res.write(file.subarray(off, (off += 16))), 50);
      res.on('close', () => clearInterval(timer));
    });
    await rejectsCode(install('*', { timeoutMs: 1500 }), 'MPP_E_REGISTRY_TIMEOUT', 'a trickling download');
    evil.routes.set('/v1/index', () => undefined); // never answers
    await rejectsCode(install('*', { timeoutMs: 1000 }), 'MPP_E_REGISTRY_TIMEOUT', 'an index that never comes');
  });

  it('slow retrieval by drip-feeding: a registry that never goes idle is cut off by its progress, not by the total limit', async (t) => {
    const registryKey = generateKey();
    const { evil, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(1, ['1.0.0']));
    const file = files.get('1.0.0')!;
    // A few bytes often enough that the idle limit never fires; the total limit is far away.
    evil.routes.set(`/v1/blobs/sha256/${sha256Hex(file)}`, (_req, res) => {
      res.writeHead(200, { 'content-length': file.length });
      let off = 0;
      const timer = setInterval(() => res.write(file.subarray(off, (off += 8))), 20);
      res.on('close', () => clearInterval(timer));
    });
    const bounds = { timeoutMs: 3_600_000, idleTimeoutMs: 3_600_000, minBytesPerSecond: 1024 * 1024, rateGraceMs: 200 };
    await rejectsCode(install('*', { transfer: bounds }), 'MPP_E_REGISTRY_TIMEOUT', 'a drip-fed download');
  });

  it('a rotation seen during an install is trusted only once the install passed every check, and audited', async (t) => {
    const registryKey = generateKey();
    const { home, evil, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(1, ['1.0.0']));
    assert.equal((await install()).version, '1.0.0');
    const next = generateKey();
    const moved = examplePackage(build, next, { version: '3.0.0' });
    evil.routes.set(`/v1/blobs/sha256/${sha256Hex(moved)}`, bytesOf(moved));
    const rotated = (version: number, over: Partial<IndexPackage['versions'][string]>) => {
      const doc = index(version, ['1.0.0'], {}, { keys: [publisher.publicKey.keyid, next.publicKey.keyid], rotations: [createRotation(publisher, next.publicKey).toString('utf8')] });
      (doc.packages[NAME]!.versions as Record<string, unknown>)['3.0.0'] = entry(moved, { publisher: next.publicKey.keyid, ...over });
      return doc;
    };
    // A valid hand-over, but the package is not the one the index names: refused after the gatekeeper.
    serveIndex(rotated(2, { digest: 'f'.repeat(64) }));
    await rejectsCode(install(), 'MPP_E_REGISTRY_MISMATCH', 'the file is not what the index names');
    assert.equal(TrustStore.load(home).state(next.publicKey.keyid), 'unknown', 'a failed install leaves the trust store as it was');
    serveIndex(rotated(3, {}));
    const r = await install();
    assert.deepEqual([r.version, r.trustedByRotation], ['3.0.0', next.publicKey.keyid]);
    assert.equal(TrustStore.load(home).name(next.publicKey.keyid), 'Examples');
    const trust = await mpp(['audit', '--type', 'trust', '--json'], { home });
    const events = (JSON.parse(trust.stdout) as { records: { event: { keyid: string; via?: string; from?: string } }[] }).records.map((x) => x.event);
    assert.deepEqual(events.map((e) => [e.keyid, e.via, e.from]), [[publisher.publicKey.keyid, 'command', undefined], [next.publicKey.keyid, 'rotation', publisher.publicKey.keyid]]);
  });

  it('mpp update of every package exits 1 when one was refused (a rollback must never look like success), and audits it', async (t) => {
    const registryKey = generateKey();
    const { home, serveIndex, install } = await setup(t, registryKey);
    serveIndex(index(5, ['1.0.0']));
    assert.equal((await install()).version, '1.0.0');
    serveIndex(index(4, ['1.0.0', '1.1.0']));
    const r = await mpp(['update', '--json'], { home });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const error = (JSON.parse(r.stdout) as { ok: boolean; error: { code: string; detail: { kept: { name: string; code: string }[] } } }).error;
    assert.equal(error.code, 'MPP_E_UPDATE_INCOMPLETE');
    assert.deepEqual(error.detail.kept.map((k) => [k.name, k.code]), [[NAME, 'MPP_E_REGISTRY_ROLLBACK']]);
    const human = await mpp(['update'], { home });
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^Not updated mpp-examples\/hello: MPP_E_REGISTRY_ROLLBACK /m);
    assert.match(human.stderr, /error MPP_E_UPDATE_INCOMPLETE: 1 package was not updated: mpp-examples\/hello \(MPP_E_REGISTRY_ROLLBACK\)/);
    const audited = await mpp(['audit', '--type', 'verify', '--json'], { home });
    const refusals = (JSON.parse(audited.stdout) as { records: { event: { outcome: string; code?: string; package?: string } }[] }).records.map((x) => x.event);
    assert.deepEqual(refusals.map((e) => [e.outcome, e.code, e.package]), [['fail', 'MPP_E_REGISTRY_ROLLBACK', NAME], ['fail', 'MPP_E_REGISTRY_ROLLBACK', NAME]]);
    assert.equal(listInstalled(home)[0]!.version, '1.0.0');
  });
});
