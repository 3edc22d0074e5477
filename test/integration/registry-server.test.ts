/**
 * The registry server under load and abuse, with real sockets on loopback:
 * concurrent publishes, size limits, slow clients, and a kill -9 of a real
 * `mpp registry serve` process in the middle of an upload.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import type { RegistryEntry } from '../../runtime/registry/client/config.ts';
import { publishPackage } from '../../runtime/registry/client/publish.ts';
import { fetchIndex } from '../../runtime/registry/client/signed-index.ts';
import { startRegistry } from '../../runtime/registry/server/http.ts';
import { createToken, registryPaths } from '../../runtime/registry/server/store.ts';
import { homePaths } from '../../runtime/home.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { mpp, tempDir, type CliResult } from '../helpers/cli.ts';
import { baseManifest, fakeComponent, makePackage } from '../helpers/packages.ts';
import { inProcessRegistry, registryBlobs, servedRegistry, stop, useRegistry } from '../helpers/registry.ts';

const key = generateKey();
const pkg = (name: string, version = '1.0.0', size = 1024) => signPackage(makePackage(baseManifest({ name, version }), {}, fakeComponent(size)), key);

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isMppError(e), `expected an MppError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Sends raw bytes and resolves with what the server answered before closing. */
function raw(url: string, request: string | Buffer, opts: { keepOpen?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    if (!opts.keepOpen) socket.setTimeout(30_000, () => reject(new Error('no answer')));
  });
}

