import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { generateKey, privateKeyToPem, publicKeyToPem, type PrivateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { CLI, mpp, tempDir } from '../helpers/cli.ts';
import { servedRegistry, stop, useRegistry } from '../helpers/registry.ts';

/**
 * The organisation policy through the real CLI and `mpp mcp`: every rule
 * refuses with its own code and names itself; a user's policy.json cannot
 * loosen it; a change applies at the next call. The policy is added with
 * MPP_ORG_POLICY_ADD (spec/org-policy.md §2), which can only restrict.
 */
const any = { type: 'object' } as const;

describe('organisation policy', () => {
  const dir = tempDir({ after }, 'org-policy');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const org = join(dir, 'org');
  const env = { PROBE_TOKEN: 'tok', AWS_SECRET: 'aws', MPP_ORG_POLICY_ADD: org };
  const cli = (args: string[], extra: Record<string, string> = {}) => mpp([...args, '--json'], { home, cwd: ws, env: { ...env, ...extra } });
  const body = (r: { stdout: string }) => JSON.parse(r.stdout) as { ok: boolean; output?: { value?: unknown }; error?: { code: string; message: string; detail?: { rule?: string } }; notices?: string[] };
  const setPolicy = (rules: object) => writeFileSync(join(org, 'org-policy.json'), JSON.stringify({ mppOrgPolicy: 1, name: 'Acme', ...rules }));
  let author: PrivateKey;
  let other: PrivateKey;
  let component: Uint8Array;

  const manifest = (name: string, version = '1.0.0'): Manifest => ({
    mpp: 1,
    name,
    version,
    description: 'A probe.',
    publisher: { name: 'Probes' },
    tools: [
      { name: 'env', description: 'Reads env.', sensitivity: 'read', inputSchema: any, outputSchema: any },
      { name: 'echo', description: 'Echoes.', sensitivity: 'none', inputSchema: any, outputSchema: any },
      { name: 'delete', description: 'Deletes.', sensitivity: 'write', inputSchema: any, outputSchema: any },
      { name: 'loop', description: 'Never returns.', sensitivity: 'none', inputSchema: any, outputSchema: any },
      { name: 'contact', description: 'Personal data.', sensitivity: 'none', inputSchema: any, outputSchema: any },
    ],
    permissions: { environment: [{ name: 'PROBE_TOKEN' }, { name: 'AWS_SECRET' }], network: [{ scheme: 'https', host: 'api.acme.example', methods: ['GET'] }, { scheme: 'https', host: 'evil.example', methods: ['GET'] }] },
  });
  const packageFile = (name: string, key: PrivateKey, version = '1.0.0'): string => {
    const file = join(dir, `${name.replace('/', '-')}-${version}-${key.publicKey.keyid.slice(0, 6)}.mpp`);
    writeFileSync(file, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(manifest(name, version))], ['tool.wasm', component]])), key));
    return file;
  };

  before(async () => {
    mkdirSync(ws, { recursive: true });
    mkdirSync(org, { recursive: true });
    component = await fixtureComponent('misc-probe');
    author = generateKey();
    other = generateKey();
    for (const [k, n] of [[author, 'author'], [other, 'other']] as const) {
      writeFileSync(join(dir, `${n}.pub.pem`), publicKeyToPem(k.publicKey));
      assert.equal((await mpp(['trust', 'add', join(dir, `${n}.pub.pem`), '--name', n], { home })).code, 0);
    }
    setPolicy({});
    const r = await cli(['install', packageFile('acme/probe', author)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('refuses an install from a publisher the policy does not list, and leaves nothing installed', async () => {
    setPolicy({ publishers: { allow: [author.publicKey.keyid] } });
    const r = await cli(['install', packageFile('acme/other', other)]);
    assert.equal(r.code, 1);
    assert.equal(body(r).error?.code, 'MPP_E_POLICY_PUBLISHER_BLOCKED');
    assert.equal(body(r).error?.detail?.rule, 'publishers.allow');
    assert.match(body(r).error!.message, /blocked by Acme's policy/);
    const list = JSON.parse((await cli(['list'])).stdout) as { packages: { name: string }[] };
    assert.deepEqual(list.packages.map((p) => p.name), ['acme/probe']);
  });

  it('refuses a blocked package at install and at every call, the version range deciding', async () => {
    setPolicy({ packages: { block: [{ name: 'acme/probe', versions: '<2.0.0', reason: 'CVE-2026-1' }] } });
    const install = await cli(['install', packageFile('acme/probe', author, '1.5.0')]);
    assert.equal(body(install).error?.code, 'MPP_E_POLICY_PACKAGE_BLOCKED');
    assert.match(body(install).error!.message, /CVE-2026-1/);
    // Installed before the rule: it no longer runs.
    const run = await cli(['run', 'acme/probe', 'echo', '--input', '{}']);
    assert.equal(body(run).error?.code, 'MPP_E_POLICY_PACKAGE_BLOCKED');
    assert.equal(body(run).error?.detail?.rule, 'packages.block[0]');
    assert.equal((await cli(['install', packageFile('acme/probe', author, '2.0.0')])).code, 0);
    assert.equal((await cli(['run', 'acme/probe', 'echo', '--input', '{}', '--no-grants'])).code, 0);
  });

  it('refuses installs from a source the policy forbids', async () => {
    setPolicy({ sources: { files: false } });
    const file = packageFile('acme/third', author);
    const r = await cli(['install', file]);
    assert.equal(body(r).error?.code, 'MPP_E_POLICY_SOURCE_BLOCKED');
    assert.equal(body(r).error?.detail?.rule, 'sources.files');
    // Running a file without installing it is a file source too.
    const run = await cli(['run', file, 'echo', '--input', '{}', '--no-grants']);
    assert.equal(body(run).error?.code, 'MPP_E_POLICY_SOURCE_BLOCKED');
  });

  it('refuses registry installs from a registry whose index key is not allowed, and OCI installs when OCI is off, before any download', async () => {
    const regDir = join(dir, 'registry');
    const server = await servedRegistry(regDir);
    try {
      const entry = await useRegistry(home, regDir, server.url);
      const token = (JSON.parse((await cli(['registry', 'token', 'create', '--dir', regDir])).stdout) as { token: string }).token;
      assert.equal((await cli(['publish', packageFile('acme/published', author), '--registry', 'local', '--token', token])).code, 0);
      setPolicy({ sources: { registries: ['0'.repeat(64)] } });
      const refused = await cli(['install', 'acme/published']);
      assert.equal(body(refused).error?.code, 'MPP_E_POLICY_SOURCE_BLOCKED');
      assert.equal(body(refused).error?.detail?.rule, 'sources.registries');
      setPolicy({ sources: { registries: [entry.keyid] } });
      assert.equal((await cli(['install', 'acme/published'])).code, 0);
    } finally {
      await stop(server.child);
    }
    setPolicy({ sources: { oci: false } });
    // Nothing listens there: the refusal comes before any connection.
    const oci = await cli(['install', 'oci://127.0.0.1:9/acme/probe:1.0.0']);
    assert.equal(body(oci).error?.code, 'MPP_E_POLICY_SOURCE_BLOCKED');
    assert.equal(body(oci).error?.detail?.rule, 'sources.oci');
  });

  it('never grants a forbidden capability: named ones are refused, --all leaves them out, stored ones are dropped at the next call', async () => {
    setPolicy({});
    assert.equal((await cli(['grant', 'acme/probe', '--all'])).code, 0);
    let value = body(await cli(['run', 'acme/probe', 'env', '--input', '{"name":"AWS_SECRET"}'])).output?.value;
    assert.equal(value, 'aws', 'granted before the rule');
    setPolicy({ capabilities: { environment: { deny: ['AWS_*'] }, network: { allow: ['https://api.acme.example'] } } });
    // A policy change applies at the next call, whatever was stored.
    const run = await cli(['run', 'acme/probe', 'env', '--input', '{"name":"AWS_SECRET"}']);
    assert.equal(body(run).output?.value, null);
    assert.match(run.stderr, /env:AWS_SECRET.*blocked by your organisation's policy \(.*capabilities\.environment\.deny\[0\]\)/);
    value = body(await cli(['run', 'acme/probe', 'env', '--input', '{"name":"PROBE_TOKEN"}'])).output?.value;
    assert.equal(value, 'tok', 'what the policy allows still runs');
    const named = await cli(['grant', 'acme/probe', 'net:https://evil.example']);
    assert.equal(body(named).error?.code, 'MPP_E_POLICY_CAPABILITY_BLOCKED');
    assert.equal(body(named).error?.detail?.rule, 'capabilities.network.allow');
    const oneOff = await cli(['run', 'acme/probe', 'env', '--input', '{"name":"AWS_SECRET"}', '--allow-env', 'AWS_SECRET']);
    assert.equal(body(oneOff).error?.code, 'MPP_E_POLICY_CAPABILITY_BLOCKED');
    const again = JSON.parse((await cli(['grant', 'acme/probe', '--all'])).stdout) as { grant: { capabilities: string[] } };
    assert.deepEqual(again.grant.capabilities.sort(), ['env:PROBE_TOKEN', 'net:https://api.acme.example']);
    const perms = JSON.parse((await cli(['permissions', 'acme/probe'])).stdout) as { capabilities: { id: string; blockedBy?: string }[] };
    assert.deepEqual(perms.capabilities.filter((c) => c.blockedBy).map((c) => [c.id, c.blockedBy]), [['net:https://evil.example', 'capabilities.network.allow'], ['env:AWS_SECRET', 'capabilities.environment.deny[0]']]);
  });

  it('confirms from the policy threshold, and a user policy.json cannot loosen it', async () => {
    setPolicy({ confirmAtOrAbove: 'read' });
    writeFileSync(join(home, 'policy.json'), JSON.stringify({ confirmAtOrAbove: 'destructive' }));
    const r = await cli(['run', 'acme/probe', 'env', '--input', '{"name":"PROBE_TOKEN"}']);
    assert.equal(body(r).error?.code, 'MPP_E_CONFIRMATION_DENIED', 'a read tool needs a confirmation nobody can give here');
    assert.equal((await cli(['run', 'acme/probe', 'echo', '--input', '{}'])).code, 0);
  });

  it('refuses write tools to unverified agents when the policy asks for verified ones', async () => {
    setPolicy({ verifiedAgentAtOrAbove: 'write' });
    const r = await cli(['run', 'acme/probe', 'delete', '--input', '{}']);
    assert.equal(body(r).error?.code, 'MPP_E_POLICY_AGENT_UNVERIFIED');
    assert.equal(body(r).error?.detail?.rule, 'verifiedAgentAtOrAbove');
  });

  it('caps limits and raises the privacy minimum', async () => {
    setPolicy({ limits: { timeoutMs: 300 }, privacyMinimum: ['email'] });
    const loop = await cli(['run', 'acme/probe', 'loop', '--input', '{}', '--no-grants']);
    assert.equal(body(loop).error?.code, 'MPP_E_TOOL_TIMEOUT');
    assert.match(body(loop).error!.message, /300 ms/);
    const contact = JSON.parse((await cli(['run', 'acme/probe', 'contact', '--input', '{"email":"ada@example.com"}', '--no-grants'])).stdout) as { output: { note: string } };
    assert.doesNotMatch(contact.output.note, /ada@example\.com/);
    assert.match(contact.output.note, /\[REDACTED:email\]/);
  });

  it('with required forwarding and its backlog past the bound, stop-calls refuses calls and continue lets them run', async () => {
    const target = 'syslog-tls://127.0.0.1:9'; // discard port: nothing listens, every round fails
    setPolicy({ auditForwarding: { required: true, target, maxBacklog: 1, whenBacklogFull: 'stop-calls' } });
    const stopped = await cli(['run', 'acme/probe', 'echo', '--input', '{}', '--no-grants']);
    assert.equal(body(stopped).error?.code, 'MPP_E_AUDIT_FORWARD_BACKLOG');
    setPolicy({ auditForwarding: { required: true, target, maxBacklog: 1, whenBacklogFull: 'continue' } });
    const goesOn = await cli(['run', 'acme/probe', 'echo', '--input', '{}', '--no-grants']);
    assert.equal(goesOn.code, 0);
    assert.match(goesOn.stderr, /audit records have not reached syslog-tls:\/\/127\.0\.0\.1:9 yet/);
  });

  it('a broken, tampered or unsigned-when-signed policy stops everything', async () => {
    writeFileSync(join(org, 'org-policy.json'), '{"mppOrgPolicy": 1, "unknown": true}');
    assert.equal(body(await cli(['run', 'acme/probe', 'echo', '--input', '{}'])).error?.code, 'MPP_E_ORG_POLICY_INVALID');
    const orgKey = generateKey();
    writeFileSync(join(dir, 'org.pem'), privateKeyToPem(orgKey));
    writeFileSync(join(org, 'org-key.pub.pem'), publicKeyToPem(orgKey.publicKey));
    setPolicy({});
    assert.equal(body(await cli(['run', 'acme/probe', 'echo', '--input', '{}'])).error?.code, 'MPP_E_ORG_POLICY_INVALID', 'a pinned key needs a signature');
    assert.equal((await cli(['policy', 'sign', join(org, 'org-policy.json'), '--key', join(dir, 'org.pem')])).code, 0);
    assert.equal((await cli(['run', 'acme/probe', 'echo', '--input', '{}'])).code, 0);
    const show = JSON.parse((await cli(['policy', 'show'])).stdout) as { policy: { signed: boolean } };
    assert.equal(show.policy.signed, true);
    writeFileSync(join(org, 'org-policy.json'), JSON.stringify({ mppOrgPolicy: 1, name: 'Acme ' }));
    const tampered = await cli(['install', packageFile('acme/fourth', author)]);
    assert.equal(body(tampered).error?.code, 'MPP_E_ORG_POLICY_INVALID');
    assert.match(body(tampered).error!.message, /does not verify/);
  });

  it('mpp policy check explains why a package is refused and what can never be granted', async () => {
    for (const f of ['org-key.pub.pem', 'org-policy.sig']) rmSync(join(org, f), { force: true });
    setPolicy({ publishers: { allow: [author.publicKey.keyid] }, capabilities: { network: { deny: ['https://evil.example'] } } });
    const ok = JSON.parse((await cli(['policy', 'check', 'acme/probe'])).stdout) as { report: { allowed: boolean; capabilities: { id: string; blockedBy?: string }[] } };
    assert.equal(ok.report.allowed, true);
    assert.deepEqual(ok.report.capabilities.filter((c) => c.blockedBy).map((c) => c.id), ['net:https://evil.example']);
    const refused = await cli(['policy', 'check', packageFile('acme/other', other)]);
    assert.equal(refused.code, 1);
    assert.equal(body(refused).error?.code, 'MPP_E_POLICY_PUBLISHER_BLOCKED');
  });

  it('mpp mcp refuses by policy with the code and the rule, and applies a change at the next call', async () => {
    setPolicy({});
    const client = new Client({ name: 'org-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--workspace', ws], env: { PATH: process.env.PATH ?? '', HOME: home, MPP_HOME: home, ...env }, stderr: 'ignore' }));
    try {
      const call = async () => (await client.callTool({ name: 'acme_probe__echo', arguments: {} })) as { isError?: boolean; content: { text: string }[] };
      assert.equal((await call()).isError, undefined);
      const rules: [object, RegExp][] = [
        [{ packages: { block: [{ name: 'acme/probe' }] } }, /^MPP_E_POLICY_PACKAGE_BLOCKED.*packages\.block\[0\]/s],
        [{ publishers: { allow: [other.publicKey.keyid] } }, /^MPP_E_POLICY_PUBLISHER_BLOCKED.*publishers\.allow/s],
        [{ verifiedAgentAtOrAbove: 'none' }, /^MPP_E_POLICY_AGENT_UNVERIFIED/],
        [{ confirmAtOrAbove: 'none' }, /^MPP_E_CONFIRMATION_DENIED/],
        [{ auditForwarding: { required: true, target: 'syslog-tls://127.0.0.1:9', maxBacklog: 1 } }, /^MPP_E_AUDIT_FORWARD_BACKLOG/],
      ];
      for (const [rules_, refusal] of rules) {
        setPolicy(rules_);
        const refused = await call();
        assert.equal(refused.isError, true, JSON.stringify(rules_));
        assert.match(refused.content[0]!.text, refusal);
      }
      setPolicy({});
      assert.equal((await call()).isError, undefined, 'a lifted rule lifts at the next call');
    } finally {
      await client.close();
    }
  });
});
