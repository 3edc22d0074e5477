/**
 * What a long-running host keeps between calls (spec/sandbox.md §5), each
 * read as it is now. Verified bytes: the same immutable bytes are not verified
 * again on every call, but bytes read from disk again are, by hash and
 * signature — after an update, a trust-store change, or in a new host — and
 * file metadata is never taken as evidence. The install index and the grant
 * store held open: every commit of another connection is read by the next
 * call. A kept sandbox whose granted folder was replaced: dropped.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homePaths } from '../../runtime/home.ts';
import { describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { blobPath } from '../../runtime/store/blobs.ts';
import { KeptPackages } from '../../runtime/store/kept-packages.ts';
import { sha256Hex } from '../../runtime/hash.ts';
import { prepareComponent } from '../../runtime/sandbox/index.ts';
import type { AuditEvent } from '../../runtime/audit/events.ts';
import { grantPermissions, revokePermissions } from '../../runtime/governance/decisions.ts';
import { ToolHost } from '../../runtime/governance/tool-host.ts';
import { DEFAULT_POOL_OPTIONS, SandboxPool } from '../../runtime/run/sandbox-pool.ts';
import { workspaceScope } from '../../runtime/state/grants.ts';
import { installPackage, uninstallPackage } from '../../runtime/store/packages.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { addTrustedKey, revokeKey } from '../helpers/trust.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { tempDir } from '../helpers/cli.ts';

const any = { type: 'object' } as const;

describe('verified packages kept by a long-running host', () => {
  it('runs from the kept bytes until the installed file or the trust store changes, then verifies again', async (t) => {
    const home = tempDir(t, 'kept-packages');
    const key = generateKey();
    await addTrustedKey(home, key.publicKey, 'Probes');
    const component = await fixtureComponent('echo');
    const install = async (version: string) => {
      const m: Manifest = { mpp: 1, name: 'probes/kept', version, description: 'A probe.', publisher: { name: 'Probes' }, tools: [{ name: 'echo', description: 'Echo.', sensitivity: 'none', inputSchema: any, outputSchema: any }] };
      return installPackage(home, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key), { trust: TrustStore.load(home) });
    };
    const first = await install('1.0.0');
    const kept = new KeptPackages(4);
    const a = kept.load(home, 'probes/kept', TrustStore.load(home));
    assert.equal(kept.load(home, 'probes/kept', TrustStore.load(home)), a, 'the same bytes are not read or verified again');

    // The file on disk is damaged: a host holding the verified bytes runs from them...
    const blob = blobPath(home, first.fileSha256);
    chmodSync(blob, 0o644);
    writeFileSync(blob, Buffer.from('not a package'));
    assert.equal(kept.load(home, 'probes/kept', TrustStore.load(home)), a);
    // ...a new host reads them from disk and refuses them, whatever their metadata says.
    assert.throws(() => new KeptPackages(4).load(home, 'probes/kept', TrustStore.load(home)), (e: unknown) => isMppError(e) && e.code === 'MPP_E_STORE_CORRUPT');

    // An update installs another file under the name: read and verified again.
    await install('1.1.0');
    const b = kept.load(home, 'probes/kept', TrustStore.load(home));
    assert.notEqual(b, a);
    assert.equal(b.pkg.manifest.version, '1.1.0');

    // A revoked key: the kept bytes are verified again, and refused.
    await revokeKey(home, key.publicKey.keyid, 'compromised');
    assert.throws(() => kept.load(home, 'probes/kept', TrustStore.load(home)), (e: unknown) => isMppError(e) && e.code === 'MPP_E_REVOKED_KEY');
  });

  it('reads the install index it holds open as it is now: an uninstall, a reinstall and a new MPP home at the same path are seen', async (t) => {
    const home = tempDir(t, 'kept-index');
    const key = generateKey();
    const component = await fixtureComponent('echo');
    const install = async (version: string) => {
      const m: Manifest = { mpp: 1, name: 'probes/held', version, description: 'A probe.', publisher: { name: 'Probes' }, tools: [{ name: 'echo', description: 'Echo.', sensitivity: 'none', inputSchema: any, outputSchema: any }] };
      return installPackage(home, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key), { trust: TrustStore.load(home) });
    };
    const notInstalled = (e: unknown) => isMppError(e) && e.code === 'MPP_E_NOT_INSTALLED';
    const kept = new KeptPackages(4);
    t.after(() => kept.clear());
    // No index yet: nothing is created, the package is not installed.
    assert.throws(() => kept.load(home, 'probes/held', TrustStore.load(home)), notInstalled);
    await addTrustedKey(home, key.publicKey, 'Probes');
    await install('1.0.0');
    assert.equal(kept.load(home, 'probes/held', TrustStore.load(home)).pkg.manifest.version, '1.0.0');
    await uninstallPackage(home, 'probes/held');
    assert.throws(() => kept.load(home, 'probes/held', TrustStore.load(home)), notInstalled, 'an uninstall by another connection is seen at once');
    await install('1.2.0');
    assert.equal(kept.load(home, 'probes/held', TrustStore.load(home)).pkg.manifest.version, '1.2.0');
    // The whole home replaced by a new one at the same path: the held handle is not the file there now.
    // The same trust store comes back with it (byte for byte), so only the index tells the kept bytes are stale.
    const trustFile = readFileSync(homePaths(home).trust);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(dirname(homePaths(home).trust), { recursive: true });
    writeFileSync(homePaths(home).trust, trustFile);
    await install('2.0.0');
    assert.equal(kept.load(home, 'probes/held', TrustStore.load(home)).pkg.manifest.version, '2.0.0');
    rmSync(home, { recursive: true, force: true });
    assert.throws(() => kept.load(home, 'probes/held', TrustStore.load(home)), notInstalled);
  });

  it('refuses an MPP home that is not a folder with a coded error, from the held index as from a fresh open', (t) => {
    const home = join(tempDir(t, 'kept-not-a-folder'), 'home');
    writeFileSync(home, 'a file where the MPP home should be');
    const kept = new KeptPackages(4);
    t.after(() => kept.clear());
    assert.throws(() => kept.load(home, 'probes/any', new TrustStore([])), (e: unknown) => isMppError(e) && e.hint !== undefined);
  });

  it('reads the grant store it holds open as it is now: a grant, a revoke and a new MPP home at the same path are seen', async (t) => {
    const home = tempDir(t, 'held-grants');
    const ws = tempDir(t, 'held-grants-ws');
    const key = generateKey();
    const component = await fixtureComponent('echo');
    const install = async () => {
      await addTrustedKey(home, key.publicKey, 'Probes');
      const m: Manifest = { mpp: 1, name: 'probes/granted', version: '1.0.0', description: 'A probe.', publisher: { name: 'Probes' }, permissions: { environment: [{ name: 'PROBE_TOKEN' }] }, tools: [{ name: 'echo', description: 'Echo.', sensitivity: 'none', inputSchema: any, outputSchema: any }] };
      await installPackage(home, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key), { trust: TrustStore.load(home) });
    };
    const records: AuditEvent[] = [];
    const audit = (e: AuditEvent) => void records.push(e);
    const pool = new SandboxPool(DEFAULT_POOL_OPTIONS);
    t.after(() => pool.dispose());
    const host = new ToolHost({ home, audit, auditGrouped: audit, sandboxes: pool, env: { PROBE_TOKEN: 'token' } });
    const call = () => host.call({ target: { installed: 'probes/granted' }, tool: 'echo', input: '{"a":1}', caller: { label: 'test' }, workspace: ws });
    const consentRequired = (e: unknown) => isMppError(e) && e.code === 'MPP_E_CONSENT_REQUIRED';
    const grant = () => grantPermissions(home, { package: 'probes/granted', capabilities: 'all', scope: workspaceScope(ws), source: 'cli' }, audit);
    await install();
    await assert.rejects(call(), consentRequired);
    grant();
    assert.deepEqual((await call()).output, { tool: 'echo', input: { a: 1 } }, 'a grant another connection committed is read by the next call');
    revokePermissions(home, { package: 'probes/granted', capabilities: 'all', scope: 'all' }, audit);
    await assert.rejects(call(), consentRequired, 'a revoke is read by the next call');
    grant();
    await call();
    // A new MPP home at the same path, the same package installed, nothing granted: the held handle is not the file there now.
    rmSync(home, { recursive: true, force: true });
    await install();
    await assert.rejects(call(), consentRequired);
  });

  it('gives back, once the last sandbox of a component idles out, its kept package and compiled modules; not while another sandbox of it is kept', async (t) => {
    const home = tempDir(t, 'kept-idle');
    const ws = tempDir(t, 'kept-idle-ws');
    const key = generateKey();
    await addTrustedKey(home, key.publicKey, 'Probes');
    const component = await fixtureComponent('echo');
    const m: Manifest = { mpp: 1, name: 'probes/idle', version: '1.0.0', description: 'A probe.', publisher: { name: 'Probes' }, tools: [{ name: 'echo', description: 'Echo.', sensitivity: 'none', inputSchema: any, outputSchema: any }] };
    const installed = await installPackage(home, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key), { trust: TrustStore.load(home) });
    const audit = () => {};
    const pool = new SandboxPool({ max: 4, idleMs: 1000 });
    t.after(() => pool.dispose());
    const host = new ToolHost({ home, audit, auditGrouped: audit, sandboxes: pool });
    const call = async () => (await host.call({ target: { installed: 'probes/idle' }, tool: 'echo', input: '{"a":1}', caller: { label: 'test' }, workspace: ws })).output;
    const cacheDir = homePaths(home).componentCache;
    const compiled = async () => (await prepareComponent(component, { cacheDir, memoryBytes: 64 * 1024 * 1024 })).modules;
    const until = async (what: () => boolean) => {
      while (!what()) await new Promise((r) => setTimeout(r, 20));
    };

    const echoed = { tool: 'echo', input: { a: 1 } };
    assert.deepEqual(await call(), echoed);
    // A second sandbox of the same component under another grant (another key), kept busy below.
    const other = { component, componentDigest: sha256Hex(component), grant: { fs: [], net: [], env: {}, limits: { timeoutMs: 5000, memoryBytes: 64 * 1024 * 1024 } }, cacheDir };
    const callOther = () => pool.call('other', other, { log: () => {} }, 'echo', '{"b":2}');
    assert.deepEqual(JSON.parse(await callOther()), { tool: 'echo', input: { b: 2 } });
    const modules = await compiled();
    assert.equal(await compiled(), modules, 'compiled once, remembered');
    // The installed file is damaged: a kept package runs from its verified bytes; one read again is refused.
    chmodSync(blobPath(home, installed.fileSha256), 0o644);
    writeFileSync(blobPath(home, installed.fileSha256), Buffer.from('not a package'));

    let busy = true;
    const keepBusy = (async () => {
      while (busy) {
        await callOther();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await until(() => pool.size === 1); // the host's sandbox idled out; the other is in use
    assert.equal(await compiled(), modules, 'another kept sandbox runs the component: its modules are kept');
    assert.deepEqual(await call(), echoed, 'and so is the verified package');
    busy = false;
    await keepBusy;

    await until(() => pool.size === 0);
    await new Promise((r) => setTimeout(r, 100)); // the stop of the last one completes
    assert.notEqual(await compiled(), modules, 'the compiled modules were given back');
    await assert.rejects(call(), (e: unknown) => isMppError(e) && e.code === 'MPP_E_STORE_CORRUPT', 'the package was given back: read from disk again, verified again, refused');
  });

  it('drops a kept sandbox whose granted folder was replaced: that call is refused, the next opens the folder there now', async (t) => {
    const home = tempDir(t, 'kept-folder');
    const ws = tempDir(t, 'kept-folder-ws');
    const key = generateKey();
    await addTrustedKey(home, key.publicKey, 'Probes');
    const m: Manifest = { mpp: 1, name: 'probes/folder', version: '1.0.0', description: 'A probe.', publisher: { name: 'Probes' }, permissions: { filesystem: [{ path: '${workspace}/data', access: 'read' }] }, tools: [{ name: 'read', description: 'Read.', sensitivity: 'read', inputSchema: any, outputSchema: any }] };
    await installPackage(home, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', await fixtureComponent('fs-probe')]])), key), { trust: TrustStore.load(home) });
    const audit = () => {};
    grantPermissions(home, { package: 'probes/folder', capabilities: 'all', scope: workspaceScope(ws), source: 'cli' }, audit);
    const pool = new SandboxPool(DEFAULT_POOL_OPTIONS);
    t.after(() => pool.dispose());
    const host = new ToolHost({ home, audit, auditGrouped: audit, sandboxes: pool });
    const read = async () => (await host.call({ target: { installed: 'probes/folder' }, tool: 'read', input: JSON.stringify({ path: 'a.txt', preopen: '/workspace/data' }), caller: { label: 'test' }, workspace: ws })).output;
    mkdirSync(join(ws, 'data'));
    writeFileSync(join(ws, 'data', 'a.txt'), 'first');
    assert.deepEqual(await read(), { ok: true, text: 'first' });
    renameSync(join(ws, 'data'), join(ws, 'aside'));
    mkdirSync(join(ws, 'data'));
    writeFileSync(join(ws, 'data', 'a.txt'), 'second');
    // An instance made before the swap may still answer from the folder it holds; every later one is refused, once.
    let refused: unknown;
    for (let i = 0; i < 3 && refused === undefined; i++) {
      try {
        assert.deepEqual(await read(), { ok: true, text: 'first' });
      } catch (e) {
        refused = e;
      }
    }
    assert.ok(isMppError(refused) && refused.code === 'MPP_E_GRANT_INVALID', String(refused));
    assert.deepEqual(await read(), { ok: true, text: 'second' });
    assert.deepEqual(await read(), { ok: true, text: 'second' });
  });
});