describe('registry server', () => {
  it('publishes different names concurrently, each once, all in one consistent index', async (t) => {
    const dir = tempDir(t, 'reg-conc');
    const reg = await inProcessRegistry(t, join(dir, 'registry'));
    const home = join(dir, 'home');
    const entry = await useRegistry(home, reg.dir, reg.url);
    const names = Array.from({ length: 8 }, (_, i) => `acme/tool-${i}`);
    const results = await Promise.all(names.map((n) => publishPackage(entry, pkg(n), reg.token)));
    assert.deepEqual(results.map((r) => r.name).sort(), [...names].sort());
    const { index } = await fetchIndex(home, entry);
    assert.deepEqual(Object.keys(index.packages).sort(), [...names].sort());
    assert.ok(index.version >= names.length + 1, 'every publish took its own index version');
    // Two publishes of the same new name with different keys: exactly one binds it.
    const other = generateKey();
    const race = await Promise.allSettled([
      publishPackage(entry, pkg('acme/contested'), reg.token),
      publishPackage(entry, signPackage(makePackage(baseManifest({ name: 'acme/contested', version: '2.0.0' })), other), reg.token),
    ]);
    assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
    const failed = race.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(failed.reason.code, 'MPP_E_REGISTRY_PUBLISHER_MISMATCH');
  });

  it('refuses packages over the size limit, whether declared or streamed, and keeps working', async (t) => {
    const dir = tempDir(t, 'reg-size');
    const reg = await inProcessRegistry(t, join(dir, 'registry'), { maxPackageBytes: 64 * 1024 });
    const entry: RegistryEntry = await useRegistry(join(dir, 'home'), reg.dir, reg.url);
    const big = pkg('acme/big', '1.0.0', 200 * 1024);
    const declared = await raw(reg.url, Buffer.concat([Buffer.from(`POST /v1/packages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${reg.token}\r\nContent-Length: ${big.length}\r\n\r\n`), big]));
    assert.match(declared, /^HTTP\/1\.1 413 /);
    assert.match(declared, /MPP_E_REGISTRY_TOO_LARGE/);
    const chunked = await raw(reg.url, `POST /v1/packages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${reg.token}\r\nTransfer-Encoding: chunked\r\n\r\n${(100 * 1024).toString(16)}\r\n${'x'.repeat(100 * 1024)}\r\n`);
    assert.match(chunked, /^HTTP\/1\.1 413 /, 'a body without a declared length is cut at the limit');
    assert.deepEqual(readdirSync(registryBlobs(reg.dir)), [], 'nothing of the refused uploads is left');
    const ok = await publishPackage(entry, pkg('acme/small'), reg.token);
    assert.equal(ok.name, 'acme/small');
  });

  it('cuts off a client that sends its request too slowly, and keeps serving others', async (t) => {
    const dir = tempDir(t, 'reg-slow');
    const reg = await inProcessRegistry(t, join(dir, 'registry'), { requestTimeoutMs: 1000 });
    const entry = await useRegistry(join(dir, 'home'), reg.dir, reg.url);
    const { hostname, port } = new URL(reg.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), hostname, () => socket.write(`POST /v1/packages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${reg.token}\r\nContent-Length: 100000\r\n\r\nPK`));
      let text = '';
      // One byte now and then: never enough to finish.
      const drip = setInterval(() => socket.write('x'), 200);
      socket.on('data', (d) => (text += d));
      socket.on('close', () => {
        clearInterval(drip);
        resolve(text);
      });
      socket.on('error', () => undefined);
    });
    assert.match(answer, /^HTTP\/1\.1 408 |^$/, 'answered 408 Request Timeout, or closed');
    // The partial upload is removed once the server has seen the socket close, which may come after the client saw it.
    for (let i = 0; i < 600 && readdirSync(registryBlobs(reg.dir)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(registryBlobs(reg.dir)), [], 'the partial upload is discarded');
    assert.equal((await publishPackage(entry, pkg('acme/after-slow'), reg.token)).name, 'acme/after-slow');
  });

  it('kill -9 of the registry in the middle of an upload leaves nothing visible; the restarted registry works', async (t) => {
    const dir = tempDir(t, 'reg-kill');
    const regDir = join(dir, 'registry');
    const home = join(dir, 'home');
    const first = await servedRegistry(regDir);
    t.after(() => stop(first.child, 'SIGKILL'));
    const token = createToken(regDir, 'test');
    const bytes = pkg('acme/killed', '1.0.0', 256 * 1024);
    const { hostname, port } = new URL(first.url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    socket.write(`POST /v1/packages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${bytes.length}\r\n\r\n`);
    socket.write(bytes.subarray(0, bytes.length / 2));
    // Wait until the server has begun writing the upload to disk, then kill it there.
    const uploading = () => existsSync(registryBlobs(regDir)) && readdirSync(registryBlobs(regDir)).some((n) => n.startsWith('.upload-'));
    for (let i = 0; i < 3_000 && !uploading(); i++) await sleep(20); // up to 60 s on a loaded machine
    assert.ok(uploading(), 'the upload was in progress');
    await stop(first.child, 'SIGKILL');
    socket.destroy();

    const second = await servedRegistry(regDir);
    t.after(() => stop(second.child));
    const entry = await useRegistry(home, regDir, second.url);
    const { index } = await fetchIndex(home, entry);
    assert.deepEqual(Object.keys(index.packages), [], 'no partial package is visible');
    assert.deepEqual(readdirSync(registryBlobs(regDir)), [], 'the partial upload was swept at start');
    const done = await publishPackage(entry, bytes, token);
    assert.equal(done.name, 'acme/killed');
    assert.deepEqual(Object.keys((await fetchIndex(home, entry)).index.packages), ['acme/killed']);
  });

  it('a restarted registry signs a new index version, so clients that saw the old one accept it', async (t) => {
    const dir = tempDir(t, 'reg-restart');
    const home = join(dir, 'home');
    const first = await startRegistry({ dir: join(dir, 'registry'), port: 0 });
    const seen = (await fetchIndex(home, await useRegistry(home, join(dir, 'registry'), first.url))).index.version;
    await first.close();
    const second = await startRegistry({ dir: join(dir, 'registry'), port: 0 });
    t.after(() => second.close());
    const again = await fetchIndex(home, await useRegistry(home, join(dir, 'registry'), second.url));
    assert.ok(again.index.version > seen, `${again.index.version} after ${seen}`);
  });

  it('answers hostile request lines and a taken port with usage errors, and refuses tokens for a folder that is no registry', async (t) => {
    const dir = tempDir(t, 'reg-hostile');
    const reg = await inProcessRegistry(t, join(dir, 'registry'));
    assert.match(await raw(reg.url, 'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 (400|404) /);
    const yank = await fetch(`${reg.url}/v1/packages/acme/x/1.0.0%ZZ/yank`, { method: 'POST', headers: { authorization: `Bearer ${reg.token}` } });
    assert.equal(yank.status, 400);
    assert.equal(((await yank.json()) as { error: { code: string } }).error.code, 'MPP_E_USAGE');
    const { port } = new URL(reg.url);
    await rejectsCode(startRegistry({ dir: join(dir, 'other'), port: Number(port), host: '127.0.0.1' }), 'MPP_E_USAGE');
    assert.throws(() => createToken(join(dir, 'typo'), 'test'), { code: 'MPP_E_USAGE' });
    assert.equal(existsSync(join(dir, 'typo')), false, 'nothing was created for the mistyped folder');
  });

  it('answers unknown routes and bad tokens with coded errors', async (t) => {
    const dir = tempDir(t, 'reg-codes');
    const reg = await inProcessRegistry(t, join(dir, 'registry'));
    const entry = await useRegistry(join(dir, 'home'), reg.dir, reg.url);
    await rejectsCode(publishPackage(entry, pkg('acme/x'), 'mpp_not-a-token'), 'MPP_E_REGISTRY_UNAUTHORIZED');
    const res = await fetch(`${reg.url}/v1/nothing`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'MPP_E_REGISTRY_NOT_FOUND');
  });

  it('a garbage SQLite file stops with a coded error naming it: the server\'s registry.db, and mpp.db, audit.db, registry.db in MPP_HOME', async (t) => {
    const dir = tempDir(t, 'reg-garbage');
    const garbage = Buffer.from('this is not an SQLite database, whatever its name says\n'.repeat(200));
    const refusal = (r: CliResult) => (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;

    const regDir = join(dir, 'registry');
    mkdirSync(regDir, { recursive: true });
    writeFileSync(registryPaths(regDir).db, garbage);
    const served = await mpp(['registry', 'serve', '--dir', regDir, '--port', '0', '--json'], { home: join(dir, 'server-home') });
    assert.equal(served.code, 1, served.stdout + served.stderr);
    assert.equal(refusal(served).code, 'MPP_E_REGISTRY_STORE_CORRUPT');
    assert.ok(refusal(served).message.includes(registryPaths(regDir).db), refusal(served).message);

    const reg = await inProcessRegistry(t, join(dir, 'good-registry'));
    const cases: [keyof ReturnType<typeof homePaths>, string[], string][] = [
      ['db', ['list', '--json'], 'MPP_E_STORE_CORRUPT'],
      ['audit', ['uninstall', 'acme/none', '--json'], 'MPP_E_AUDIT_UNAVAILABLE'],
      ['registryState', ['install', 'acme/tool-a', '--json'], 'MPP_E_REGISTRY_CONFIG_CORRUPT'],
    ];
    for (const [file, args, code] of cases) {
      const home = join(dir, `home-${file}`);
      await useRegistry(home, reg.dir, reg.url);
      if (file === 'registryState') assert.equal((await mpp(['install', 'acme/tool-a', '--json'], { home })).code, 1, 'creates mpp.db, the state and the log');
      writeFileSync(homePaths(home)[file], garbage);
      const r = await mpp(args, { home });
      assert.equal(r.code, 1, `${file}: ${r.stdout}${r.stderr}`);
      assert.equal(refusal(r).code, code, `${file}: ${refusal(r).message}`);
      assert.ok(refusal(r).message.includes(homePaths(home)[file]), `${file}: ${refusal(r).message}`);
    }
  });
});
