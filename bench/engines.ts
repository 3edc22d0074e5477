/**
 * Measures the two componentize engines on this machine for a trivial tool
 * (the `mpp init` template) and probes what a tool author can use in each.
 *   node bench/engines.ts [--wit <dir>] [--runs 3]
 * Prints a table; the figures behind DEFAULT_ENGINE in runtime/build/componentize.ts.
 */
import { median, ms } from './stats.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { buildPackage } from '../runtime/build/build.ts';
import { ENGINES, componentizeTool, type Engine } from '../runtime/build/componentize.ts';
import { initProject } from '../runtime/build/init.ts';
import { locateWitDir } from '../runtime/build/locate.ts';
import { prepareBuildWorld } from '../runtime/build/build-world.ts';
import { readArchive } from '../runtime/format/read.ts';
import { loadTool } from '../test/integration/tool-host.ts';

const { values } = parseArgs({ options: { wit: { type: 'string' }, runs: { type: 'string', default: '3' }, cold: { type: 'string' } } });

/** Child mode: one cold start in a fresh process (transpile + instantiate + first call). */
if (values.cold) {
  const t0 = performance.now();
  const tool = await loadTool(new Uint8Array(readFileSync(values.cold)));
  const t1 = performance.now();
  tool.call('greet', '{"name":"Ada"}');
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ transpile: tool.timings.transpile, instantiate: tool.timings.instantiate, firstCall: t2 - t1, total: t2 - t0 }));
  process.exit(0);
}

const witDir = values.wit ?? locateWitDir();
const runs = Number(values.runs);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;

const PROBE = `
const probes = {
  TextEncoder: () => new TextEncoder().encode('hé').length === 3,
  TextDecoder: () => new TextDecoder().decode(new Uint8Array([104, 195, 169])) === 'hé',
  JSON: () => JSON.parse(JSON.stringify({ a: [1] })).a[0] === 1,
  'Date.now': () => Date.now() > 1.6e12,
  'crypto.getRandomValues': () => crypto.getRandomValues(new Uint8Array(8)).some((b) => b !== 0),
  'crypto.subtle': () => typeof crypto.subtle.digest === 'function',
  URL: () => new URL('https://a.example/p?q=1').searchParams.get('q') === '1',
  console: () => typeof console.log === 'function',
  setTimeout: () => typeof setTimeout === 'function',
  Intl: () => new Intl.NumberFormat('en-US').format(1234.5) === '1,234.5',
  'RegExp \\\\p{L}': () => new RegExp('\\\\p{L}', 'u').test('é'),
};
export const handler = {
  call(tool, input) {
    if (tool === 'sync') {
      const out = {};
      for (const [k, f] of Object.entries(probes)) { try { out[k] = f() === true; } catch { out[k] = false; } }
      return JSON.stringify(out);
    }
    if (tool === 'async') return (async () => { await new Promise((r) => setTimeout(r, 1)); return '"ok"'; })();
    if (tool === 'fetch') return (async () => (await (await fetch(input)).text()))();
    if (tool === 'random-first') return JSON.stringify(Math.random());
    throw { code: 'unknown-tool', message: tool };
  },
};`;

async function probe(engine: Engine, url: string): Promise<Record<string, boolean>> {
  const { component } = await componentizeTool(PROBE, { engine, witDir, world: prepareBuildWorld(witDir, []) });
  const tool = await loadTool(component);
  const result = JSON.parse(tool.call('sync', '{}')) as Record<string, boolean>;
  const tryCall = (t: string, input: string, expect: string) => {
    try { return tool.call(t, input) === expect; } catch { return false; }
  };
  // A trap kills the instance: each of these gets a fresh one.
  result['async call'] = tryCall('async', '{}', '"ok"');
  const t2 = await tool.instantiateAgain();
  try { result['fetch (wasi:http)'] = t2.call('fetch', url) === 'pong'; } catch { result['fetch (wasi:http)'] = false; }
  const [a, b] = [await tool.instantiateAgain(), await tool.instantiateAgain()];
  result['Math.random differs per instance'] = a.call('random-first', '{}') !== b.call('random-first', '{}');
  return result;
}

