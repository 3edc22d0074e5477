import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { mcpToolName } from '../../runtime/mcp/names.ts';
import { generateKey, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { CLI, mpp, tempDir } from '../helpers/cli.ts';

/**
 * `mpp mcp` and the protocol itself, with the SDK client over stdio:
 * `notifications/cancelled` stops a running call (its worker), a malformed
 * `tools/call` is InvalidParams.
 */
const any = { type: 'object' } as const;

describe('mpp mcp: cancellation and protocol errors', () => {
  const dir = tempDir({ after }, 'mcp-protocol');
  const home = join(dir, 'home');
  const LOOP = mcpToolName('probes/slow', 'loop');
  const ECHO = mcpToolName('probes/slow', 'echo');
  let client: Client;

  /** The invoke records of a tool so far. */
  const invokes = (tool: string) => {
    const log = openAuditLog(home, { readOnly: true });
    try {
      return log.query({ type: 'invoke' }).map((r) => r.event).filter((e) => e.type === 'invoke' && e.tool === tool) as { outcome: string; code?: string }[];
    } finally {
      log.close();
    }
  };
  /** Waits (without a deadline: the condition is what ends it) until `ready` holds. */
  const until = async (ready: () => boolean) => {
    while (!ready()) await sleep(50);
  };

  before(async () => {
    const key = generateKey();
    // The longest time limit a host allows: only the cancellation can end the loop first.
    const m: Manifest = {
      mpp: 1,
      name: 'probes/slow',
      version: '1.0.0',
      description: 'A probe.',
      publisher: { name: 'Probes' },
      tools: ['loop', 'echo'].map((name) => ({ name, description: `Probe: ${name}.`, sensitivity: 'none' as const, inputSchema: any, outputSchema: any })),
      limits: { timeoutMs: 120_000 },
    };
    writeFileSync(join(dir, 'slow.mpp'), signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', await fixtureComponent('misc-probe')]])), key));
    writeFileSync(join(dir, 'pub.pem'), publicKeyToPem(key.publicKey));
    assert.equal((await mpp(['trust', 'add', join(dir, 'pub.pem'), '--name', 'Probes'], { home })).code, 0);
    assert.equal((await mpp(['install', join(dir, 'slow.mpp')], { home })).code, 0);
    client = new Client({ name: 'protocol-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--workspace', home], env: { PATH: process.env.PATH ?? '', HOME: home, MPP_HOME: home }, cwd: home, stderr: 'pipe' }));
  });
  after(() => client.close());

  it('notifications/cancelled stops a running call: cancelled, audited as MPP_E_CANCELLED, and the server serves the next call', async () => {
    const controller = new AbortController();
    const running = client.callTool({ name: LOOP, arguments: {} }, undefined, { signal: controller.signal });
    await until(() => invokes('loop').some((e) => e.outcome === 'started'));
    controller.abort('the user pressed stop');
    await assert.rejects(running);
    await until(() => invokes('loop').some((e) => e.outcome !== 'started'));
    assert.deepEqual(invokes('loop').map((e) => [e.outcome, e.code]), [['started', undefined], ['error', 'MPP_E_CANCELLED']]);
    const next = (await client.callTool({ name: ECHO, arguments: { text: 'after' } })) as CallToolResult;
    assert.equal(next.isError, undefined, JSON.stringify(next));
    assert.deepEqual(next.structuredContent, { tool: 'echo', input: { text: 'after' } });
  });

  it('a malformed tools/call is InvalidParams (-32602) naming the problem in one line, and the session goes on', async () => {
    for (const params of [{ name: 5 }, {}, { name: ECHO, arguments: 'not an object' }]) {
      const refused = await client.request({ method: 'tools/call', params: params as never }, CallToolResultSchema).then(
        () => assert.fail(`accepted ${JSON.stringify(params)}`),
        (e: unknown) => e,
      );
      assert.ok(refused instanceof McpError, String(refused));
      assert.equal(refused.code, -32602, refused.message);
      assert.match(refused.message, /Invalid tools\/call request: params\.(name|arguments): /);
      assert.doesNotMatch(refused.message, /\n|"expected"|\[\{/);
    }
    const next = (await client.callTool({ name: ECHO, arguments: {} })) as CallToolResult;
    assert.equal(next.isError, undefined, JSON.stringify(next));
  });
});
