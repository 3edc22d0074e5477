/**
 * `mpp mcp` vs a plain MCP stdio server doing the same work: the example's
 * `greet` ({name} -> {greeting}), each called through the SDK's Client +
 * StdioClientTransport, on both engines (examples/hello built with each).
 *   mpp mcp    the built CLI (dist/cli.js, `npm run build` first) serving
 *              both builds, signed, trusted and installed in a temporary
 *              MPP home: every call is verified, governed, sandboxed in a fresh
 *              instance, redacted and audited (ToolHost.call).
 *   plain MCP  bench/mcp/server.ts (McpServer + zod), compiled to JavaScript
 *              as shipped servers are.
 *   ToolHost   the same governed call in this process, no MCP, over a kept
 *              SandboxPool and one open audit log (as `mpp mcp` runs it).
 *   sandbox    the bare call on a kept sandbox (ToolSandbox.call), no governance.
 *   durable    one durable audit append on this disk (AuditLog.append).
 *
 * Measured: per-call latency of sequential calls (median, p95), blocks of
 * calls interleaved between subjects so machine load hits all alike; calls
 * per second sequentially and with --concurrency calls in flight; the
 * governed path's own cost (ToolHost minus sandbox, paced --gap ms apart so
 * both find their instance ready) beside one durable write paced alike; the
 * cold start in a running host: a fresh `mpp mcp` lists its tools, sits idle
 * for a moment (it prepares the listed packages ahead), and its first call
 * is timed, beside a plain server's spawn + initialize + first call; calls to
 * as many different packages as there are cores at once (one stream each)
 * against calls to one, in one `mpp mcp`; the memory of a fresh host
 * (bench/mcp/editor-memory-child.ts) keeping one sandbox for each of
 * --packages different packages (examples/hello built as that many
 * components, bench/mcp/hello-variants.ts), and what it has given back once
 * its pool's idle time (--idle-ms) has passed. The goals of issue 12 are
 * printed with whether each is met.
 *
 *   node bench/mcp-server.ts [--calls 100] [--warmup 10] [--concurrency 4] [--gap 60] [--cold-runs 5] [--packages 16] [--idle-ms 15000]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { build } from 'esbuild';
import { openAuditLog } from '../runtime/audit/log.ts';
import { ENGINES, type Engine } from '../runtime/build/componentize.ts';
import { buildPackage } from '../runtime/build/index.ts';
import { ToolHost } from '../runtime/governance/tool-host.ts';
import { mcpToolName } from '../runtime/mcp/names.ts';
import { SandboxPool } from '../runtime/run/sandbox-pool.ts';
import { homePaths } from '../runtime/home.ts';
import { createSandbox } from '../runtime/sandbox/index.ts';
import { COMPONENT_ENTRY } from '../runtime/format/layout.ts';
import { readArchive } from '../runtime/format/read.ts';
import { generateKey, publicKeyToPem } from '../runtime/trust/keys.ts';
import { signPackage } from '../runtime/trust/sign.ts';
import { printGoals } from './goals.ts';
import { helloVariants } from './mcp/hello-variants.ts';
import { EXPECTED, GRANT, INPUT } from './mcp/workload.ts';
import { median, ms, percentile } from './stats.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '4' },
    gap: { type: 'string', default: '60' },
    'cold-runs': { type: 'string', default: '5' },
    packages: { type: 'string', default: '16' },
    'idle-ms': { type: 'string', default: '15000' },
  },
});
const CALLS = Number(values.calls);
const WARMUP = Number(values.warmup);
const CONCURRENCY = Number(values.concurrency);
const GAP = Number(values.gap);
const COLD_RUNS = Number(values['cold-runs']);
/** Different packages one host keeps, for the editor's memory total (the pool keeps 16 by default). */
const PACKAGES = Number(values.packages);
/** The sandbox pool's idle time in the memory run: every kept sandbox is then stopped. */
const IDLE_MS = Number(values['idle-ms']);
/** Calls in flight to different packages, one stream each: one per core. */
const PARALLEL = availableParallelism();
/** How long a fresh `mpp mcp` sits after listing its tools before the first call: an agent's think time. */
const COLD_IDLE_MS = 1500;
const BLOCK = 25;
const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

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
const cli = (args: string[], mppHome = home) => execFileSync(process.execPath, [CLI, ...args], { env: { ...env, MPP_HOME: mppHome }, stdio: ['ignore', 'pipe', 'inherit'] });