// A server on another thread: a tool call blocks this one.
const server = new Worker(
  `const http = require('node:http'); const { parentPort } = require('node:worker_threads');
   const s = http.createServer((q, r) => r.end('pong')); s.listen(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));`,
  { eval: true },
);
const port = await new Promise<number>((r) => server.once('message', r));

const rows: Record<string, Record<string, string>> = {};
const caps: Record<string, Record<string, boolean>> = {};
const work = mkdtempSync(join(tmpdir(), 'mpp-bench-'));
try {
  for (const engine of ENGINES) {
    const project = join(work, engine);
    initProject(project, 'bench/trivial');
    const builds: number[] = [];
    let archive: Uint8Array | undefined;
    for (let i = 0; i < runs; i++) {
      const r = await buildPackage({ projectDir: project, engine, witDir, cache: false });
      builds.push(r.timings.componentize!);
      archive = r.archive;
    }
    const component = readArchive(archive!).get('tool.wasm')!.data;
    const wasmPath = join(work, `${engine}.wasm`);
    writeFileSync(wasmPath, component);
    const colds = [0, 1, 2].map(() => JSON.parse(execFileSync(process.execPath, [import.meta.filename, '--cold', wasmPath], { encoding: 'utf8' })) as Record<string, number>);
    const tool = await loadTool(component);
    const warmInst: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await tool.instantiateAgain();
      warmInst.push(performance.now() - t0);
    }
    for (let i = 0; i < 200; i++) tool.call('greet', '{"name":"Ada"}');
    const calls: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      tool.call('greet', '{"name":"Ada"}');
      calls.push(performance.now() - t0);
    }
    rows[engine] = {
      'component size': mb(component.byteLength),
      'component gzipped': mb(gzipSync(component).byteLength),
      'componentize, first in process (ms)': ms(builds[0]!),
      [`componentize, median of next ${runs - 1} (ms)`]: runs > 1 ? ms(median(builds.slice(1))) : '-',
      'cold start, fresh process: transpileBytes (ms)': ms(median(colds.map((c) => c.transpile!))),
      'cold start: compile + instantiate (ms)': ms(median(colds.map((c) => c.instantiate!))),
      'cold start: first call (ms)': ms(median(colds.map((c) => c.firstCall!))),
      'cold start: total (ms)': ms(median(colds.map((c) => c.total!))),
      'warm instantiate, modules compiled (ms)': ms(median(warmInst)),
      'warm call, median of 2000 (ms)': ms(median(calls)),
    };
    caps[engine] = await probe(engine, `http://127.0.0.1:${port}/`);
  }
} finally {
  await server.terminate();
  rmSync(work, { recursive: true, force: true });
}

const table = (title: string, data: Record<string, Record<string, string>>) => {
  const keys = Object.keys(data[ENGINES[0]]!);
  const w = Math.max(...keys.map((k) => k.length));
  console.log(`\n${title}\n${'measure'.padEnd(w)} | ${ENGINES.map((e) => e.padStart(12)).join(' | ')}`);
  console.log(`${'-'.repeat(w)}-|-${ENGINES.map(() => '-'.repeat(12)).join('-|-')}`);
  for (const k of keys) console.log(`${k.padEnd(w)} | ${ENGINES.map((e) => (data[e]![k] ?? '').padStart(12)).join(' | ')}`);
};
console.log(`Node ${process.version}, ${runs} builds per engine, WIT ${witDir}`);
table('Trivial tool (mpp init template)', rows);
table(
  'What a tool can use (yes = works)',
  Object.fromEntries(ENGINES.map((e) => [e, Object.fromEntries(Object.entries(caps[e]!).map(([k, v]) => [k, v ? 'yes' : 'no']))])),
);
