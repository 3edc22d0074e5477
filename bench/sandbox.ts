/**
 * Sandbox costs on this machine, per engine (SpiderMonkey via componentize-js,
 * QuickJS via componentize-qjs), for the trivial `echo` fixture tool:
 *   - transpile (uncached) and cold start in a fresh process with the
 *     transpile cached: import + compile + worker + instantiate + first call;
 *   - instance start with compiled modules cached (a new worker);
 *   - warm call latency (median over many calls on one live instance);
 *   - memory per live tool (RSS growth per extra live sandbox);
 * and the TOCTOU race: outside reads through preview2-shim's filesystem vs
 * through the sandbox's, under the same host-side symlink flipper.
 *
 *   node bench/sandbox.ts [--calls 2000] [--live 8] [--runs 5] [--race 20000]
 */
import { median, ms } from './stats.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSandbox, transpileComponent, type ToolSandbox } from '../runtime/sandbox/index.ts';
import { fixtureComponent, CACHE_DIR, type Engine } from '../test/fixtures/tools/build.ts';
import { startFlipper } from '../test/fixtures/tools/env.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    live: { type: 'string', default: '8' },
    runs: { type: 'string', default: '5' },
    race: { type: 'string', default: '20000' },
    cold: { type: 'string' },
    cache: { type: 'string' },
  },
});

/** Child mode: one cold start from process start, transpile output already on disk. */
if (values.cold) {
  const component = new Uint8Array(readFileSync(values.cold));
  const { createSandbox: create } = await import('../runtime/sandbox/index.ts');
  const sb = await create({ component, grant: {}, cacheDir: values.cache! });
  const ready = performance.now();
  await sb.call('t', '{}');
  const first = performance.now();
  await sb.dispose();
  process.stdout.write(JSON.stringify({ ready, first }));
  process.exit(0);
}

const runs = Number(values.runs);

async function measureEngine(engine: Engine) {
  const component = await fixtureComponent('echo', engine);
  const cacheDir = join(CACHE_DIR, 'bench-transpiled');
  rmSync(cacheDir, { recursive: true, force: true });
  const t0 = performance.now();
  await transpileComponent(component, cacheDir);
  const transpile = performance.now() - t0;
  const wasmPath = join(cacheDir, `${engine}.wasm`);
  writeFileSync(wasmPath, component);

  const cold: { ready: number; first: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--cold', wasmPath, '--cache', cacheDir], { encoding: 'utf8' });
    cold.push(JSON.parse(out));
  }

  const starts: number[] = [];
  let sb: ToolSandbox | null = null;
  for (let i = 0; i < runs + 1; i++) {
    const t = performance.now();
    const s = await createSandbox({ component, grant: {}, cacheDir });
    await s.call('t', '{}');
    if (i > 0) starts.push(performance.now() - t); // the first includes compiling
    if (sb) await sb.dispose();
    sb = s;
  }
  const calls: number[] = [];
  const input = JSON.stringify({ q: 'hello', n: 1 });
  for (let i = 0; i < Number(values.calls); i++) {
    const t = performance.now();
    await sb!.call('t', input);
    calls.push(performance.now() - t);
  }
  await sb!.dispose();

  const live = Number(values.live);
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const rss0 = process.memoryUsage().rss;
  const held: ToolSandbox[] = [];
  for (let i = 0; i < live; i++) {
    const s = await createSandbox({ component, grant: {}, cacheDir });
    await s.call('t', '{}');
    held.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  const perTool = (process.memoryUsage().rss - rss0) / live;
  for (const s of held) await s.dispose();

  return {
    engine,
    componentMB: (component.length / 1024 / 1024).toFixed(1),
    transpileMs: ms(transpile),
    coldReadyMs: ms(median(cold.map((c) => c.ready))),
    coldFirstResultMs: ms(median(cold.map((c) => c.first))),
    instanceStartMs: ms(median(starts)),
    warmCallMs: ms(median(calls)),
    warmCallP99Ms: ms([...calls].sort((a, b) => a - b)[Math.floor(calls.length * 0.99)]!),
    rssPerLiveToolMB: (perTool / 1024 / 1024).toFixed(1),
  };
}

async function measureRace() {
  const n = Number(values.race);
  const scratch = mkdtempSync(join(tmpdir(), 'mpp-race-bench-'));
  try {
    const grant = join(scratch, 'grant');
    mkdirSync(grant);
    writeFileSync(join(scratch, 'secret.txt'), 'SECRET');
    writeFileSync(join(grant, 'secret.txt'), 'decoy');

    // Control: preview2-shim's own filesystem, same process, same flipper.
    const { createFilesystem } = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as {
      createFilesystem(o: { preopens: Record<string, string> }): { preopens: { getDirectories(): [{ openAt(...a: unknown[]): { read(l: bigint, o: bigint): [Uint8Array, boolean] } }, string][] } };
    };
    const [[dir]] = createFilesystem({ preopens: { '/data': grant } }).preopens.getDirectories() as [[{ openAt(...a: unknown[]): { read(l: bigint, o: bigint): [Uint8Array, boolean] } }, string]];
    let stop = startFlipper(join(grant, 'name'));
    let shimOutside = 0;
    for (let i = 0; i < n; i++) {
      try {
        const [bytes] = dir.openAt({ symlinkFollow: true }, 'name/secret.txt', {}, { read: true }).read(100n, 0n);
        if (Buffer.from(bytes).toString() === 'SECRET') shimOutside++;
      } catch {
        // refused this time
      }
    }
    const shimFlips = await stop();

    const sb = await createSandbox({
      component: await fixtureComponent('fs-probe'),
      grant: { fs: [{ hostPath: grant, guestPath: '/data', write: true }], limits: { timeoutMs: 600_000 } },
      cacheDir: join(CACHE_DIR, 'transpiled'),
    });
    stop = startFlipper(join(grant, 'name'));
    const r = JSON.parse(await sb.call('race-read', JSON.stringify({ path: 'name/secret.txt', n }))) as { seen: Record<string, number> };
    const sandboxFlips = await stop();
    await sb.dispose();
    return { tries: n, shimOutsideReads: shimOutside, shimFlips, sandboxOutsideReads: r.seen.SECRET ?? 0, sandboxFlips };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const results = [];
for (const engine of ['spidermonkey', 'quickjs'] as const) results.push(await measureEngine(engine));
console.log(`node ${process.version}, ${runs} cold runs, ${values.calls} warm calls, ${values.live} live tools`);
console.table(results);
console.table([await measureRace()]);
