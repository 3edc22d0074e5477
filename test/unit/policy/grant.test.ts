import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import type { Manifest } from '../../../runtime/format/manifest.ts';
import { consentRequest } from '../../../runtime/governance/consent.ts';
import { grantFromCapabilities } from '../../../runtime/policy/capabilities.ts';
import { userGrant, type GrantRequest } from '../../../runtime/policy/grant.ts';
import { effectiveLimits, HOST_LIMITS } from '../../../runtime/policy/limits.ts';
import { tempDir } from '../../helpers/cli.ts';
import { baseManifest } from '../../helpers/packages.ts';

const manifest = (permissions: unknown, limits?: unknown): Manifest => ({ ...baseManifest(), permissions, ...(limits ? { limits } : {}) }) as Manifest;
const notDeclared = (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_NOT_DECLARED';
const nothing = (workspace: string, home: string, mppHome = join(home, 'no-mpp-home')): GrantRequest => ({ workspace, home, mppHome, read: [], write: [], net: [], env: [], kv: false, all: false });

describe('userGrant: only what the manifest declares, and only what the user allows', () => {
  const setup = (t: { after(fn: () => void): void }) => {
    const root = realpathSync(tempDir(t, 'grant'));
    const ws = join(root, 'ws');
    const home = join(root, 'home');
    for (const d of [join(ws, 'src', 'deep'), join(ws, 'out'), join(home, 'notes')]) mkdirSync(d, { recursive: true });
    return { ws, home };
  };
  const m = manifest({
    filesystem: [{ path: '${workspace}/src', access: 'read' }, { path: '${workspace}/out', access: 'read-write' }, { path: '${home}/notes', access: 'read' }],
    network: [{ scheme: 'https', host: 'api.example.com', methods: ['GET'] }, { scheme: 'https', host: '*.example.org', methods: ['GET', 'POST'] }, { scheme: 'http', host: '127.0.0.1', port: 8080, methods: ['GET'] }],
    environment: [{ name: 'TOKEN' }],
    kv: { maxBytes: 4096 },
  });

  it('grants nothing by default', (t) => {
    const { ws, home } = setup(t);
    assert.deepEqual(userGrant(m, nothing(ws, home), {}), { grant: { fs: [], net: [], env: {} }, kv: undefined });
  });

  it('maps declared folders to /workspace and /home in the guest, narrower folders included', (t) => {
    const { ws, home } = setup(t);
    const g = userGrant(m, { ...nothing(ws, home), read: [join(ws, 'src', 'deep'), join(home, 'notes')], write: [join(ws, 'out')] }, {});
    assert.deepEqual(g.grant.fs, [
      { hostPath: join(ws, 'src', 'deep'), guestPath: '/workspace/src/deep', write: false },
      { hostPath: join(home, 'notes'), guestPath: '/home/notes', write: false },
      { hostPath: join(ws, 'out'), guestPath: '/workspace/out', write: true },
    ]);
  });

  it('refuses folders the package did not declare, writes to read-only declarations, and escapes through symlinks', (t) => {
    const { ws, home } = setup(t);
    assert.throws(() => userGrant(m, { ...nothing(ws, home), read: [ws] }, {}), notDeclared, 'the parent of a declared folder');
    assert.throws(() => userGrant(m, { ...nothing(ws, home), write: [join(ws, 'src')] }, {}), notDeclared, 'write where only read is declared');
    symlinkSync(home, join(ws, 'src', 'link-out'));
    assert.throws(() => userGrant(m, { ...nothing(ws, home), read: [join(ws, 'src', 'link-out')] }, {}), notDeclared, 'a symlink leading out of the declared folder');
  });

  it('never grants MPP\'s own folder, nor a folder holding it, even when declared', (t) => {
    const { ws, home } = setup(t);
    const mppHome = join(home, 'notes', '.mpp');
    mkdirSync(join(mppHome, 'keys'), { recursive: true });
    const invalid = (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_INVALID' && Boolean(e.hint);
    assert.throws(() => userGrant(m, { ...nothing(ws, home, mppHome), read: [join(home, 'notes')] }, {}), invalid, 'a declared folder holding the MPP home');
    assert.throws(() => userGrant(m, { ...nothing(ws, home, mppHome), read: [join(mppHome, 'keys')] }, {}), invalid, 'a folder inside the MPP home');
    assert.throws(() => userGrant(m, { ...nothing(ws, home, mppHome), all: true }, {}), invalid, '--allow-all does not bypass it');
    assert.equal(userGrant(m, { ...nothing(ws, home, mppHome), read: [join(ws, 'src')] }, {}).grant.fs?.length, 1);
  });

  it('grants declared origins with their declared methods, wildcards only for a named host', (t) => {
    const { ws, home } = setup(t);
    const g = userGrant(m, { ...nothing(ws, home), net: ['https://api.example.com', 'https://a.example.org', 'http://127.0.0.1:8080'] }, {});
    assert.deepEqual(g.grant.net, [
      { scheme: 'https', host: 'api.example.com', port: 443, methods: ['GET'] },
      { scheme: 'https', host: 'a.example.org', port: 443, methods: ['GET', 'POST'] },
      { scheme: 'http', host: '127.0.0.1', port: 8080, methods: ['GET'] },
    ]);
    for (const origin of ['https://example.org', 'http://api.example.com', 'https://api.example.com:8443', 'https://evil.com', 'http://127.0.0.1']) {
      assert.throws(() => userGrant(m, { ...nothing(ws, home), net: [origin] }, {}), notDeclared, origin);
    }
    for (const origin of ['https://user@api.example.com', 'https://api.example.com/path', 'not a url', 'ftp://api.example.com', 'ws://api.example.com']) {
      assert.throws(() => userGrant(m, { ...nothing(ws, home), net: [origin] }, {}), (e: unknown) => isMppError(e) && e.code === 'MPP_E_USAGE', origin);
    }
  });

  it('passes only declared, allowed, set variables', (t) => {
    const { ws, home } = setup(t);
    assert.deepEqual(userGrant(m, { ...nothing(ws, home), env: ['TOKEN'] }, { TOKEN: 's3cret', OTHER: 'x' }).grant.env, { TOKEN: 's3cret' });
    assert.throws(() => userGrant(m, { ...nothing(ws, home), env: ['OTHER'] }, { OTHER: 'x' }), notDeclared);
    assert.throws(() => userGrant(m, { ...nothing(ws, home), env: ['TOKEN'] }, {}), (e: unknown) => isMppError(e) && e.code === 'MPP_E_USAGE');
  });

  it('--allow-all grants every declaration but no wildcard host wholesale', (t) => {
    const { ws, home } = setup(t);
    const g = userGrant(m, { ...nothing(ws, home), all: true }, { TOKEN: 't' });
    assert.equal(g.grant.fs?.length, 3);
    assert.deepEqual(g.grant.net?.map((n) => n.host), ['api.example.com', '127.0.0.1']);
    assert.deepEqual(g.grant.env, { TOKEN: 't' });
    assert.deepEqual(g.kv, { maxBytes: 4096 });
  });

  it('kv only when declared', (t) => {
    const { ws, home } = setup(t);
    assert.throws(() => userGrant(manifest({}), { ...nothing(ws, home), kv: true }, {}), notDeclared);
    assert.deepEqual(userGrant(m, { ...nothing(ws, home), kv: true }, {}).kv, { maxBytes: 4096 });
  });
});

describe('effectiveLimits', () => {
  it('uses host defaults when the manifest is silent', () => {
    assert.deepEqual(effectiveLimits(baseManifest()), HOST_LIMITS.default);
  });
  it('lets a manifest ask for more than the default, never past the host maximum, and a caller only lower', () => {
    const l = effectiveLimits(manifest({}, { timeoutMs: 600000, memoryMb: 64, maxOutputBytes: 2048 }), { timeoutMs: 5000 });
    assert.equal(l.timeoutMs, 5000);
    assert.equal(l.memoryBytes, 64 * 1024 * 1024);
    assert.equal(l.maxOutputBytes, 2048);
    assert.equal(effectiveLimits(manifest({}, { timeoutMs: 600000 })).timeoutMs, HOST_LIMITS.max.timeoutMs);
    assert.equal(effectiveLimits(manifest({}, { timeoutMs: 100 }), { timeoutMs: 5000 }).timeoutMs, 100, 'a caller cannot raise');
  });
});

describe('a declared folder that is itself a symbolic link', () => {
  const setup = (t: { after(fn: () => void): void }) => {
    const root = realpathSync(tempDir(t, 'grant-link'));
    const ws = join(root, 'ws');
    const home = join(root, 'home');
    const outside = join(root, 'outside');
    for (const d of [join(ws, 'inner'), home, outside]) mkdirSync(d, { recursive: true });
    return { ws, home, outside, mppHome: join(root, 'mpp') };
  };
  const m = manifest({ filesystem: [{ path: '${workspace}/linked', access: 'read' }] });
  const invalid = (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_INVALID' && /outside the workspace folder/.test(e.message);

  it('never carries a grant outside its root: asked by path, by --allow-all, or by the link target', (t) => {
    const { ws, home, outside } = setup(t);
    symlinkSync(outside, join(ws, 'linked'));
    assert.throws(() => userGrant(m, { ...nothing(ws, home), read: [join(ws, 'linked')] }, {}), invalid, 'the link path');
    assert.throws(() => userGrant(m, { ...nothing(ws, home), all: true }, {}), invalid, '--allow-all');
    assert.throws(() => userGrant(m, { ...nothing(ws, home), read: [outside] }, {}), (e) => isMppError(e) && e.code.startsWith('MPP_E_GRANT_'), 'the target itself');
  });

  it('a link that stays inside the root is granted at its real path', (t) => {
    const { ws, home } = setup(t);
    symlinkSync(join(ws, 'inner'), join(ws, 'linked'));
    assert.deepEqual(userGrant(m, { ...nothing(ws, home), all: true }, {}).grant.fs, [{ hostPath: join(ws, 'inner'), guestPath: '/workspace/linked', write: false }]);
  });

  it('is checked at every call: a link re-pointed outside after the grant refuses the next call', (t) => {
    const { ws, home, outside, mppHome } = setup(t);
    symlinkSync(join(ws, 'inner'), join(ws, 'linked'));
    const ids = ['fs:${workspace}/linked:read'];
    const ctx = { workspace: ws, home, mppHome, env: {} };
    assert.equal(grantFromCapabilities(m, ids, ctx).grant.fs?.[0]?.hostPath, join(ws, 'inner'));
    // What a checkout does: the link is replaced by one pointing elsewhere.
    rmSync(join(ws, 'linked'));
    symlinkSync(outside, join(ws, 'linked'));
    assert.throws(() => grantFromCapabilities(m, ids, ctx), invalid);
  });

  it('shows the user the real target of a folder, and says when it is never granted', (t) => {
    const { ws, home, outside } = setup(t);
    symlinkSync(outside, join(ws, 'linked'));
    const request = consentRequest(m, { keyid: 'k', name: undefined }, ws, undefined, home);
    assert.match(request.capabilities[0]!.target!, new RegExp(`${join(ws, 'linked')} is a link to ${outside}, outside the workspace folder: never granted`));
    rmSync(join(ws, 'linked'));
    symlinkSync(join(ws, 'inner'), join(ws, 'linked'));
    assert.equal(consentRequest(m, { keyid: 'k', name: undefined }, ws, undefined, home).capabilities[0]!.target, `${join(ws, 'linked')}, a link to ${join(ws, 'inner')}`);
    assert.equal(consentRequest(m, { keyid: 'k', name: undefined }, '', undefined, home).capabilities[0]!.target, undefined, 'no workspace: nothing to show');
  });
});
