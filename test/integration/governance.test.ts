import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openAuditLog, recordAudit, type AuditEvent, type AuditRecord } from '../../runtime/audit/log.ts';
import { serializeManifest, type Manifest, type Sensitivity } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import type { ConfirmationRequest, Confirmer } from '../../runtime/governance/confirm.ts';
import type { ConsentAnswer, ConsentPrompter, ConsentRequest } from '../../runtime/governance/consent.ts';
import { grantPermissions, revokePermissions } from '../../runtime/governance/decisions.ts';
import { ToolHost, type ToolCall } from '../../runtime/governance/tool-host.ts';
import { SandboxPool } from '../../runtime/run/sandbox-pool.ts';
import { createCredential } from '../../runtime/identity/credential.ts';
import { AgentRegistry } from '../../runtime/state/agents.ts';
import { GLOBAL_SCOPE, GrantStore, workspaceScope } from '../../runtime/state/grants.ts';
import { installPackage, uninstallPackage } from '../../runtime/store/packages.ts';
import { generateKey, type PrivateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { addTrustedKey } from '../helpers/trust.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { tempDir } from '../helpers/cli.ts';

/**
 * The governed call path with real parts: signed packages with real
 * components installed in a real MPP home, the real audit log, SQLite grants,
 * and consent/confirmation faces scripted the way a human would answer.
 * Each feature is followed by the bypasses an agent or a tool would try.
 */
const any = { type: 'object' } as const;
const tool = (name: string, sensitivity: Sensitivity = 'none', extra: object = {}) => ({ name, description: `Probe: ${name}.`, sensitivity, inputSchema: any, outputSchema: any, ...extra });

class ScriptedConsent implements ConsentPrompter {
  readonly asked: ConsentRequest[] = [];
  answer: ConsentAnswer | undefined;
  constructor(answer: ConsentAnswer | undefined) {
    this.answer = answer;
  }
  async ask(req: ConsentRequest) {
    this.asked.push(req);
    return this.answer;
  }
}

class ScriptedConfirmer implements Confirmer {
  readonly asked: ConfirmationRequest[] = [];
  answer: 'approved' | 'denied' | 'silent';
  constructor(answer: 'approved' | 'denied' | 'silent') {
    this.answer = answer;
  }
  confirm(req: ConfirmationRequest, signal: AbortSignal): Promise<'approved' | 'denied'> {
    this.asked.push(req);
    if (this.answer === 'silent') return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    return Promise.resolve(this.answer);
  }
}

describe('governance: consent, confirmations, attestations, identity, privacy, audit', () => {
  const dir = tempDir({ after }, 'gov');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const ws2 = join(dir, 'ws2');
  let key: PrivateKey;
  let component: Uint8Array;
  const base = { mpp: 1 as const, description: 'A probe.', publisher: { name: 'Probes' } };
  const manifestV1: Manifest = {
    ...base,
    name: 'probes/misc',
    version: '1.0.0',
    tools: [tool('env', 'read'), tool('echo'), tool('counter'), tool('caller'), tool('delete', 'destructive'), tool('confirm'), tool('contact'), tool('bot-only', 'none', { agents: ['acme/bot'] })],
    permissions: { environment: [{ name: 'PROBE_TOKEN' }, { name: 'PROBE_OTHER' }] },
    privacy: { redact: ['email', 'phone', 'payment-card'] },
  };
  const env = { PROBE_TOKEN: 'tok', PROBE_OTHER: 'other', PROBE_NEW: 'new' };
  const events = (type?: AuditEvent['type']): AuditRecord[] => {
    const log = openAuditLog(home);
    try {
      return log.query(type ? { type } : {});
    } finally {
      log.close();
    }
  };
  const host = (opts: { consent?: ConsentPrompter; confirmer?: Confirmer; confirmTimeoutMs?: number } = {}) =>
    new ToolHost({
      home,
      ...(opts.consent ? { consent: opts.consent } : {}),
      ...(opts.confirmer ? { confirmer: opts.confirmer } : {}),
      ...(opts.confirmTimeoutMs ? { policy: { confirmTimeoutMs: opts.confirmTimeoutMs } } : {}),
      audit: (e) => recordAudit(home, e),
      env,
    });
  const call = (h: ToolHost, toolName: string, input: object | string = {}, extra: Partial<ToolCall> = {}) =>
    h.call({ target: { installed: 'probes/misc' }, tool: toolName, input: typeof input === 'string' ? input : JSON.stringify(input), caller: { label: 'test-agent' }, workspace: ws, ...extra });
  const install = async (m: Manifest) => {
    const bytes = signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key);
    return installPackage(home, bytes, { trust: TrustStore.load(home) });
  };
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'resolved';
  };

  before(async () => {
    mkdirSync(ws, { recursive: true });
    mkdirSync(ws2, { recursive: true });
    key = generateKey();
    component = await fixtureComponent('misc-probe');
    await addTrustedKey(home, key.publicKey, 'Probes');
    await install(manifestV1);
  });

  describe('consent and grants', () => {
    it('refuses a first run when nobody can be asked, and audits the refusal', async () => {
      assert.equal(await code(call(host(), 'env', { name: 'PROBE_TOKEN' })), 'MPP_E_CONSENT_REQUIRED');
      const deny = events('deny').at(-1)!.event as Extract<AuditEvent, { type: 'deny' }>;
      assert.equal(deny.code, 'MPP_E_CONSENT_REQUIRED');
      assert.equal(deny.agent.id, 'unverified:test-agent');
    });

    it('a dismissed question records nothing and runs nothing', async () => {
      const consent = new ScriptedConsent(undefined);
      assert.equal(await code(call(host({ consent }), 'env', { name: 'PROBE_TOKEN' })), 'MPP_E_CONSENT_REQUIRED');
      assert.equal(consent.asked.length, 1);
      assert.equal(consent.asked[0]!.reason, 'first-run');
      assert.deepEqual(consent.asked[0]!.capabilities.map((c) => c.id), ['env:PROBE_TOKEN', 'env:PROBE_OTHER']);
    });

    it('grant some: only the chosen capability reaches the tool; the decision is kept for the workspace', async () => {
      const consent = new ScriptedConsent({ decision: 'grant', capabilities: ['env:PROBE_TOKEN'], scope: 'workspace' });
      const r = await call(host({ consent }), 'env', { name: 'PROBE_TOKEN' });
      assert.deepEqual((r.output as { env: string[][] }).env, [['PROBE_TOKEN', 'tok']]);
      // Asked once: the next call in this workspace uses the stored decision.
      const again = await call(host({ consent }), 'env', { name: 'PROBE_OTHER' });
      assert.equal((again.output as { value: unknown }).value, null);
      assert.equal(consent.asked.length, 1);
      const grant = events('grant').at(-1)!.event as Extract<AuditEvent, { type: 'grant' }>;
      assert.deepEqual(grant.capabilities, ['env:PROBE_TOKEN']);
      assert.deepEqual(grant.scope, { workspace: workspaceScope(ws).path });
    });

    it('a workspace decision does not carry to another workspace', async () => {
      assert.equal(await code(call(host(), 'env', { name: 'PROBE_TOKEN' }, { workspace: ws2 })), 'MPP_E_CONSENT_REQUIRED');
    });

    it('deny means the package does not run, in that scope only', async () => {
      const consent = new ScriptedConsent({ decision: 'deny', capabilities: ['env:PROBE_TOKEN'], scope: 'workspace' });
      const invokes = events('invoke').length;
      assert.equal(await code(call(host({ consent }), 'echo', {}, { workspace: ws2 })), 'MPP_E_CONSENT_DENIED');
      assert.equal(await code(call(host(), 'echo', {}, { workspace: ws2 })), 'MPP_E_CONSENT_DENIED');
      assert.equal(events('invoke').length, invokes, 'a denied package never reached the sandbox');
      assert.equal((await call(host(), 'echo', { x: 1 })).durationMs >= 0, true);
    });

    it('revoking takes effect at the next call of a long-lived host', async () => {
      const h = host();
      assert.deepEqual(((await call(h, 'env', { name: 'PROBE_TOKEN' })).output as { env: string[][] }).env, [['PROBE_TOKEN', 'tok']]);
      grantPermissions(home, { package: 'probes/misc', capabilities: ['env:PROBE_OTHER'], scope: workspaceScope(ws), source: 'cli' }, (e) => recordAudit(home, e));
      revokePermissions(home, { package: 'probes/misc', capabilities: ['env:PROBE_TOKEN'], scope: workspaceScope(ws) }, (e) => recordAudit(home, e));
      assert.deepEqual(((await call(h, 'env', { name: 'PROBE_TOKEN' })).output as { env: string[][] }).env, [['PROBE_OTHER', 'other']]);
      assert.equal(events('revoke').length, 1);
    });

    it('an update that asks for more runs with nothing new until the user consents again', async () => {
      grantPermissions(home, { package: 'probes/misc', capabilities: 'all', scope: workspaceScope(ws), source: 'cli' }, (e) => recordAudit(home, e));
      await install({ ...manifestV1, version: '1.1.0', permissions: { environment: [...manifestV1.permissions!.environment!, { name: 'PROBE_NEW' }] } });
      const r = await call(host(), 'env', { name: 'PROBE_NEW' });
      assert.equal((r.output as { value: unknown }).value, null, 'the new capability is not granted');
      assert.match(r.notices.join('\n'), /PROBE_NEW/);
      assert.deepEqual(((r.output as { env: string[][] }).env).map(([k]) => k).sort(), ['PROBE_OTHER', 'PROBE_TOKEN']);
      const consent = new ScriptedConsent({ decision: 'grant', capabilities: ['env:PROBE_TOKEN', 'env:PROBE_OTHER', 'env:PROBE_NEW'], scope: 'workspace' });
      const after = await call(host({ consent }), 'env', { name: 'PROBE_NEW' });
      assert.equal(consent.asked[0]!.reason, 'widened');
      assert.deepEqual(consent.asked[0]!.capabilities.filter((c) => c.state === 'new').map((c) => c.id), ['env:PROBE_NEW']);
      assert.equal((after.output as { value: unknown }).value, 'new');
    });

    it('a consent answer cannot grant what the manifest does not declare', async () => {
      const consent = new ScriptedConsent({ decision: 'grant', capabilities: ['env:HOME', 'fs:${home}:read-write'], scope: 'global' });
      await call(host({ consent }), 'echo', {}, { workspace: dir });
      const grant = events('grant').at(-1)!.event as Extract<AuditEvent, { type: 'grant' }>;
      assert.deepEqual(grant.capabilities, []);
    });
  });

  describe('human in the loop and attestations', () => {
    it('asks before a destructive call, showing tool, arguments and agent; approval issues and consumes one attestation', async () => {
      const confirmer = new ScriptedConfirmer('approved');
      const r = await call(host({ confirmer }), 'delete', { path: 'a.txt' });
      assert.equal(confirmer.asked.length, 1);
      const asked = confirmer.asked[0]!;
      assert.equal(asked.tool, 'delete');
      assert.equal(asked.arguments, '{"path":"a.txt"}');
      assert.equal(asked.agent.agentId, 'unverified:test-agent');
      assert.ok(r.output);
      const issued = events('attestation-issued').at(-1)!.event as Extract<AuditEvent, { type: 'attestation-issued' }>;
      const consumed = events('attestation-consumed').at(-1)!.event as Extract<AuditEvent, { type: 'attestation-consumed' }>;
      assert.equal(consumed.nonce, issued.nonce);
      assert.equal(consumed.outcome, 'consumed');
    });

    it('deny, silence (timeout) and no confirmer all refuse, and the tool never runs', async () => {
      const invokes = events('invoke').length;
      assert.equal(await code(call(host({ confirmer: new ScriptedConfirmer('denied') }), 'delete', { path: 'a.txt' })), 'MPP_E_CONFIRMATION_DENIED');
      assert.equal(await code(call(host({ confirmer: new ScriptedConfirmer('silent'), confirmTimeoutMs: 200 }), 'delete', { path: 'a.txt' })), 'MPP_E_CONFIRMATION_DENIED');
      assert.equal(await code(call(host(), 'delete', { path: 'a.txt' })), 'MPP_E_CONFIRMATION_DENIED');
      assert.equal(events('invoke').length, invokes);
      const answers = events('confirm-answered').slice(-3).map((r) => (r.event as Extract<AuditEvent, { type: 'confirm-answered' }>).answer);
      assert.deepEqual(answers, ['denied', 'timed-out', 'denied']);
    });

    it('an agent cannot pre-answer: "confirmed": true (or any field) in the input changes nothing', async () => {
      for (const input of [{ path: 'a.txt', confirmed: true }, { path: 'a.txt', _meta: { approved: true }, attestation: 'x' }]) {
        const confirmer = new ScriptedConfirmer('denied');
        assert.equal(await code(call(host({ confirmer }), 'delete', input)), 'MPP_E_CONFIRMATION_DENIED');
        assert.equal(confirmer.asked.length, 1);
      }
    });

    it('a tool asking mid-call gets the human answer; asking in a loop is cut off after the policy limit', async () => {
      const confirmer = new ScriptedConfirmer('approved');
      const r = await call(host({ confirmer }), 'confirm', { times: 10, operation: 'delete a.txt' });
      const answers = (r.output as { answers: string[] }).answers;
      assert.deepEqual(answers, ['approved', 'approved', 'approved', 'denied', 'denied', 'denied', 'denied', 'denied', 'denied', 'denied']);
      assert.equal(confirmer.asked.length, 3, 'the human was asked only up to the limit');
      assert.equal(confirmer.asked[0]!.kind, 'mid-call');
      assert.equal(confirmer.asked[0]!.operation, 'delete a.txt');
    });

    it('waiting for the human does not count against the call time limit', async () => {
      // The human answers after the whole limit has passed; the limit is long enough for the tool's own work under load.
      const slow: Confirmer = { confirm: () => new Promise((r) => setTimeout(() => r('approved'), 6_000)) };
      const r = await call(host({ confirmer: slow }), 'confirm', { times: 1 }, { timeoutMs: 5_000 });
      assert.deepEqual((r.output as { answers: string[] }).answers, ['approved']);
    });
  });

  describe('agent identity', () => {
    const agentKey = generateKey();
    before(() => {
      const agents = AgentRegistry.open(home);
      try {
        agents.add('acme/bot', agentKey.publicKey);
      } finally {
        agents.close();
      }
    });

    it('a registered credential makes the caller verified, and the tool can ask who calls', async () => {
      const credential = createCredential(agentKey, 'acme/bot', { ttlMs: 60_000 });
      const r = await call(host(), 'caller', {}, { caller: { credential, label: 'ignored' } });
      assert.deepEqual((r.output as { caller: unknown }).caller, { agentId: 'acme/bot', displayName: 'acme/bot', verified: true });
      const invoke = events('invoke').at(-1)!.event as Extract<AuditEvent, { type: 'invoke' }>;
      assert.deepEqual(invoke.agent, { id: 'acme/bot', verified: true });
    });

    it('an unsigned caller claiming a registered name stays unverified and cannot reach a restricted tool', async () => {
      const r = await call(host(), 'caller', {}, { caller: { label: 'acme/bot' } });
      assert.deepEqual((r.output as { caller: { agentId: string; verified: boolean } }).caller.verified, false);
      assert.equal((r.output as { caller: { agentId: string } }).caller.agentId, 'unverified:acme/bot');
      assert.equal(await code(call(host(), 'bot-only', {}, { caller: { label: 'acme/bot' } })), 'MPP_E_AGENT_NOT_ALLOWED');
      const credential = createCredential(agentKey, 'acme/bot', { ttlMs: 60_000 });
      assert.ok(await call(host(), 'bot-only', {}, { caller: { credential } }));
    });

    it('a forged, altered or expired credential refuses the call (never degrades to unverified)', async () => {
      const forger = generateKey();
      const forged = createCredential(forger, 'acme/bot', { ttlMs: 60_000 });
      const genuine = JSON.parse(createCredential(agentKey, 'acme/bot', { ttlMs: 60_000 })) as { payload: string };
      const altered = JSON.stringify({ ...genuine, payload: Buffer.from(Buffer.from(genuine.payload, 'base64').toString().replace('acme/bot', 'acme/bog')).toString('base64') });
      const expired = createCredential(agentKey, 'acme/bot', { ttlMs: 1000, now: new Date(Date.now() - 10_000) });
      for (const credential of [forged, altered, expired, 'not json', '{}']) {
        assert.equal(await code(call(host(), 'caller', {}, { caller: { credential } })), 'MPP_E_AGENT_CREDENTIAL_INVALID', credential.slice(0, 40));
      }
    });
  });

  describe('privacy filters', () => {
    it('redacts the output before the agent sees it, counting per class in the audit log without values', async () => {
      const r = await call(host(), 'contact', { email: 'ada@example.com' });
      const text = JSON.stringify(r.output);
      assert.doesNotMatch(text, /ada@example\.com|4111 1111 1111 1111/);
      const invoke = events('invoke').at(-1)!.event as Extract<AuditEvent, { type: 'invoke' }>;
      assert.deepEqual(r.redactions, { email: 1, phone: 1, 'payment-card': 1 });
      assert.deepEqual(invoke.redactions, r.redactions);
      const log = JSON.stringify(events());
      assert.doesNotMatch(log, /ada@example\.com/);
    });
  });

  describe('audit', () => {
    it('the whole session left one intact chain', () => {
      const log = openAuditLog(home);
      try {
        assert.equal(log.verify().ok, true);
      } finally {
        log.close();
      }
    });
  });

  it('a long-running host keeps sandboxes, yet every call gets a fresh instance, its own caller and the grant in force', async () => {
    const sandboxes = new SandboxPool({ max: 4, idleMs: 60_000 });
    const h = new ToolHost({ home, audit: (e) => recordAudit(home, e), env, sandboxes });
    try {
      const counts = [];
      for (let i = 0; i < 3; i++) counts.push(((await call(h, 'counter')).output as { calls: number }).calls);
      assert.deepEqual(counts, [1, 1, 1], 'no state survives between calls');
      const [a, b] = await Promise.all([call(h, 'caller', {}, { caller: { label: 'first' } }), call(h, 'caller', {}, { caller: { label: 'second' } })]);
      assert.equal((a.output as { caller: { agentId: string } }).caller.agentId, 'unverified:first');
      assert.equal((b.output as { caller: { agentId: string } }).caller.agentId, 'unverified:second');
      grantPermissions(home, { package: 'probes/misc', capabilities: ['env:PROBE_TOKEN'], scope: workspaceScope(ws), source: 'cli' }, (e) => recordAudit(home, e));
      assert.deepEqual(((await call(h, 'env', { name: 'x' })).output as { env: string[][] }).env.map(([k]) => k).includes('PROBE_TOKEN'), true);
      revokePermissions(home, { package: 'probes/misc', capabilities: 'all', scope: workspaceScope(ws) }, (e) => recordAudit(home, e));
      // Everything revoked: no decision any more, so the next call is refused until the user decides again.
      await assert.rejects(call(h, 'env', { name: 'x' }), { code: 'MPP_E_CONSENT_REQUIRED' });
    } finally {
      await sandboxes.dispose();
    }
  });

  it('a kept sandbox follows the kv grant: granted, the tool reads its store; revoked, the store is not available', async () => {
    const sandboxes = new SandboxPool({ max: 4, idleMs: 60_000 });
    const h = new ToolHost({ home, audit: (e) => recordAudit(home, e), env, sandboxes });
    const kvCall = () => h.call({ target: { installed: 'probes/kv' }, tool: 'kv', input: '{"key":"k"}', caller: { label: 'test-agent' }, workspace: ws });
    try {
      await install({ ...base, name: 'probes/kv', version: '1.0.0', tools: [tool('kv')], permissions: { kv: { maxBytes: 1024 }, environment: [{ name: 'PROBE_TOKEN' }] } });
      grantPermissions(home, { package: 'probes/kv', capabilities: ['kv', 'env:PROBE_TOKEN'], scope: workspaceScope(ws), source: 'cli' }, (e) => recordAudit(home, e));
      assert.deepEqual((await kvCall()).output, { ok: true, value: null });
      revokePermissions(home, { package: 'probes/kv', capabilities: ['kv'], scope: workspaceScope(ws) }, (e) => recordAudit(home, e));
      const refused = (await kvCall()).output as { ok: boolean; error: { tag: string } };
      assert.equal(refused.ok, false);
      assert.equal(refused.error.tag, 'not-available');
      // The last capability revoked: the decision is gone, and the call is a coded refusal, not a tool error.
      revokePermissions(home, { package: 'probes/kv', capabilities: 'all', scope: workspaceScope(ws) }, (e) => recordAudit(home, e));
      await assert.rejects(kvCall(), { code: 'MPP_E_CONSENT_REQUIRED' });
    } finally {
      await sandboxes.dispose();
      await uninstallPackage(home, 'probes/kv', { purge: true });
    }
  });

  it('uninstall keeps the decisions (a reinstall runs as before); --purge forgets them', async () => {
    const store = GrantStore.open(home);
    try {
      assert.ok(store.list('probes/misc').length > 0);
      await uninstallPackage(home, 'probes/misc');
      assert.ok(store.list('probes/misc').length > 0);
      await install(manifestV1);
      await uninstallPackage(home, 'probes/misc', { purge: true });
      assert.deepEqual(store.list('probes/misc'), []);
    } finally {
      store.close();
    }
    await install({ ...manifestV1, version: '2.0.0' });
  });

  it('GLOBAL_SCOPE decisions apply where the workspace has none', async () => {
    const other = join(dir, 'ws3');
    mkdirSync(other);
    writeFileSync(join(other, 'f'), '');
    grantPermissions(home, { package: 'probes/misc', capabilities: ['env:PROBE_OTHER'], scope: GLOBAL_SCOPE, source: 'cli' }, (e) => recordAudit(home, e));
    const r = await call(host(), 'env', { name: 'PROBE_OTHER' }, { workspace: other });
    assert.equal((r.output as { value: unknown }).value, 'other');
  });
});
