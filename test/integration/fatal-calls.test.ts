/**
 * A host survives any sequence of failing calls (issue 13 item 1): 50 fatal
 * calls in a row — timeouts, out of memory, traps, exits — across grant
 * combinations (fs, kv, fs+kv, fs+env, fs+net, none), then every package
 * serves a normal call. Through `mpp mcp` driven by the MCP SDK client, and
 * through the editor's path (ToolHost over a kept SandboxPool, as
 * extension/calls.ts runs it). Every limit is reached deterministically: the
 * loop never ends, the allocation never stops.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { isMppError } from '../../runtime/errors.ts';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { ToolHost } from '../../runtime/governance/tool-host.ts';
import { mcpToolName } from '../../runtime/mcp/names.ts';
import { MCP_ERROR_META } from '../../runtime/mcp/server.ts';
import { DEFAULT_POOL_OPTIONS, SandboxPool } from '../../runtime/run/sandbox-pool.ts';
import { generateKey, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { CLI, mpp, tempDir } from '../helpers/cli.ts';

const any = { type: 'object' } as const;
// The loop can only end at the time limit. The others end on their own, unless a loaded machine
// makes the short limit come first (filling 64 MiB, or the engine's own work, is slow): either way
// a coded fatal refusal, which is what this test is about.
const FATAL: Record<string, readonly string[]> = {
  loop: ['MPP_E_TOOL_TIMEOUT'],
  memory: ['MPP_E_TOOL_MEMORY', 'MPP_E_TOOL_TIMEOUT'],
  trap: ['MPP_E_TOOL_CRASHED', 'MPP_E_TOOL_TIMEOUT'],
  exit: ['MPP_E_TOOL_CRASHED', 'MPP_E_TOOL_TIMEOUT'],
};
type Fatal = 'loop' | 'memory' | 'trap' | 'exit';
const COMBOS: Record<string, Manifest['permissions']> = {
  fs: { filesystem: [{ path: '${workspace}/data', access: 'read' }] },
  kv: { kv: { maxBytes: 4096 } },
  'fs-kv': { filesystem: [{ path: '${workspace}/data', access: 'read' }], kv: { maxBytes: 4096 } },
  'fs-env': { filesystem: [{ path: '${workspace}/data', access: 'read' }], environment: [{ name: 'PROBE_TOKEN' }] },
  'fs-net': { filesystem: [{ path: '${workspace}/data', access: 'read' }], network: [{ scheme: 'https', host: 'api.example.com', methods: ['GET'], reason: 'Looks things up.' }] },
  none: {},
};
const FATAL_CALLS = 50;

/** The n-th fatal call: every combination and every failure in turn. */
function nth(n: number): { pkg: string; tool: Fatal } {
  const combos = Object.keys(COMBOS);
  const tools = Object.keys(FATAL) as Fatal[];
  return { pkg: `fatal/${combos[n % combos.length]!}`, tool: tools[Math.floor(n / combos.length) % tools.length]! };
}

describe('a host after many fatal calls in a row', () => {
  const dir = tempDir({ after }, 'fatal-calls');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const cli = async (args: string[]) => {
    const r = await mpp([...args, '--json'], { home, cwd: ws });
    assert.equal(r.code, 0, `mpp ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  };

  before(async () => {
    mkdirSync(join(ws, 'data'), { recursive: true });
    const key = generateKey();
    const component = await fixtureComponent('misc-probe');
    writeFileSync(join(dir, 'key.pub.pem'), publicKeyToPem(key.publicKey));
    await cli(['trust', 'add', join(dir, 'key.pub.pem'), '--name', 'Probes']);
    for (const [combo, permissions] of Object.entries(COMBOS)) {
      const manifest: Manifest = {
        mpp: 1,
        name: `fatal/${combo}`,
        version: '1.0.0',
        description: 'Fails on purpose.',
        publisher: { name: 'Probes' },
        tools: [...Object.keys(FATAL), 'echo'].map((name) => ({ name, description: `Probe: ${name}.`, sensitivity: 'none' as const, inputSchema: any, outputSchema: any })),
        permissions,
        limits: { timeoutMs: 300, memoryMb: 64 },
      };
      const file = join(dir, `${combo}.mpp`);
      writeFileSync(file, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(manifest)], ['tool.wasm', component]])), key));
      await cli(['install', file]);
      if (combo !== 'none') await cli(['grant', manifest.name, '--all', '--workspace', ws]);
    }
  });

  it('mpp mcp answers 50 fatal calls with their codes, then serves every package', async (t) => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', '--workspace', ws],
      env: { PATH: process.env.PATH ?? '', HOME: home, MPP_HOME: home, PROBE_TOKEN: 'token' },
      cwd: ws,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d));
    const client = new Client({ name: 'fatal-test', version: '1.0.0' });
    await client.connect(transport);
    t.after(() => client.close());
    const call = async (pkg: string, tool: string) => {
      try {
        return (await client.callTool({ name: mcpToolName(pkg, tool), arguments: {} })) as CallToolResult;
      } catch (e) {
        // The server died: what it printed says why.
        throw new Error(`${pkg} ${tool}: ${(e as Error).message}\nmpp mcp stderr:\n${stderr.slice(-4000)}`);
      }
    };
    for (let n = 0; n < FATAL_CALLS; n++) {
      const { pkg, tool } = nth(n);
      const r = await call(pkg, tool);
      assert.equal(r.isError, true, `call ${n} (${pkg} ${tool}): ${JSON.stringify(r)}\n${stderr}`);
      const code = (r._meta?.[MCP_ERROR_META] as { code: string }).code;
      assert.ok(FATAL[tool]!.includes(code), `call ${n} (${pkg} ${tool}): ${code}`);
    }
    for (const combo of Object.keys(COMBOS)) {
      const r = await call(`fatal/${combo}`, 'echo');
      assert.equal(r.isError, undefined, `${combo}: ${JSON.stringify(r)}\n${stderr}`);
      assert.deepEqual(r.structuredContent, { tool: 'echo', input: {} });
    }
  });

  it('the editor\'s kept pool answers 50 fatal calls with their codes, then serves every package', async () => {
    const pool = new SandboxPool(DEFAULT_POOL_OPTIONS);
    const log = openAuditLog(home);
    const host = new ToolHost({ home, audit: (e) => void log.append(e), auditGrouped: (e) => log.appendGrouped(e), sandboxes: pool, env: { PROBE_TOKEN: 'token' } });
    const call = (pkg: string, tool: string) => host.call({ target: { installed: pkg }, tool, input: '{}', caller: { label: 'fatal-test' }, workspace: ws });
    try {
      for (let n = 0; n < FATAL_CALLS; n++) {
        const { pkg, tool } = nth(n);
        await assert.rejects(call(pkg, tool), (e: unknown) => isMppError(e) && FATAL[tool]!.includes(e.code), `call ${n} (${pkg} ${tool})`);
      }
      for (const combo of Object.keys(COMBOS)) {
        assert.deepEqual((await call(`fatal/${combo}`, 'echo')).output, { tool: 'echo', input: {} });
      }
    } finally {
      await pool.dispose();
      log.close();
    }
  });
});
