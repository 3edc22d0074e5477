import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { serializeManifest, type Manifest, type Sensitivity } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { mcpToolName } from '../../runtime/mcp/names.ts';
import { MCP_ERROR_META } from '../../runtime/mcp/server.ts';
import { generateKey, privateKeyToPem, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { CLI, mpp, tempDir } from '../helpers/cli.ts';

/**
 * `mpp mcp` as an MCP client runs it: the SDK's Client spawns the built CLI
 * over stdio, against a home with real signed packages (the misc probe), and
 * governance decisions made with the CLI.
 */
const any = { type: 'object' } as const;
const tool = (name: string, sensitivity: Sensitivity, inputSchema: Manifest['tools'][number]['inputSchema'] = any) => ({ name, description: `Probe: ${name}.`, sensitivity, inputSchema, outputSchema: any });
const ECHO_INPUT = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false } as const;

type Answer = ElicitResult | 'none';

describe('mpp mcp', () => {
  const dir = tempDir({ after }, 'mcp');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const file = (name: string) => join(dir, name);
  const ECHO = mcpToolName('probes/misc', 'echo');
  const COUNTER = mcpToolName('probes/misc', 'counter');
  const CALLER = mcpToolName('probes/misc', 'caller');
  const LOOP = mcpToolName('probes/slow', 'loop');
  const cli = async (args: string[]) => {
    const r = await mpp([...args, '--json'], { home, cwd: ws });
    assert.equal(r.code, 0, `mpp ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  /** A client session; `answer` is what it replies to elicitations ('none': it does not declare the capability). */
  const connect = async (t: { after(fn: () => Promise<void>): void }, opts: { name?: string; answer?: Answer; args?: string[] } = {}) => {
    const answer = opts.answer ?? 'none';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', '--workspace', ws, ...(opts.args ?? [])],
      env: { PATH: process.env.PATH ?? '', HOME: home, MPP_HOME: home },
      cwd: ws,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d));
    const client = new Client({ name: opts.name ?? 'mcp-test-client', version: '1.0.0' }, { capabilities: answer === 'none' ? {} : { elicitation: {} } });
    const asked: string[] = [];
    if (answer !== 'none') {
      client.setRequestHandler(ElicitRequestSchema, (request) => {
        asked.push(request.params.message);
        return answer;
      });
    }
    await client.connect(transport);
    t.after(() => client.close());
    const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult;
    return { client, call, asked, stderr: () => stderr };
  };
  const errorCode = (r: CallToolResult) => {
    assert.equal(r.isError, true, JSON.stringify(r));
    return (r._meta?.[MCP_ERROR_META] as { code: string }).code;
  };
  const echoes = async (call: (n: string, a?: Record<string, unknown>) => Promise<CallToolResult>, text = 'still here') => {
    const r = await call(ECHO, { text });
    assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.deepEqual(r.structuredContent, { tool: 'echo', input: { text } });
  };

  before(async () => {
    const key = generateKey();
    const component = await fixtureComponent('misc-probe');
    const base = { mpp: 1 as const, version: '1.0.0', description: 'A probe.', publisher: { name: 'Probes' } };
    const pack = (manifest: Manifest, name: string) => writeFileSync(file(name), signPackage(writeArchive(new Map([['manifest.json', serializeManifest(manifest)], ['tool.wasm', component]])), key));
    // Declares a capability, so it runs only once granted.
    pack({ ...base, name: 'probes/misc', tools: [tool('echo', 'none', ECHO_INPUT), tool('counter', 'write'), tool('caller', 'read')], permissions: { environment: [{ name: 'PROBE_TOKEN' }] } }, 'misc.mpp');
    // Asks for nothing (runs without a decision), with a short time limit.
    pack({ ...base, name: 'probes/slow', tools: [tool('loop', 'none')], limits: { timeoutMs: 500 } }, 'slow.mpp');
    pack({ ...base, name: 'probes/later', tools: [tool('echo', 'none')] }, 'later.mpp');
    writeFileSync(file('key.pub.pem'), publicKeyToPem(key.publicKey));
    await cli(['trust', 'add', file('key.pub.pem'), '--name', 'Probes']);
    await cli(['install', file('misc.mpp')]);
    await cli(['install', file('slow.mpp')]);
  });

  describe('one session, no elicitation', () => {
    let s: Awaited<ReturnType<typeof connect>>;
    const closers: (() => Promise<void>)[] = [];
    before(async () => {
      s = await connect({ after: (fn) => closers.push(fn) });
    });
    after(() => Promise.all(closers.map((c) => c())));

    it('lists every installed tool under its mapped name, with its schemas and description', async () => {
      const { tools } = await s.client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [CALLER, COUNTER, ECHO, LOOP].sort());
      assert.equal(ECHO, 'probes_misc__echo');
      const echo = tools.find((t) => t.name === ECHO)!;
      assert.deepEqual(echo.inputSchema, ECHO_INPUT);
      assert.deepEqual(echo.outputSchema, any);
      assert.match(echo.description ?? '', /^Probe: echo\.[\s\S]*probes\/misc 1\.0\.0 by Probes/);
      assert.equal(tools.find((t) => t.name === COUNTER)!.annotations?.readOnlyHint, false);
    });

    it('refuses a package without a grant with MPP_E_CONSENT_REQUIRED, saying how to grant; runs it once granted', async () => {
      const r = await s.call(ECHO, { text: 'hi' });
      assert.equal(errorCode(r), 'MPP_E_CONSENT_REQUIRED');
      assert.match((r.content[0] as { text: string }).text, /mpp grant probes\/misc --all/);
      await cli(['grant', 'probes/misc', '--all', '--workspace', ws]);
      await echoes(s.call, 'hi');
    });

    it('answers input that breaks the schema with MPP_E_INPUT_INVALID, then serves the next call', async () => {
      assert.equal(errorCode(await s.call(ECHO, { text: 5 })), 'MPP_E_INPUT_INVALID');
      assert.equal(errorCode(await s.call(ECHO, { text: 'x', extra: true })), 'MPP_E_INPUT_INVALID');
      await echoes(s.call);
    });

    it('refuses a write tool when the client cannot elicit (never auto-approved), then serves the next call', async () => {
      assert.equal(errorCode(await s.call(COUNTER)), 'MPP_E_CONFIRMATION_DENIED');
      await echoes(s.call);
    });

    it('stops a looping tool at its time limit with MPP_E_TOOL_TIMEOUT, then serves the next call', async () => {
      assert.equal(errorCode(await s.call(LOOP)), 'MPP_E_TOOL_TIMEOUT');
      await echoes(s.call);
    });

    it('answers an unknown tool name with MPP_E_TOOL_UNKNOWN, then serves the next call', async () => {
      assert.equal(errorCode(await s.call('probes_misc__nope')), 'MPP_E_TOOL_UNKNOWN');
      await echoes(s.call);
    });

    it('a call sees an install or uninstall made since the last call, listed or not', async () => {
      const LATER = mcpToolName('probes/later', 'echo');
      await echoes(s.call);
      await cli(['install', file('later.mpp')]);
      const r = await s.call(LATER, { text: 'new' });
      assert.equal(r.isError, undefined, JSON.stringify(r));
      assert.deepEqual(r.structuredContent, { tool: 'echo', input: { text: 'new' } });
      await cli(['uninstall', 'probes/later']);
      assert.equal(errorCode(await s.call(LATER, { text: 'gone' })), 'MPP_E_TOOL_UNKNOWN');
      await echoes(s.call);
    });

    it('tells the client when a package is installed or uninstalled, and lists it', async () => {
      const changed = () => new Promise<void>((resolve) => s.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      const LATER = mcpToolName('probes/later', 'echo');
      // The server tells a client once per list it saw: an earlier test's install may already have
      // been told (the watcher ticking between its install and uninstall). Listing first makes this
      // test's change the news.
      await s.client.listTools();
      let next = changed();
      await cli(['install', file('later.mpp')]);
      await next;
      assert.ok((await s.client.listTools()).tools.some((t) => t.name === LATER));
      next = changed();
      await cli(['uninstall', 'probes/later']);
      await next;
      assert.ok(!(await s.client.listTools()).tools.some((t) => t.name === LATER));
    });

    it('records the MCP client as the unverified agent in the audit log', () => {
      const log = openAuditLog(home, { readOnly: true });
      try {
        const agent = 'unverified:mcp-test-client';
        const invokes = log.query({ type: 'invoke', agent });
        assert.ok(invokes.some((r) => r.event.type === 'invoke' && r.event.package === 'probes/misc' && r.event.outcome === 'ok'));
        assert.ok(invokes.some((r) => r.event.type === 'invoke' && r.event.package === 'probes/slow' && r.event.code === 'MPP_E_TOOL_TIMEOUT'));
        const denies = log.query({ type: 'deny', agent }).map((r) => (r.event.type === 'deny' ? r.event.code : ''));
        assert.ok(denies.includes('MPP_E_CONSENT_REQUIRED') && denies.includes('MPP_E_CONFIRMATION_DENIED'), denies.join());
      } finally {
        log.close();
      }
    });
  });

  it('prepares the packages it listed for their first call while idle, recording, granting and running nothing', async (t) => {
    const records = () => {
      const log = openAuditLog(home, { readOnly: true });
      try {
        return log.query({}).length;
      } finally {
        log.close();
      }
    };
    const before = records();
    const s = await connect(t, { name: 'mcp-prepare-client' });
    assert.doesNotMatch(s.stderr(), /prepared for its first call/, 'nothing is prepared before the client is shown the tools');
    await s.client.listTools();
    // Both have their grant already (probes/misc granted above, probes/slow asks for nothing). A bound, not an expectation: a loaded machine is slow.
    const preparedLines = () => s.stderr().match(/prepared for its first call.*/g) ?? [];
    for (const until = Date.now() + 120_000; preparedLines().length < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    for (const name of ['misc', 'slow']) {
      assert.match(s.stderr(), new RegExp(`\\[sandbox\\] debug: probes/${name} 1\\.0\\.0 prepared for its first call in \\d+ ms \\(sandbox started under its stored grant\\)`), s.stderr());
    }
    assert.equal(preparedLines().length, 2, s.stderr());
    assert.equal(records(), before, 'preparing is not a call: nothing is recorded');
    // A sandbox started under a grant serves only calls that still have it.
    await cli(['revoke', 'probes/misc', '--all', '--workspace', ws]);
    assert.equal(errorCode(await s.call(ECHO, { text: 'revoked since' })), 'MPP_E_CONSENT_REQUIRED');
    await cli(['grant', 'probes/misc', '--all', '--workspace', ws]);
    await echoes(s.call, 'granted again');
  });

  describe('confirmations through elicitation', () => {
    it('a declined elicitation refuses the call', async (t) => {
      const s = await connect(t, { answer: { action: 'decline' } });
      assert.equal(errorCode(await s.call(COUNTER)), 'MPP_E_CONFIRMATION_DENIED');
      assert.equal(s.asked.length, 1);
      assert.match(s.asked[0]!, /mcp-test-client \(unverified: a name the client gave itself\) wants to call counter of probes\/misc 1\.0\.0 \(write\)/);
      await echoes(s.call);
    });

    it('accepting without approve = true refuses the call', async (t) => {
      const s = await connect(t, { answer: { action: 'accept', content: { approve: false } } });
      assert.equal(errorCode(await s.call(COUNTER)), 'MPP_E_CONFIRMATION_DENIED');
      assert.equal(s.asked.length, 1);
    });

    it('an approval runs the call', async (t) => {
      const s = await connect(t, { answer: { action: 'accept', content: { approve: true } } });
      const r = await s.call(COUNTER);
      assert.equal(r.isError, undefined, JSON.stringify(r));
      assert.deepEqual(r.structuredContent, { calls: 1 });
      assert.equal(s.asked.length, 1);
    });
  });

  it('calls as the agent of a credential given in configuration: verified', async (t) => {
    const agentKey = generateKey();
    writeFileSync(file('agent.pub.pem'), publicKeyToPem(agentKey.publicKey));
    writeFileSync(file('agent.pem'), privateKeyToPem(agentKey));
    await cli(['agent', 'add', 'test-agent', file('agent.pub.pem')]);
    await cli(['agent', 'credential', '--key', file('agent.pem'), '--agent', 'test-agent', '--out', file('agent.credential')]);
    const s = await connect(t, { args: ['--credential', file('agent.credential')] });
    const r = await s.call(CALLER);
    assert.deepEqual(r.structuredContent, { ok: true, caller: { agentId: 'test-agent', displayName: 'test-agent', verified: true } });
    const log = openAuditLog(home, { readOnly: true });
    try {
      const invoke = log.query({ type: 'invoke', agent: 'test-agent' }).at(-1)?.event;
      assert.deepEqual(invoke?.type === 'invoke' ? invoke.agent : undefined, { id: 'test-agent', verified: true });
    } finally {
      log.close();
    }
  });

  it('refuses to start with a credential that does not verify', async () => {
    writeFileSync(file('forged.credential'), 'not a credential');
    const r = await mpp(['mcp', '--credential', file('forged.credential'), '--json'], { home, cwd: ws });
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'MPP_E_AGENT_CREDENTIAL_INVALID');
  });

  it('offers only the packages and tools asked for', async (t) => {
    const names = async (args: string[]) => (await (await connect(t, { args })).client.listTools()).tools.map((x) => x.name).sort();
    assert.deepEqual(await names(['--package', 'probes/slow']), [LOOP]);
    assert.deepEqual(await names(['--tool', 'echo', '--tool', 'probes/misc/caller']), [CALLER, ECHO].sort());
    assert.deepEqual(await names(['--package', 'probes/misc', '--tool', 'loop']), []);
    const s = await connect(t, { args: ['--tool', 'echo'] });
    assert.equal(errorCode(await s.call(COUNTER)), 'MPP_E_TOOL_UNKNOWN');
  });

  it('refuses malformed filters as usage errors', async () => {
    for (const args of [['--package', 'Not A Package'], ['--tool', 'probes/misc/Bad Tool'], ['--tool', 'UPPER']]) {
      const r = await mpp(['mcp', ...args, '--json'], { home, cwd: ws });
      assert.equal(r.code, 2, args.join(' '));
      assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'MPP_E_USAGE', args.join(' '));
    }
  });
});
