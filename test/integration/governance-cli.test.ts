import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { generateKey, privateKeyToPem, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { mpp, mppInTerminal, tempDir } from '../helpers/cli.ts';

/** The governance commands as a user types them: mpp permissions, grant, revoke, agent, and run's prompts at a real terminal. */
const any = { type: 'object' } as const;

describe('governance from the command line', () => {
  const dir = tempDir({ after }, 'gov-cli');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const env = { PROBE_TOKEN: 'tok', PROBE_OTHER: 'other' };
  const cli = (args: string[], extraEnv: Record<string, string> = {}) => mpp([...args, '--json'], { home, cwd: ws, env: { ...env, ...extraEnv } });
  const body = (r: { stdout: string }) => JSON.parse(r.stdout) as { ok: boolean; output?: { env?: string[][]; caller?: unknown }; error?: { code: string }; agent?: unknown; capabilities?: { id: string; state: string }[] };
  // A terminal run's environment is only PATH, HOME and MPP_HOME (the tools it calls need no variables).
  const termRun = (args: string[], answers: { when: RegExp; say: string }[]) => mppInTerminal(['run', ...args, '--workspace', ws], { home, cwd: ws, answers });

  before(async () => {
    mkdirSync(ws, { recursive: true });
    const key = generateKey();
    const m: Manifest = {
      mpp: 1,
      name: 'probes/misc',
      version: '1.0.0',
      description: 'A probe.',
      publisher: { name: 'Probes' },
      tools: [
        { name: 'env', description: 'Reads env.', sensitivity: 'read', inputSchema: any, outputSchema: any },
        { name: 'delete', description: 'Deletes.', sensitivity: 'destructive', inputSchema: any, outputSchema: any },
        { name: 'caller', description: 'Who calls.', sensitivity: 'none', inputSchema: any, outputSchema: any },
      ],
      permissions: { environment: [{ name: 'PROBE_TOKEN', reason: 'to call the probe API' }, { name: 'PROBE_OTHER' }] },
    };
    const bytes = signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', await fixtureComponent('misc-probe')]])), key);
    writeFileSync(join(dir, 'misc.mpp'), bytes);
    writeFileSync(join(dir, 'pub.pem'), publicKeyToPem(key.publicKey));
    assert.equal((await mpp(['trust', 'add', join(dir, 'pub.pem'), '--name', 'Probes'], { home })).code, 0);
    assert.equal((await mpp(['install', join(dir, 'misc.mpp')], { home })).code, 0);
  });

  it('without a decision, a script is refused with a code that says how to grant', async () => {
    const r = await cli(['run', 'probes/misc', 'env', '--input', '{"name":"PROBE_TOKEN"}']);
    assert.equal(r.code, 1);
    assert.equal(body(r).error?.code, 'MPP_E_CONSENT_REQUIRED');
    assert.match(r.stdout, /mpp grant probes\/misc/);
    const p = body(await cli(['permissions', 'probes/misc']));
    assert.deepEqual(p.capabilities?.map((c) => [c.id, c.state]), [['env:PROBE_TOKEN', 'new'], ['env:PROBE_OTHER', 'new']]);
  });

  it('at a terminal, asks in plain words; "some" grants the chosen capability for this workspace', async () => {
    const r = await termRun(['probes/misc', 'caller', '--input', '{}'], [
      { when: /Grant \[a\]ll, \[s\]ome, or \[d\]eny\?/, say: 's' },
      { when: /Which numbers/, say: '1' },
      { when: /\[w\]orkspace/, say: 'w' },
    ]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /Read the environment variable PROBE_TOKEN/);
    assert.match(r.stdout, /reason: to call the probe API/);
    const p = body(await cli(['permissions', 'probes/misc']));
    assert.deepEqual(p.capabilities?.map((c) => [c.id, c.state]), [['env:PROBE_TOKEN', 'granted'], ['env:PROBE_OTHER', 'declined']]);
    const run = body(await cli(['run', 'probes/misc', 'env', '--input', '{"name":"PROBE_TOKEN"}']));
    assert.deepEqual(run.output?.env, [['PROBE_TOKEN', 'tok']]);
  });

  it('grant refuses undeclared capabilities; revoke takes one back for the next run', async () => {
    const bad = await cli(['grant', 'probes/misc', 'env:HOME']);
    assert.equal(body(bad).error?.code, 'MPP_E_GRANT_NOT_DECLARED');
    assert.equal((await cli(['grant', 'probes/misc', '--all'])).code, 0);
    assert.deepEqual(body(await cli(['run', 'probes/misc', 'env', '--input', '{"name":"x"}'])).output?.env?.map(([k]) => k).sort(), ['PROBE_OTHER', 'PROBE_TOKEN']);
    assert.equal((await cli(['revoke', 'probes/misc', 'env:PROBE_TOKEN'])).code, 0);
    assert.deepEqual(body(await cli(['run', 'probes/misc', 'env', '--input', '{"name":"x"}'])).output?.env, [['PROBE_OTHER', 'other']]);
    assert.equal(body(await cli(['grant', 'probes/misc', 'env:X', '--deny'])).error?.code, 'MPP_E_USAGE');
  });

  it('a destructive tool asks each time at a terminal; no means no, and a script cannot run it', async () => {
    const yes = await termRun(['probes/misc', 'delete', '--input', '{"path":"a.txt"}'], [{ when: /Approve\? \[y\/N\]/, say: 'y' }]);
    assert.equal(yes.code, 0, yes.stdout);
    assert.match(yes.stdout, /tool: +delete/);
    assert.match(yes.stdout, /"path":"a.txt"/);
    assert.match(yes.stdout, /agent: +mpp-cli \(unverified: a name the client gave itself\)/);
    const no = await termRun(['probes/misc', 'delete', '--input', '{"path":"a.txt"}'], [{ when: /Approve\? \[y\/N\]/, say: 'n' }]);
    assert.equal(no.code, 1);
    assert.match(no.stdout, /MPP_E_CONFIRMATION_DENIED/);
    assert.equal(body(await cli(['run', 'probes/misc', 'delete', '--input', '{"path":"a.txt","confirmed":true}'])).error?.code, 'MPP_E_CONFIRMATION_DENIED');
  });

  it('auditors verify the attestations offline from an export and the host public key alone', async () => {
    const pem = JSON.parse((await cli(['audit', 'host-key'])).stdout) as { publicKey: string };
    writeFileSync(join(dir, 'host.pub.pem'), pem.publicKey);
    assert.equal((await cli(['audit', 'export', '--out', join(dir, 'audit.jsonl')])).code, 0);
    const checked = JSON.parse((await mpp(['audit', 'verify', '--file', join(dir, 'audit.jsonl'), '--host-key', join(dir, 'host.pub.pem'), '--json'], { home: join(dir, 'auditor') })).stdout) as { attestations: { issued: number; consumed: number } };
    assert.deepEqual(checked.attestations, { issued: 1, consumed: 1 });
    writeFileSync(join(dir, 'other.pub.pem'), publicKeyToPem(generateKey().publicKey));
    const wrong = await mpp(['audit', 'verify', '--file', join(dir, 'audit.jsonl'), '--host-key', join(dir, 'other.pub.pem'), '--json'], { home: join(dir, 'auditor') });
    assert.equal(body(wrong).error?.code, 'MPP_E_ATTESTATION_INVALID');
  });

  it('agents: register a key, make a credential, call as that agent; a forged one is refused', async () => {
    const agentKey = generateKey();
    writeFileSync(join(dir, 'agent.pem'), privateKeyToPem(agentKey), { mode: 0o600 });
    writeFileSync(join(dir, 'agent.pub.pem'), publicKeyToPem(agentKey.publicKey));
    assert.equal((await cli(['agent', 'add', 'acme/bot', join(dir, 'agent.pub.pem')])).code, 0);
    assert.deepEqual((JSON.parse((await cli(['agent', 'list'])).stdout) as { agents: { id: string }[] }).agents.map((a) => a.id), ['acme/bot']);
    const made = await cli(['agent', 'credential', '--key', join(dir, 'agent.pem'), '--agent', 'acme/bot', '--ttl', '1h', '--out', join(dir, 'cred.json')]);
    assert.equal(made.code, 0, made.stdout);
    const r = body(await cli(['run', 'probes/misc', 'caller', '--input', '{}', '--credential', join(dir, 'cred.json')]));
    assert.deepEqual(r.output?.caller, { agentId: 'acme/bot', displayName: 'acme/bot', verified: true });
    const forger = generateKey();
    writeFileSync(join(dir, 'forger.pem'), privateKeyToPem(forger), { mode: 0o600 });
    const forged = JSON.parse((await cli(['agent', 'credential', '--key', join(dir, 'forger.pem'), '--agent', 'acme/bot'])).stdout) as { credential: string };
    const refused = await cli(['run', 'probes/misc', 'caller', '--input', '{}'], { MPP_AGENT_CREDENTIAL: forged.credential });
    assert.equal(body(refused).error?.code, 'MPP_E_AGENT_CREDENTIAL_INVALID');
    assert.equal(body(await cli(['agent', 'add', 'acme/bot', join(dir, 'pub.pem')])).error?.code, 'MPP_E_AGENT_EXISTS');
    assert.equal((await cli(['agent', 'remove', 'acme/bot'])).code, 0);
    assert.equal(body(await cli(['run', 'probes/misc', 'caller', '--input', '{}', '--credential', join(dir, 'cred.json')])).error?.code, 'MPP_E_AGENT_CREDENTIAL_INVALID');
  });
});
