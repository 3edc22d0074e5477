/**
 * `mpp mcp` vs a plain MCP stdio server doing the same work: the example's
 * `greet` ({name} -> {greeting}), each called through the SDK's Client +
 * StdioClientTransport.
 *   mpp mcp    the built CLI (dist/cli.js, `npm run build` first) serving
 *              examples/hello, signed, trusted and installed in a temporary
 *              MPP home: every call is verified, governed, sandboxed in a fresh
 *              instance, redacted and audited (ToolHost.call).
 *   plain MCP  bench/mcp/server.ts (McpServer + zod), compiled to JavaScript
 *              as shipped servers are.
 *   ToolHost   the same governed call in this process, no MCP: how much of
 *              mpp mcp's time is governance + sandbox rather than the protocol.
 *
 * Measured: per-call latency of sequential calls (median, p95), blocks of
 * calls interleaved between the servers so machine load hits both alike;
 * calls per second sequentially and with --concurrency calls in flight.
 * Ratios are mpp/plain for latency and plain/mpp for calls per second
 * ("times slower"); no goal is set, the figures are what governance costs.
 *
 *   node bench/mcp-server.ts [--calls 100] [--warmup 10] [--concurrency 4]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { build } from 'esbuild';
import { recordAudit } from '../runtime/audit/log.ts';
import { buildPackage } from '../runtime/build/index.ts';
import { ToolHost } from '../runtime/governance/tool-host.ts';
import { mcpToolName } from '../runtime/mcp/names.ts';
import { generateKey, publicKeyToPem } from '../runtime/trust/keys.ts';
import { signPackage } from '../runtime/trust/sign.ts';
import { EXPECTED, INPUT } from './mcp/workload.ts';
import { median, ms, percentile } from './stats.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '100' }, warmup: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '4' } } });
const CALLS = Number(values.calls);
const WARMUP = Number(values.warmup);
const CONCURRENCY = Number(values.concurrency);
const BLOCK = 25;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first.');
const log = (s: string) => process.stderr.write(s + '\n');

// ---------------------------------------------------------------- setup

const tmp = mkdtempSync(join(tmpdir(), 'mpp-bench-mcp-server-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const home = join(tmp, 'home');
const workspace = join(tmp, 'ws');
mkdirSync(workspace, { recursive: true });
const env = { ...process.env, MPP_HOME: home } as Record<string, string>;
const cli = (args: string[]) => execFileSync(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });

const built = await buildPackage({ projectDir: join(ROOT, 'examples', 'hello') });
const key = generateKey();
writeFileSync(join(tmp, 'hello.mpp'), signPackage(built.archive, key));
writeFileSync(join(tmp, 'key.pub.pem'), publicKeyToPem(key.publicKey));
cli(['trust', 'add', join(tmp, 'key.pub.pem'), '--name', 'Bench']);
cli(['install', join(tmp, 'hello.mpp')]);
const PKG = built.manifest.name;

// The plain server as users run one: compiled to JavaScript, the SDK loaded from node_modules.
const serverDir = join(tmp, 'plain');
mkdirSync(serverDir);
symlinkSync(join(ROOT, 'node_modules'), join(serverDir, 'node_modules'), 'dir');
await build({ platform: 'node', target: 'node22', format: 'esm', logLevel: 'warning', entryPoints: [join(ROOT, 'bench/mcp/server.ts')], outfile: join(serverDir, 'server.js') });

type Call = () => Promise<void>;

async function mcpClient(args: string[], tool: string): Promise<{ call: Call; close: () => Promise<void> }> {
  const client = new Client({ name: 'mpp-bench', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env, cwd: workspace, stderr: 'ignore' }));
  return {
    call: async () => {
      const r = await client.callTool({ name: tool, arguments: INPUT });
      if (JSON.stringify(r.structuredContent) !== EXPECTED) throw new Error(`${args[0]} returned ${JSON.stringify(r)}`);
    },
    close: () => client.close(),
  };
}

const mpp = await mcpClient([CLI, 'mcp', '--workspace', workspace], mcpToolName(PKG, 'greet'));
const plain = await mcpClient([join(serverDir, 'server.js')], 'greet');
const host = new ToolHost({ home, audit: (e) => recordAudit(home, e) });
const inProcess: Call = async () => {
  const r = await host.call({ target: { installed: PKG }, tool: 'greet', input: JSON.stringify(INPUT), caller: { label: 'mpp-bench' }, workspace });
  if (JSON.stringify(r.output) !== EXPECTED) throw new Error(`ToolHost returned ${JSON.stringify(r.output)}`);
};
const SUBJECTS: Record<string, Call> = { 'mpp mcp': mpp.call, 'ToolHost in process': inProcess, 'plain MCP': plain.call };
const NAMES = Object.keys(SUBJECTS);

// ---------------------------------------------------------------- measure

log(`node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}${loadavg()[0]! > 1 ? ' (machine busy: expect noise)' : ''}`);
log(`warm-up ${WARMUP}, then ${CALLS} sequential calls each in interleaved blocks of ${BLOCK}…`);
for (const call of Object.values(SUBJECTS)) for (let i = 0; i < WARMUP; i++) await call();
const latency: Record<string, number[]> = Object.fromEntries(NAMES.map((n) => [n, []]));
const elapsed: Record<string, number> = Object.fromEntries(NAMES.map((n) => [n, 0]));
for (let done = 0; done < CALLS; done += BLOCK) {
  for (const [name, call] of Object.entries(SUBJECTS)) {
    const t0 = performance.now();
    for (let i = 0; i < Math.min(BLOCK, CALLS - done); i++) {
      const t = performance.now();
      await call();
      latency[name]!.push(performance.now() - t);
    }
    elapsed[name]! += performance.now() - t0;
  }
}

log(`${CALLS} calls each with ${CONCURRENCY} in flight…`);
const concurrent: Record<string, number> = {};
for (const [name, call] of Object.entries(SUBJECTS)) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await call();
    }),
  );
  concurrent[name] = (CALLS / (performance.now() - t0)) * 1000;
}
await mpp.close();
await plain.close();

// ---------------------------------------------------------------- report

const perSecond = (name: string) => (CALLS / elapsed[name]!) * 1000;
const row = (name: string) => ({
  'median ms': ms(median(latency[name]!)),
  'p95 ms': ms(percentile(latency[name]!, 0.95)),
  'calls/s sequential': perSecond(name).toFixed(1),
  [`calls/s ${CONCURRENCY} in flight`]: concurrent[name]!.toFixed(1),
});
console.log(`\nnode ${process.version}; examples/hello greet, ${CALLS} calls per subject (+${WARMUP} warm-up)`);
console.table(Object.fromEntries(NAMES.map((n) => [n, row(n)])));
const ratio = (name: string) => ({
  'median latency (x plain)': (median(latency[name]!) / median(latency['plain MCP']!)).toFixed(1) + 'x',
  'p95 latency (x plain)': (percentile(latency[name]!, 0.95) / percentile(latency['plain MCP']!, 0.95)).toFixed(1) + 'x',
  'sequential calls/s (plain / this)': (perSecond('plain MCP') / perSecond(name)).toFixed(1) + 'x',
  [`${CONCURRENCY} in flight calls/s (plain / this)`]: (concurrent['plain MCP']! / concurrent[name]!).toFixed(1) + 'x',
});
console.log('Ratios against the plain MCP server (higher = slower than plain):');
console.table({ 'mpp mcp': ratio('mpp mcp'), 'ToolHost in process': ratio('ToolHost in process') });
{
  const diff = median(latency['mpp mcp']!) - median(latency['ToolHost in process']!);
  console.log(
    `Of mpp mcp's median ${ms(median(latency['mpp mcp']!))} ms, the governed call itself (ToolHost in process) takes ${ms(median(latency['ToolHost in process']!))} ms: ` +
      `MCP over stdio ${diff > 0 ? `adds about ${ms(diff)} ms` : 'adds less than the noise'} (the plain server's whole call: ${ms(median(latency['plain MCP']!))} ms).`,
  );
}
