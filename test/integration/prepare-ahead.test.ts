/**
 * ToolHost.prepare (spec/sandbox.md §5): a long-running host makes a
 * package ready for its first call while idle. It starts the sandbox a call
 * would use only where the stored decisions already give that call's grant,
 * and only with room in the pool; a call whose grant differs never runs in
 * it; nothing is asked, recorded or run; an unused one idles out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../../runtime/audit/events.ts';
import { isMppError } from '../../runtime/errors.ts';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import type { ConsentPrompter } from '../../runtime/governance/consent.ts';
import { grantPermissions, revokePermissions } from '../../runtime/governance/decisions.ts';
import { ToolHost } from '../../runtime/governance/tool-host.ts';
import { DEFAULT_POOL_OPTIONS, SandboxPool, type PoolOptions } from '../../runtime/run/sandbox-pool.ts';
import { workspaceScope } from '../../runtime/state/grants.ts';
import { installPackage } from '../../runtime/store/packages.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { addTrustedKey } from '../helpers/trust.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { tempDir } from '../helpers/cli.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ORG_POLICY_ADD_ENV, ORG_POLICY_FILE } from '../../runtime/policy/org-policy.ts';
import { createSandbox } from '../../runtime/sandbox/index.ts';

const any = { type: 'object' } as const;

async function setup(t: { after(fn: () => unknown): void }, pool: PoolOptions = DEFAULT_POOL_OPTIONS, consent?: ConsentPrompter) {
  const home = tempDir(t, 'prepare-ahead');
  const ws = tempDir(t, 'prepare-ahead-ws');
  const key = generateKey();
  await addTrustedKey(home, key.publicKey, 'Probes');
  const component = await fixtureComponent('echo');
  const install = async (name: string, permissions?: Manifest['permissions'], version = '1.0.0') => {
    const m: Manifest = { mpp: 1, name, version, description: 'A probe.', publisher: { name: 'Probes' }, ...(permissions ? { permissions } : {}), tools: [{ name: 'echo', description: 'Echo.', sensitivity: 'none', inputSchema: any, outputSchema: any }] };
    await installPackage(home, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key), { trust: TrustStore.load(home) });
  };
  const records: AuditEvent[] = [];
  const audit = (e: AuditEvent) => void records.push(e);
  const sandboxes = new SandboxPool(pool);
  t.after(() => sandboxes.dispose());
  const host = new ToolHost({ home, audit, auditGrouped: audit, sandboxes, env: { PROBE_TOKEN: 'token', PROBE_OTHER: 'other', PROBE_NEW: 'new' }, ...(consent ? { consent } : {}) });
  const call = (name: string) => host.call({ target: { installed: name }, tool: 'echo', input: '{"a":1}', caller: { label: 'test' }, workspace: ws });
  const grant = (name: string) => grantPermissions(home, { package: name, capabilities: 'all', scope: workspaceScope(ws), source: 'cli' }, audit);
  return { home, ws, install, records, sandboxes, host, call, grant, audit };
}

const TOKEN = { environment: [{ name: 'PROBE_TOKEN' }] };

describe('ToolHost.prepare', () => {
  it('starts the sandbox a call would use where the stored decisions give its grant; the call runs in it', async (t) => {
    const s = await setup(t);
    await s.install('probes/free');
    await s.install('probes/granted', TOKEN);
    s.grant('probes/granted');
    const before = s.records.length;
    assert.equal(await s.host.prepare('probes/free', { workspace: s.ws }), 'started', 'asks for nothing: runs without a decision');
    assert.equal(await s.host.prepare('probes/granted', { workspace: s.ws }), 'started');
    assert.equal(s.sandboxes.size, 2);
    assert.equal(s.records.length, before, 'nothing recorded');
    assert.deepEqual((await s.call('probes/granted')).output, { tool: 'echo', input: { a: 1 } });
    assert.deepEqual((await s.call('probes/free')).output, { tool: 'echo', input: { a: 1 } });
    assert.equal(s.sandboxes.size, 2, 'the calls ran in the sandboxes started for them');
  });

  it('a grant changed after preparing is another sandbox; a revoked one is refused, never run in the one started for it', async (t) => {
    const s = await setup(t);
    await s.install('probes/granted', { environment: [{ name: 'PROBE_TOKEN' }, { name: 'PROBE_OTHER' }] });
    s.grant('probes/granted');
    assert.equal(await s.host.prepare('probes/granted', { workspace: s.ws }), 'started');
    // One variable taken back: the call runs under a narrower grant, in another sandbox.
    revokePermissions(s.home, { package: 'probes/granted', capabilities: ['env:PROBE_OTHER'], scope: workspaceScope(s.ws) }, s.audit);
    await s.call('probes/granted');
    assert.equal(s.sandboxes.size, 2);
    revokePermissions(s.home, { package: 'probes/granted', capabilities: 'all', scope: 'all' }, s.audit);
    await assert.rejects(s.call('probes/granted'), (e: unknown) => isMppError(e) && e.code === 'MPP_E_CONSENT_REQUIRED');
  });

  it('only compiles where a call would ask first or be refused: no decision, a denial, a widened ask with someone to ask', async (t) => {
    let asked = 0;
    const consent: ConsentPrompter = { ask: async () => (asked++, undefined) };
    const s = await setup(t, DEFAULT_POOL_OPTIONS, consent);
    await s.install('probes/undecided', TOKEN);
    await s.install('probes/denied', TOKEN);
    grantPermissions(s.home, { package: 'probes/denied', capabilities: 'all', scope: workspaceScope(s.ws), source: 'cli', deny: true }, s.audit);
    await s.install('probes/widened', TOKEN);
    s.grant('probes/widened');
    await s.install('probes/widened', { environment: [{ name: 'PROBE_TOKEN' }, { name: 'PROBE_NEW' }] }, '1.1.0');
    assert.equal(await s.host.prepare('probes/undecided', { workspace: s.ws }), 'compiled');
    assert.equal(await s.host.prepare('probes/denied', { workspace: s.ws }), 'compiled');
    assert.equal(await s.host.prepare('probes/widened', { workspace: s.ws }), 'compiled', 'its update asks for more: a call would ask first');
    assert.equal(s.sandboxes.size, 0);
    assert.equal(asked, 0, 'nobody is asked');
  });

  it('never makes room in a full pool', async (t) => {
    const s = await setup(t, { max: 1, idleMs: 10 * 60_000 });
    await s.install('probes/a');
    // Granted a variable: another grant than a's, so not a's sandbox (one component and one grant share one).
    await s.install('probes/b', TOKEN);
    s.grant('probes/b');
    await s.call('probes/a');
    assert.equal(await s.host.prepare('probes/b', { workspace: s.ws }), 'compiled', 'the pool is full');
    assert.equal(s.sandboxes.size, 1);
    assert.deepEqual((await s.call('probes/a')).output, { tool: 'echo', input: { a: 1 } }, 'the kept sandbox is still there');
  });

  it('a prepared sandbox no call uses is stopped after the idle time, like any kept one', async (t) => {
    const s = await setup(t, { max: 4, idleMs: 200 });
    await s.install('probes/a');
    assert.equal(await s.host.prepare('probes/a', { workspace: s.ws }), 'started');
    // A bound, not an expectation: a loaded machine is slow.
    for (const until = Date.now() + 60_000; s.sandboxes.size > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.sandboxes.size, 0);
  });

  it("prepares nothing the organisation's policy refuses", async (t) => {
    const s = await setup(t);
    await s.install('probes/blocked');
    const org = tempDir(t, 'prepare-ahead-org');
    writeFileSync(join(org, ORG_POLICY_FILE), JSON.stringify({ mppOrgPolicy: 1, name: 'Acme', packages: { block: [{ name: 'probes/blocked', reason: 'test' }] } }));
    process.env[ORG_POLICY_ADD_ENV] = org;
    t.after(() => delete process.env[ORG_POLICY_ADD_ENV]);
    await assert.rejects(s.host.prepare('probes/blocked', { workspace: s.ws }), (e: unknown) => isMppError(e) && e.code === 'MPP_E_POLICY_PACKAGE_BLOCKED');
    assert.equal(s.sandboxes.size, 0);
  });

  it('never starts a development sandbox ahead: its source runs whenever an instance is made', async (t) => {
    const s = await setup(t);
    const cacheDir = tempDir(t, 'prepare-ahead-cache');
    await assert.rejects(
      createSandbox({ component: await fixtureComponent('echo'), grant: {}, cacheDir, developmentSource: 'throw new Error("ran ahead")', ahead: true }),
      (e: unknown) => isMppError(e) && e.code === 'MPP_E_USAGE',
    );
    assert.equal(s.sandboxes.size, 0);
  });

  it('refuses what a call would refuse: a package not installed', async (t) => {
    const s = await setup(t);
    await assert.rejects(s.host.prepare('probes/none', { workspace: s.ws }), (e: unknown) => isMppError(e) && e.code === 'MPP_E_NOT_INSTALLED');
  });
});