const key = generateKey();
writeFileSync(join(tmp, 'key.pub.pem'), publicKeyToPem(key.publicKey));
cli(['trust', 'add', join(tmp, 'key.pub.pem'), '--name', 'Bench']);
// Many different packages in a home of their own (a fresh mpp mcp on `home` prepares what it lists ahead: the cold row needs few).
const manyHome = join(tmp, 'many');
cli(['trust', 'add', join(tmp, 'key.pub.pem'), '--name', 'Bench'], manyHome);
const MANY = {} as Record<Engine, string[]>;
for (const engine of ENGINES) {
  const t = performance.now();
  const variants = await helloVariants(ROOT, engine, Math.max(PACKAGES, PARALLEL), key);
  MANY[engine] = variants.map((v) => v.name);
  for (const v of variants) {
    const file = join(tmp, `${v.name.replace('/', '-')}.mpp`);
    writeFileSync(file, v.archive);
    cli(['install', file], manyHome);
  }
  log(`${variants.length} different ${engine} packages built and installed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
/** examples/hello built with each engine, installed under its own name. */
const PKGS = {} as Record<Engine, string>;
const components = {} as Record<Engine, Uint8Array>;
for (const engine of ENGINES) {
  const projectDir = join(tmp, `hello-${engine}`);
  cpSync(join(ROOT, 'examples', 'hello'), projectDir, { recursive: true, filter: (p) => !p.includes('node_modules') && !p.includes('/dist') });
  const manifestFile = join(projectDir, 'mpp.manifest.json');
  writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), name: `bench/hello-${engine}` }));
  const built = await buildPackage({ projectDir, engine });
  const signed = signPackage(built.archive, key);
  writeFileSync(join(tmp, `${engine}.mpp`), signed);
  cli(['install', join(tmp, `${engine}.mpp`)]);
  PKGS[engine] = built.manifest.name;
  components[engine] = readArchive(signed).get(COMPONENT_ENTRY)!.data;
}

// The plain server as users run one: compiled to JavaScript, the SDK loaded from node_modules.
const serverDir = join(tmp, 'plain');
mkdirSync(serverDir);
symlinkSync(join(ROOT, 'node_modules'), join(serverDir, 'node_modules'), 'dir');
await build({ platform: 'node', target: 'node22', format: 'esm', logLevel: 'warning', entryPoints: [join(ROOT, 'bench/mcp/server.ts')], outfile: join(serverDir, 'server.js') });

type Call = () => Promise<void>;

const PLAIN_COLD = 'plain MCP server: spawn + initialize + first call';

async function mcpClient(args: string[], mppHome = home): Promise<{ call: (tool: string) => Promise<void>; list: () => Promise<unknown>; close: () => Promise<void> }> {
  const client = new Client({ name: 'mpp-bench', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env: { ...env, MPP_HOME: mppHome }, cwd: workspace, stderr: 'ignore' }));
  return {
    call: async (tool: string) => {
      const r = await client.callTool({ name: tool, arguments: INPUT });
      if (JSON.stringify(r.structuredContent) !== EXPECTED) throw new Error(`${args[0]} returned ${JSON.stringify(r)}`);
    },
    list: () => client.listTools(),
    close: () => client.close(),
  };
}

const mppMcp = await mcpClient([CLI, 'mcp', '--workspace', workspace]);
const plain = await mcpClient([join(serverDir, 'server.js')]);
const audit = openAuditLog(home);
const pool = new SandboxPool({ max: 16, idleMs: 10 * 60_000 });
const host = new ToolHost({ home, audit: (e) => void audit.append(e), auditGrouped: (e) => audit.appendGrouped(e), sandboxes: pool });
const SUBJECTS: Record<string, Call> = {};
const sandboxes = [];
for (const engine of ENGINES) {
  SUBJECTS[`mpp mcp ${engine}`] = () => mppMcp.call(mcpToolName(PKGS[engine], 'greet'));
  SUBJECTS[`ToolHost ${engine}`] = async () => {
    const r = await host.call({ target: { installed: PKGS[engine] }, tool: 'greet', input: JSON.stringify(INPUT), caller: { label: 'mpp-bench' }, workspace });
    if (JSON.stringify(r.output) !== EXPECTED) throw new Error(`ToolHost returned ${JSON.stringify(r.output)}`);
  };
  const sandbox = await createSandbox({ component: components[engine], grant: GRANT, cacheDir: homePaths(home).componentCache });
  sandboxes.push(sandbox);
  SUBJECTS[`sandbox ${engine}`] = async () => {
    const out = await sandbox.call('greet', JSON.stringify(INPUT));
    if (out !== EXPECTED) throw new Error(`the sandbox returned ${out}`);
  };
}
SUBJECTS['plain MCP'] = () => plain.call('greet');
// One durable append, as the governed call makes before the tool runs.
SUBJECTS['durable audit write'] = async () => void audit.append({ type: 'deny', package: PKGS.spidermonkey, agent: { id: 'unverified:mpp-bench', verified: false }, code: 'MPP_E_USAGE', reason: 'bench: one durable write' });
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

log(`paced: ${Math.min(CALLS, 40)} calls of ToolHost and sandbox and durable writes each, ${GAP} ms apart (every instance ready)…`);
const paced: Record<string, number[]> = {};
for (let i = 0; i < Math.min(CALLS, 40); i++) {
  // The write paced like the calls: after an idle gap one costs more than back to back.
  for (const name of NAMES.filter((n) => n.startsWith('ToolHost') || n.startsWith('sandbox') || n === 'durable audit write')) {
    await new Promise((r) => setTimeout(r, GAP));
    const t = performance.now();
    await SUBJECTS[name]!();
    (paced[name] ??= []).push(performance.now() - t);
  }
}

log(`${CALLS} calls each with ${CONCURRENCY} in flight…`);
const concurrent: Record<string, number> = {};
for (const [name, call] of Object.entries(SUBJECTS)) {
  if (name === 'durable audit write') continue;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await call();
    }),
  );
  concurrent[name] = (CALLS / (performance.now() - t0)) * 1000;
}
log(`cold: ${COLD_RUNS} runs (+1 discarded) of a fresh mpp mcp per engine (tools listed, ${COLD_IDLE_MS} ms idle, then the first call) and a fresh plain server, interleaved…`);
const cold: Record<string, number[]> = {};
for (let r = 0; r <= COLD_RUNS; r++) {
  // The plain server's cold start: spawn + initialize + first call.
  let t = performance.now();
  const fresh = await mcpClient([join(serverDir, 'server.js')]);
  await fresh.call('greet');
  if (r > 0) (cold[PLAIN_COLD] ??= []).push(performance.now() - t);
  await fresh.close();
  for (const engine of ENGINES) {
    const host = await mcpClient([CLI, 'mcp', '--workspace', workspace]);
    await host.list();
    await new Promise((resolve) => setTimeout(resolve, COLD_IDLE_MS));
    t = performance.now();
    await host.call(mcpToolName(PKGS[engine], 'greet'));
    if (r > 0) (cold[`mpp mcp ${engine}`] ??= []).push(performance.now() - t);
    await host.close();
  }
}

log(`parallel: per engine, one mpp mcp; ${CALLS} calls to one package, one at a time, against ${CALLS} calls to each of ${PARALLEL} different packages at once (one stream each), in interleaved blocks of ${BLOCK}…`);
const scaling = {} as Record<Engine, { one: number; many: number }>;
for (const engine of ENGINES) {
  const client = await mcpClient([CLI, 'mcp', '--workspace', workspace], manyHome);
  const tools = MANY[engine].slice(0, PARALLEL).map((name) => mcpToolName(name, 'greet'));
  for (const tool of tools) for (let i = 0; i < WARMUP; i++) await client.call(tool);
  let oneMs = 0;
  let manyMs = 0;
  for (let done = 0; done < CALLS; done += BLOCK) {
    const n = Math.min(BLOCK, CALLS - done);
    let t = performance.now();
    for (let i = 0; i < n; i++) await client.call(tools[0]!);
    oneMs += performance.now() - t;
    t = performance.now();
    await Promise.all(tools.map(async (tool) => {
      for (let i = 0; i < n; i++) await client.call(tool);
    }));
    manyMs += performance.now() - t;
  }
  scaling[engine] = { one: (CALLS / oneMs) * 1000, many: ((CALLS * PARALLEL) / manyMs) * 1000 };
  await client.close();
}

log(`memory: per engine, a fresh host keeping one sandbox for each of ${PACKAGES} different packages, then ${IDLE_MS} ms idle…`);
const editorMemory = {} as Record<Engine, { rssBase: number; rssKept: number; rssIdle: number; kept: number; keptAfterIdle: number }>;
for (const engine of ENGINES) {
  const out = execFileSync(process.execPath, ['--expose-gc', join(ROOT, 'bench', 'mcp', 'editor-memory-child.ts'), manyHome, workspace, String(IDLE_MS), ...MANY[engine].slice(0, PACKAGES)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  editorMemory[engine] = JSON.parse(out.toString('utf8'));
}

await mppMcp.close();
await plain.close();
for (const sandbox of sandboxes) await sandbox.dispose();
await pool.dispose();
audit.close();

// ---------------------------------------------------------------- report

const perSecond = (name: string) => (CALLS / elapsed[name]!) * 1000;
const med = (name: string) => median(latency[name]!);
const p95 = (name: string) => percentile(latency[name]!, 0.95);
const row = (name: string) => ({
  'median ms': ms(med(name)),
  'p95 ms': ms(p95(name)),
  'calls/s sequential': perSecond(name).toFixed(1),
  [`calls/s ${CONCURRENCY} in flight`]: concurrent[name]?.toFixed(1) ?? '-',
});
console.log(`\nnode ${process.version}; examples/hello greet, ${CALLS} calls per subject (+${WARMUP} warm-up), back to back`);
console.table(Object.fromEntries(NAMES.map((n) => [n, row(n)])));
const PLAIN = 'plain MCP';
console.log('Ratios against the plain MCP server (higher = slower than plain):');
console.table(
  Object.fromEntries(
    NAMES.filter((n) => n.startsWith('mpp mcp') || n.startsWith('ToolHost')).map((name) => [
      name,
      {
        'median latency (x plain)': (med(name) / med(PLAIN)).toFixed(1) + 'x',
        'p95 latency (x plain)': (p95(name) / p95(PLAIN)).toFixed(1) + 'x',
        'sequential calls/s (plain / this)': (perSecond(PLAIN) / perSecond(name)).toFixed(1) + 'x',
        [`${CONCURRENCY} in flight calls/s (plain / this)`]: (concurrent[PLAIN]! / concurrent[name]!).toFixed(1) + 'x',
      },
    ]),
  ),
);
const durable = med('durable audit write');
const durablePaced = median(paced['durable audit write']!);
const plainCold = median(cold[PLAIN_COLD]!);
const rows = ENGINES.flatMap((e) => {
  const firstCall = median(cold[`mpp mcp ${e}`]!);
  const overhead = median(paced[`ToolHost ${e}`]!) - median(paced[`sandbox ${e}`]!);
  const m = editorMemory[e];
  return [
    { what: `governed call via mpp mcp, median (${e})`, measured: `${ms(med(`mpp mcp ${e}`))} ms`, goal: '<= 5 ms', met: med(`mpp mcp ${e}`) <= 5 },
    { what: `governed call via mpp mcp, p95 (${e})`, measured: `${ms(p95(`mpp mcp ${e}`))} ms`, goal: '<= 15 ms', met: p95(`mpp mcp ${e}`) <= 15 },
    { what: `governed calls/s, one package (${e})`, measured: perSecond(`mpp mcp ${e}`).toFixed(1), goal: '>= 150', met: perSecond(`mpp mcp ${e}`) >= 150 },
    { what: `bare sandbox call, back to back, median (${e})`, measured: `${ms(med(`sandbox ${e}`))} ms`, goal: '<= 2 ms', met: med(`sandbox ${e}`) <= 2 },
    {
      what: `governed path over the bare call, paced (${e})`,
      measured: `${ms(overhead)} ms (one durable write, paced alike: ${ms(durablePaced)} ms)`,
      goal: '<= durable write + 1 ms',
      met: overhead <= durablePaced + 1,
    },
    {
      what: `${PARALLEL} calls in flight to ${PARALLEL} different packages, over one at a time (${e})`,
      measured: `${(scaling[e].many / scaling[e].one).toFixed(2)}x (${scaling[e].many.toFixed(1)} against ${scaling[e].one.toFixed(1)} calls/s; ${PARALLEL} cores)`,
      goal: `scales with cores: >= ${(0.75 * PARALLEL).toFixed(2)}x`,
      met: scaling[e].many / scaling[e].one >= 0.75 * PARALLEL,
    },
    {
      what: `cold (i): first call in a running mpp mcp, tools listed and ${COLD_IDLE_MS} ms idle (${e})`,
      measured: `${ms(firstCall)} ms (${(plainCold / firstCall).toFixed(1)}x faster than a plain server's cold start, ${ms(plainCold)} ms)`,
      goal: '<= 50 ms and >= 5x faster',
      met: firstCall <= 50 && plainCold / firstCall >= 5,
    },
    {
      what: `the editor's total: one sandbox kept for each of ${PACKAGES} different packages (${e})`,
      measured: `${mb(m.rssKept - m.rssBase)} MB over the host's own ${mb(m.rssBase)} MB (${mb((m.rssKept - m.rssBase) / PACKAGES)} MB a package; ${m.kept} kept)`,
      goal: 'reported',
    },
    {
      what: `idle kept sandboxes give memory back, ${IDLE_MS} ms idle (${e})`,
      measured: `${mb(m.rssKept - m.rssIdle)} of those ${mb(m.rssKept - m.rssBase)} MB back; ${m.keptAfterIdle} sandboxes still kept`,
      goal: 'every sandbox stopped, most of its memory back',
      met: m.keptAfterIdle === 0 && m.rssKept - m.rssIdle >= 0.5 * (m.rssKept - m.rssBase),
    },
  ];
});
printGoals(`Issue 12 goals (plain MCP call here: ${ms(med(PLAIN))} ms; one durable audit write on this disk: ${ms(durable)} ms back to back, p95 ${ms(p95('durable audit write'))} ms; ${ms(durablePaced)} ms paced ${GAP} ms apart)`, rows);
log(
  `Of mpp mcp's median, the governed call in process takes ${ENGINES.map((e) => `${e} ${ms(med(`ToolHost ${e}`))} of ${ms(med(`mpp mcp ${e}`))} ms`).join(', ')}; ` +
    `the bare sandbox call ${ENGINES.map((e) => `${e} ${ms(med(`sandbox ${e}`))} ms`).join(', ')} (back to back it waits for the next fresh instance).`,
);
