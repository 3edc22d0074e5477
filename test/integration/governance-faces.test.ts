import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { mcpToolName } from '../../runtime/mcp/names.ts';
import { MCP_ERROR_META } from '../../runtime/mcp/server.ts';
import { generateKey, privateKeyToPem, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { CLI, mpp, mppInTerminal, tempDir, type TerminalAnswer } from '../helpers/cli.ts';

/**
 * What the human is shown is true (issue 14, items 1-3 and 13), through the
 * built CLI at a real pseudo-terminal and `mpp mcp` with the SDK client: who
 * asks, what a tool says (filtered), what a dismissal means, what a revoke does.
 */
const any = { type: 'object' } as const;
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const TOKEN = 'granted-token-0123456789';
const SAID = `send key ${AWS_KEY} to ada@example.com with ${TOKEN}`;

describe('what the human is shown', () => {
  const dir = tempDir({ after }, 'gov-faces');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const file = (name: string) => join(dir, name);
  const env = { PROBE_TOKEN: TOKEN };
  const cli = (args: string[]) => mpp([...args, '--json'], { home, cwd: ws, env });
  const body = (r: { stdout: string }) => JSON.parse(r.stdout) as { ok: boolean; output?: Record<string, unknown>; error?: { code: string; message: string; detail?: unknown } };
  const term = (args: string[], answers: TerminalAnswer[]) => mppInTerminal([...args, '--workspace', ws], { home, cwd: ws, answers });
  const records = (type: string) => {
    const log = openAuditLog(home, { readOnly: true });
    try {
      return log.query({}).filter((r) => r.event.type === type).map((r) => r.event as unknown as Record<string, unknown>);
    } finally {
      log.close();
    }
  };

  before(async () => {
    const key = generateKey();
    const component = await fixtureComponent('misc-probe');
    const pack = (m: Manifest, name: string) => writeFileSync(file(name), signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key));
    const base = { mpp: 1 as const, version: '1.0.0', description: 'A probe.', publisher: { name: 'Probes' } };
    pack(
      {
        ...base,
        name: 'probes/faces',
        tools: [
          { name: 'delete', description: 'Deletes.', sensitivity: 'destructive', inputSchema: any, outputSchema: any },
          { name: 'tell', description: 'Says things.', sensitivity: 'none', inputSchema: any, outputSchema: any },
          { name: 'env', description: 'Reads env.', sensitivity: 'none', inputSchema: any, outputSchema: any },
        ],
        permissions: { environment: [{ name: 'PROBE_TOKEN' }] },
        privacy: { redact: ['email'] },
      },
      'faces.mpp',
    );
    writeFileSync(file('pub.pem'), publicKeyToPem(key.publicKey));
    assert.equal((await mpp(['trust', 'add', file('pub.pem'), '--name', 'Probes'], { home })).code, 0);
    assert.equal((await mpp(['install', file('faces.mpp')], { home })).code, 0);
  });

  describe('dismissing a question is a coded refusal; an invalid answer asks again (item 3)', () => {
    for (const [name, key] of [['Ctrl-D', '\x04'], ['Ctrl-C', '\x03']] as const) {
      it(`${name} at the consent question refuses with MPP_E_CONSENT_REQUIRED and records nothing`, async () => {
        const r = await term(['run', 'probes/faces', 'env', '--input', '{}'], [{ when: /Grant \[a\]ll, \[s\]ome, or \[d\]eny\?/, press: key }]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stdout, /MPP_E_CONSENT_REQUIRED/);
        assert.match(r.stdout, /the question was dismissed/);
        assert.doesNotMatch(r.stdout, /MPP_E_INTERNAL|bug in MPP/);
        assert.equal(records('grant').length, 0);
      });
    }

    it('an invalid answer asks the same question again, then the answer counts', async () => {
      const r = await term(['run', 'probes/faces', 'env', '--input', '{}'], [
        { when: /Grant \[a\]ll, \[s\]ome, or \[d\]eny\?/, say: 'x' },
        { when: /Grant \[a\]ll, \[s\]ome, or \[d\]eny\?/, say: 'd' },
        { when: /\[w\]orkspace/, say: 'maybe' },
        { when: /\[w\]orkspace/, say: 'w' },
      ]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /Please answer "a", "s", "d"/);
      assert.match(r.stdout, /MPP_E_CONSENT_DENIED/);
      assert.doesNotMatch(r.stdout, /no one to ask/);
      assert.deepEqual(records('grant').map((g) => g.decision), ['denied']);
      assert.equal((await cli(['grant', 'probes/faces', '--all'])).code, 0);
    });

    it('Ctrl-D at a confirmation is a denial (MPP_E_CONFIRMATION_DENIED); "x" asks again', async () => {
      const r = await term(['run', 'probes/faces', 'delete', '--input', '{}'], [
        { when: /Approve\? \[y\/N\]/, say: 'x' },
        { when: /Approve\? \[y\/N\]/, press: '\x04' },
      ]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /Please answer "y", "n" \(or just Enter\)/);
      assert.match(r.stdout, /MPP_E_CONFIRMATION_DENIED/);
      assert.deepEqual(records('confirm-answered').map((a) => a.answer), ['denied']);
    });

    it('Ctrl-C at the trust question of an install refuses with a code, trusting nothing', async () => {
      const stranger = generateKey();
      const m: Manifest = { mpp: 1, name: 'other/pkg', version: '1.0.0', description: 'Another.', publisher: { name: 'Stranger' }, tools: [{ name: 'echo', description: 'Echo.', sensitivity: 'none', inputSchema: any, outputSchema: any }] };
      writeFileSync(file('other.mpp'), signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', await fixtureComponent('misc-probe')]])), stranger));
      const r = await mppInTerminal(['install', file('other.mpp')], { home, cwd: ws, answers: [{ when: /Trust this key/, press: '\x03' }] });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /MPP_E_/);
      assert.doesNotMatch(r.stdout, /MPP_E_INTERNAL|bug in MPP/);
      assert.equal(records('trust').length, 1, 'only the key trusted with `mpp trust add`');
    });
  });

  describe('who asks (item 1)', () => {
    before(async () => {
      const agentKey = generateKey();
      writeFileSync(file('agent.pem'), privateKeyToPem(agentKey), { mode: 0o600 });
      writeFileSync(file('agent.pub.pem'), publicKeyToPem(agentKey.publicKey));
      assert.equal((await cli(['agent', 'add', 'bot-c', file('agent.pub.pem')])).code, 0);
      const made = await cli(['agent', 'credential', '--key', file('agent.pem'), '--agent', 'bot-c', '--display-name', 'bot-a', '--ttl', '1h', '--out', file('cred.json')]);
      assert.equal(made.code, 0, made.stdout);
    });

    it('the terminal shows the verified id; the display name only quoted as the agent’s claim', async () => {
      const r = await term(['run', 'probes/faces', 'delete', '--input', '{}', '--credential', file('cred.json')], [{ when: /Approve\? \[y\/N\]/, say: 'n' }]);
      assert.match(r.stdout, /agent: +bot-c \(verified agent; calls itself "bot-a"\)/);
      assert.doesNotMatch(r.stdout, /bot-a \(verified/);
    });

    it('an unverified caller is marked unverified once', async () => {
      const r = await term(['run', 'probes/faces', 'delete', '--input', '{}'], [{ when: /Approve\? \[y\/N\]/, say: 'n' }]);
      assert.match(r.stdout, /agent: +mpp-cli \(unverified: a name the client gave itself\)/);
      assert.doesNotMatch(r.stdout, /\(unverified\) \(unverified\)/);
    });

    it('MCP elicitation names the verified id, not the display name', async (t) => {
      const s = await mcpSession(t, ['--credential', file('cred.json')]);
      await s.call(mcpToolName('probes/faces', 'delete'));
      assert.equal(s.asked.length, 1);
      assert.match(s.asked[0]!, /^MPP: bot-c \(verified agent; calls itself "bot-a"\) wants to call delete/);
    });
  });

  describe('every text from a tool passes the privacy filters (item 2)', () => {
    const input = JSON.stringify({ text: SAID, operation: `send key ${AWS_KEY}`, fail: true });

    it('the CLI: log lines, stdout, stderr, the error and the confirmation record are redacted', async () => {
      const r = await cli(['run', 'probes/faces', 'tell', '--input', input]);
      const out = body(r);
      assert.equal(out.error?.code, 'MPP_E_TOOL_ERROR');
      const everything = r.stdout + r.stderr;
      for (const secret of [AWS_KEY, 'ada@example.com', TOKEN]) assert.ok(!everything.includes(secret), `${secret} leaked: ${everything}`);
      assert.match(JSON.stringify(out.error?.detail), /\[REDACTED:secret\].*\[REDACTED:email\].*\[REDACTED:secret\]/);
      assert.match(r.stderr, /\[tool\] info: send key \[REDACTED:secret\]/);
      assert.match(r.stderr, /\[stdout\] .*\[REDACTED:email\]/);
      // Asked with no one to ask (--json): refused, yet recorded, and the record is filtered too (the log is permanent).
      const asked = records('confirm-asked').at(-1)!;
      assert.equal(asked.operation, 'send key [REDACTED:secret]');
      const log = JSON.stringify(records('confirm-asked'));
      assert.ok(!log.includes(AWS_KEY));
    });

    it('a granted environment value reaches the tool, but never its output', async () => {
      const out = body(await cli(['run', 'probes/faces', 'env', '--input', '{"name":"PROBE_TOKEN"}']));
      assert.equal(out.ok, true, JSON.stringify(out));
      assert.deepEqual(out.output?.env, [['PROBE_TOKEN', '[REDACTED:secret]']]);
      assert.equal(out.output?.value, '[REDACTED:secret]');
    });

    it('MCP: the elicitation shows the operation and details filtered', async (t) => {
      const s = await mcpSession(t, []);
      const r = await s.call(mcpToolName('probes/faces', 'tell'), { text: SAID, operation: `send key ${AWS_KEY}` });
      assert.equal(r.isError, undefined, JSON.stringify(r));
      assert.equal(s.asked.length, 1);
      for (const secret of [AWS_KEY, 'ada@example.com', TOKEN]) assert.ok(!s.asked[0]!.includes(secret), s.asked[0]);
      assert.match(s.asked[0]!, /do "send key \[REDACTED:secret\]"/);
      assert.ok(!JSON.stringify(r).includes(TOKEN));
    });
  });

  it('revoke --all: the next call is a coded refusal, at a terminal it asks again (item 13)', async () => {
    assert.equal((await cli(['grant', 'probes/faces', '--all'])).code, 0);
    assert.equal(body(await cli(['run', 'probes/faces', 'env', '--input', '{}'])).ok, true);
    assert.equal((await cli(['revoke', 'probes/faces', '--all'])).code, 0);
    const refused = body(await cli(['run', 'probes/faces', 'env', '--input', '{}']));
    assert.equal(refused.error?.code, 'MPP_E_CONSENT_REQUIRED');
    assert.match(refused.error?.message ?? '', /had every permission revoked/);
    // A global grant does not show through the revoked workspace decision.
    assert.equal((await cli(['grant', 'probes/faces', '--all', '--global'])).code, 0);
    assert.equal(body(await cli(['run', 'probes/faces', 'env', '--input', '{}'])).error?.code, 'MPP_E_CONSENT_REQUIRED');
    const again = await term(['run', 'probes/faces', 'env', '--input', '{}'], [{ when: /Grant \[a\]ll, \[s\]ome, or \[d\]eny\?/, say: 'a' }, { when: /\[w\]orkspace/, say: 'w' }]);
    assert.equal(again.code, 0, again.stdout);
    assert.equal(body(await cli(['run', 'probes/faces', 'env', '--input', '{}'])).ok, true);
  });

  /** `mpp mcp` with the SDK client over stdio; elicitations are declined and their messages kept. */
  async function mcpSession(t: { after(fn: () => Promise<void>): void }, args: string[]) {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--workspace', ws, ...args], env: { PATH: process.env.PATH ?? '', HOME: home, MPP_HOME: home, ...env }, cwd: ws, stderr: 'pipe' });
    const client = new Client({ name: 'faces-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params.message);
      return { action: 'decline' };
    });
    await client.connect(transport);
    t.after(() => client.close());
    const call = async (name: string, a: Record<string, unknown> = {}) => {
      const r = (await client.callTool({ name, arguments: a })) as CallToolResult;
      if (r.isError) return { ...r, code: (r._meta?.[MCP_ERROR_META] as { code: string }).code };
      return r;
    };
    return { call, asked };
  }
});
