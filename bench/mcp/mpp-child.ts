/**
 * MPP cold start in a fresh process, for bench/mcp.ts (not meant to be run by
 * hand). Prints one JSON line and exits.
 *
 *   node bench/mcp/mpp-child.ts cold   <component.wasm> <cacheDir>
 *     createSandbox + first `greet` call, timed from just before createSandbox
 *     (the parent times spawn -> this line). Nothing compiled in this process;
 *     the transpile output is already on disk.
 *   node bench/mcp/mpp-child.ts cold-host <component.wasm> <cacheDir>
 *     the same in a running host: a spare tool worker started (as the sandbox
 *     pool starts one) and 1 s idle before the timing starts.
 *   node bench/mcp/mpp-child.ts phases <component.wasm> <cacheDir>
 *     the same, split into parts (host: module import, read, digest, cache
 *     lookup, compile; worker: start, code load, glue import, instantiate,
 *     first call) with bench/mcp/probe-worker.ts.
 *   node --expose-gc bench/mcp/mpp-child.ts memory <component.wasm> <cacheDir> <n>
 *     RSS of this process before/after the first live sandbox and after n more.
 */
const epoch = () => performance.timeOrigin + performance.now();
const processStart = performance.timeOrigin;
const tImport0 = epoch();
const { readFileSync } = await import('node:fs');
const { readFile } = await import('node:fs/promises');
const { join } = await import('node:path');
const sandbox = await import('../../runtime/sandbox/index.ts');
const { capModuleMemory } = await import('../../runtime/sandbox/wasm-memory.ts');
const { sha256Hex } = await import('../../runtime/hash.ts');
const tImport1 = epoch();

const [mode, wasmPath, cacheDir, nArg] = process.argv.slice(2) as [string, string, string, string?];
const { GRANT, INPUT: INPUT_OBJECT, EXPECTED } = await import('./workload.ts');
const INPUT = JSON.stringify(INPUT_OBJECT);
const print = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
const check = (out: string) => {
  if (out !== EXPECTED) throw new Error(`unexpected output ${out}`);
};

if (mode === 'cold' || mode === 'cold-host') {
  const component = new Uint8Array(readFileSync(wasmPath));
  if (mode === 'cold-host') {
    // A running host: its sandbox pool started a spare tool worker (runtime/sandbox/tool-worker.ts)
    // and the host was idle for a moment before the call came.
    sandbox.prewarmToolWorker();
    await new Promise((r) => setTimeout(r, 1000));
  }
  const t0 = performance.now();
  const sb = await sandbox.createSandbox({ component, grant: GRANT, cacheDir });
  const out = await sb.call('greet', INPUT);
  const inHost = performance.now() - t0;
  check(out);
  print({ inHost, out });
  process.exit(0); // the parent has its figure; no need to wait for worker teardown
}

if (mode === 'phases') {
  const t0 = epoch();
  const component = new Uint8Array(readFileSync(wasmPath));
  const tRead = epoch();
  const digest = sha256Hex(component);
  const tDigest = epoch();
  await sandbox.transpileComponent(component, cacheDir, digest); // cache lookup
  const tCache = epoch();
  const prepared = await sandbox.prepareComponent(component, { cacheDir, memoryBytes: GRANT.limits.memoryBytes });
  const tPrepared = epoch();
  const phases = new Promise<Record<string, number>>((resolve) => {
    const ch = new BroadcastChannel('mpp-bench-phases');
    ch.onmessage = (e) => {
      ch.close();
      resolve((e as MessageEvent).data as Record<string, number>);
    };
  });
  // Beside this file: the .ts source, or the esbuild bundle bench/mcp.ts builds next to the bundled child.
  const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './probe-worker.ts' : './probe-worker.js', import.meta.url);
  const tCreate = epoch();
  const sb = await sandbox.createSandbox({ component, grant: GRANT, cacheDir, workerUrl });
  const tReady = epoch();
  const out = await sb.call('greet', INPUT);
  const tResult = epoch();
  check(out);
  const w = await phases;
  // Read + memory-cap rewrite alone (after the compile, so it does not warm it): compile = prepare - this.
  const tRc = epoch();
  for (const name of prepared.coreModules) capModuleMemory(await readFile(join(prepared.dir, name)), prepared.memoryPages);
  const readCap = epoch() - tRc;
  print({
    processBoot: tImport0 - processStart,
    hostImport: tImport1 - tImport0,
    readComponent: tRead - t0,
    digest: tDigest - tRead,
    // transpileComponent hashes again, then reads the cache's meta.json
    cacheLookup: tCache - tDigest - (tDigest - tRead),
    readAndCap: readCap,
    compile: tPrepared - tCache - readCap,
    workerStart: w.boot! - tCreate,
    workerShimImport: w.shim! - w.boot!,
    workerCodeImport: w.workerCode! - w.shim!,
    glueImport: w.glue! - w.workerCode!,
    instantiate: w.ready! - w.mainStart!,
    readyToHost: tReady - w.ready!,
    firstCallInWorker: w.result! - w.callIn!,
    firstCallRoundTrip: tResult - tReady,
    callToWorker: w.callIn! - tReady,
    resultToHost: tResult - w.result!,
    createTotal: tReady - tCreate,
  });
  process.exit(0);
}

if (mode === 'memory') {
  const n = Number(nArg);
  const { settledRss: settle } = await import('./settled-rss.ts');
  const component = new Uint8Array(readFileSync(wasmPath));
  const rssBase = await settle();
  const held = [await sandbox.createSandbox({ component, grant: GRANT, cacheDir })];
  check(await held[0]!.call('greet', INPUT));
  const rssOne = await settle();
  for (let i = 0; i < n; i++) {
    const sb = await sandbox.createSandbox({ component, grant: GRANT, cacheDir });
    check(await sb.call('greet', INPUT));
    held.push(sb);
  }
  const rssMany = await settle();
  print({ rssBase, rssOne, rssMany, n });
  process.exit(0);
}

throw new Error(`unknown mode ${mode}`);
