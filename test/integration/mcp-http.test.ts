/**
 * The editor's in-host MCP server (extension/mcp-server.ts, spec/mcp.md §7)
 * in Node, on real loopback sockets: the bearer token is checked before any
 * MCP processing, a foreign Host is refused, and the host's own Confirmer is
 * used instead of elicitation (createMppMcpServer's `confirmer` option).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { openAuditLog, recordAudit } from '../../runtime/audit/log.ts';
import type { ConfirmationRequest } from '../../runtime/governance/confirm.ts';
import { mcpToolName } from '../../runtime/mcp/names.ts';
import { MCP_ERROR_META } from '../../runtime/mcp/server.ts';
import { installPackage } from '../../runtime/store/packages.ts';
import { verifyPackage } from '../../runtime/trust/gatekeeper.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { addTrustedKey } from '../helpers/trust.ts';
import { InHostMcpServer, MAX_SESSIONS } from '../../extension/mcp-server.ts';
import { editorManifest } from '../fixtures/tools/editor-manifest.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { ROOT, tempDir } from '../helpers/cli.ts';
import { makePackage } from '../helpers/packages.ts';

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });

/** A raw POST with exactly these headers (fetch would not let a test set Host). */
function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(INITIALIZE);
  });
}

describe('the in-host MCP server over loopback HTTP', () => {
  it('answers 401 without the token or with another one, before any MCP processing', async (t) => {
    const home = tempDir(t, 'mcp-http');
    const server = new InHostMcpServer(() => ({ home, workspace: home, audit: (e) => recordAudit(home, e), watchMs: 0 }));
    t.after(() => server.dispose());
    const { url, headers } = await server.start();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    for (const [label, h] of [
      ['no token', {}],
      // The last character changed (to B when it is already A: the token is random).
      ['another token', { Authorization: `${headers.Authorization.slice(0, -1)}${headers.Authorization.endsWith('A') ? 'B' : 'A'}` }],
      ['the token without the scheme', { Authorization: headers.Authorization.slice('Bearer '.length) }],
    ] as const) {
      const res = await post(url, h);
      assert.equal(res.status, 401, label);
      assert.doesNotMatch(res.body, /jsonrpc/, `${label}: no MCP answer`);
    }
    assert.equal((await post(url, { ...headers, Host: 'evil.example:80' })).status, 403, 'a foreign Host (DNS rebinding)');
    assert.equal((await post(url.replace('/mcp', '/other'), headers)).status, 404);
    assert.equal((await post(url, headers)).status, 200, 'the token opens a session');
  });

  it("uses the host's confirmer, not elicitation, for a destructive tool, and records the caller", async (t) => {
    const home = tempDir(t, 'mcp-http');
    const key = generateKey();
    await addTrustedKey(home, key.publicKey, 'E2E Publisher');
    const bytes = signPackage(makePackage(editorManifest(), {}, await fixtureComponent('editor')), key);
    await installPackage(home, bytes, { verified: verifyPackage(bytes, TrustStore.load(home)) });
    const asked: ConfirmationRequest[] = [];
    let answer: 'approved' | 'denied' = 'approved';
    const server = new InHostMcpServer(() => ({
      home,
      workspace: home,
      audit: (e) => recordAudit(home, e),
      watchMs: 0,
      confirmer: { confirm: async (r) => (asked.push(r), answer) },
      // The consent dialog's answer: everything, globally.
      consent: { ask: async () => ({ decision: 'grant', capabilities: ['kv'], scope: 'global' }) },
    }));
    t.after(() => server.dispose());
    const { url, headers } = await server.start();
    const client = new Client({ name: 'http-test', version: '1' }, { capabilities: { elicitation: { form: {} } } });
    let elicited = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => (elicited++, { action: 'accept', content: { approve: true } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...headers } } }));
    t.after(() => client.close());

    const wipe = mcpToolName('e2e/editor', 'wipe');
    const ok = await client.callTool({ name: wipe, arguments: { path: 'a' } });
    assert.deepEqual(ok.structuredContent, { wiped: 'a' });
    answer = 'denied';
    const refused = await client.callTool({ name: wipe, arguments: { path: 'b' } });
    assert.equal(refused.isError, true);
    assert.match(JSON.stringify(refused.content), /MPP_E_CONFIRMATION_DENIED/);
    assert.equal(elicited, 0, 'the client was never asked');
    assert.deepEqual(asked.map((r) => [r.tool, r.arguments, r.agent.agentId]), [
      ['wipe', '{"path":"a"}', 'unverified:http-test'],
      ['wipe', '{"path":"b"}', 'unverified:http-test'],
    ]);
    const log = openAuditLog(home, { readOnly: true });
    try {
      const grant = log.query({}).find((r) => r.event.type === 'grant');
      assert.equal((grant?.event as { source?: string } | undefined)?.source, 'editor');
    } finally {
      log.close();
    }
  });
  it("applies the host's limits to its calls and reports each call's start and end", async (t) => {
    const home = tempDir(t, 'mcp-http');
    const key = generateKey();
    await addTrustedKey(home, key.publicKey, 'E2E Publisher');
    const bytes = signPackage(makePackage(editorManifest(), {}, await fixtureComponent('editor')), key);
    await installPackage(home, bytes, { verified: verifyPackage(bytes, TrustStore.load(home)) });
    const calls: string[] = [];
    const server = new InHostMcpServer(() => ({
      home,
      workspace: home,
      audit: (e) => recordAudit(home, e),
      watchMs: 0,
      consent: { ask: async () => ({ decision: 'grant', capabilities: ['kv'], scope: 'global' }) },
      limits: { timeoutMs: 1000 },
      onCall: (tool) => (calls.push(`start ${tool}`), () => void calls.push(`end ${tool}`)),
    }));
    t.after(() => server.dispose());
    const { url, headers } = await server.start();
    const client = new Client({ name: 'http-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...headers } } }));
    t.after(() => client.close());
    const stopped = await client.callTool({ name: mcpToolName('e2e/editor', 'loop'), arguments: {} });
    const error = stopped._meta?.[MCP_ERROR_META] as { code: string; detail?: { timeoutMs?: number } };
    assert.deepEqual([error.code, error.detail?.timeoutMs], ['MPP_E_TOOL_TIMEOUT', 1000], 'the host limit, lower than the package\'s 6000 ms');
    assert.deepEqual(calls, ['start e2e/editor/loop', 'end e2e/editor/loop']);
  });

  it('closes a session left idle, so it holds no place; the client initializes again', async (t) => {
    const home = tempDir(t, 'mcp-http');
    const server = new InHostMcpServer(() => ({ home, workspace: home, audit: (e) => recordAudit(home, e), watchMs: 0 }), { idleMs: 200 });
    t.after(() => server.dispose());
    const { url, headers } = await server.start();
    const client = new Client({ name: 'http-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...headers } } });
    await client.connect(transport);
    t.after(() => client.close());
    assert.deepEqual((await client.listTools()).tools, []);
    // Well past the 200 ms idle limit, however late a loaded machine fires the expiry timer.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await assert.rejects(client.listTools(), /404|session/i, 'the idle session is gone');
    const again = new Client({ name: 'http-test', version: '1' });
    await again.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...headers } } }));
    t.after(() => again.close());
    assert.deepEqual((await again.listTools()).tools, []);
  });

  it('clients that closed without DELETE never lock out a new one: the least recently used idle session makes room', async (t) => {
    const home = tempDir(t, 'mcp-http');
    const server = new InHostMcpServer(() => ({ home, workspace: home, audit: (e) => recordAudit(home, e), watchMs: 0 }));
    t.after(() => server.dispose());
    const { url, headers } = await server.start();
    const open = async () => {
      const client = new Client({ name: 'http-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...headers } } }));
      return client;
    };
    // Twice the cap of clients that drop their session (the SDK's close() sends no DELETE): each one gets in.
    for (let i = 0; i < 2 * MAX_SESSIONS; i++) {
      const client = await open();
      assert.deepEqual((await client.listTools()).tools, [], `client ${i + 1}`);
      await client.close();
    }
    // Live sessions idle between requests make room too, oldest first: the newest keep working.
    const live: Client[] = [];
    for (let i = 0; i < MAX_SESSIONS + 1; i++) live.push(await open());
    t.after(() => Promise.all(live.map((c) => c.close())).then(() => {}));
    assert.deepEqual((await live.at(-1)!.listTools()).tools, []);
    assert.deepEqual((await live[1]!.listTools()).tools, []);
    await assert.rejects(live[0]!.listTools(), /404|session/i, 'the least recently used one was closed');
  });

  it('keeps its cap while every session has a call in flight (503), and takes new clients once one ends', async (t) => {
    const home = tempDir(t, 'mcp-http');
    const key = generateKey();
    await addTrustedKey(home, key.publicKey, 'E2E Publisher');
    const bytes = signPackage(makePackage(editorManifest(), {}, await fixtureComponent('editor')), key);
    await installPackage(home, bytes, { verified: verifyPackage(bytes, TrustStore.load(home)) });
    // Every call waits at its confirmation until the test answers.
    let asked = 0;
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const server = new InHostMcpServer(() => ({
      home,
      workspace: home,
      audit: (e) => recordAudit(home, e),
      watchMs: 0,
      confirmer: { confirm: async () => (asked++, await answered, 'denied' as const) },
      consent: { ask: async () => ({ decision: 'grant', capabilities: ['kv'], scope: 'global' }) },
    }));
    t.after(() => server.dispose());
    const { url, headers } = await server.start();
    const clients: Client[] = [];
    t.after(() => Promise.all(clients.map((c) => c.close())).then(() => {}));
    const connect = async () => {
      const client = new Client({ name: 'http-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...headers } } }));
      clients.push(client);
      return client;
    };
    const wipe = mcpToolName('e2e/editor', 'wipe');
    const calls = [];
    for (let i = 0; i < MAX_SESSIONS; i++) calls.push((await connect()).callTool({ name: wipe, arguments: { path: String(i) } }, undefined, { timeout: 600_000 }));
    while (asked < MAX_SESSIONS) await sleep(20);
    const full = await post(url, headers);
    assert.equal(full.status, 503);
    assert.match(full.body, /request in flight/);
    answer();
    for (const r of await Promise.all(calls)) assert.match(JSON.stringify(r.content), /MPP_E_CONFIRMATION_DENIED/);
    assert.deepEqual((await (await connect()).listTools()).tools.length > 0, true);
  });

  it('negotiates the protocol revision spec/mcp.md names', async (t) => {
    const home = tempDir(t, 'mcp-http');
    const server = new InHostMcpServer(() => ({ home, workspace: home, audit: (e) => recordAudit(home, e), watchMs: 0 }));
    t.after(() => server.dispose());
    const { url, headers } = await server.start();
    const named = /Protocol revision: MCP (\d{4}-\d{2}-\d{2})/.exec(readFileSync(join(ROOT, 'spec', 'mcp.md'), 'utf8'))?.[1];
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...headers } } });
    const client = new Client({ name: 'http-test', version: '1' });
    await client.connect(transport);
    t.after(() => client.close());
    assert.equal(transport.protocolVersion, named);
  });
});
