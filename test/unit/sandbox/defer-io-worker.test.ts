/**
 * The tool worker's preload (runtime/sandbox/worker/defer-io-worker.cts):
 * importing preview2-shim starts no thread; the shim's first call starts its
 * IO worker and gets its answer; the binding it replaced is the real Worker
 * again afterwards. Each case runs in a fresh process (the preload changes
 * that process's node:worker_threads), counting its threads in /proc.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const PRELOAD = fileURLToPath(new URL('../../../runtime/sandbox/worker/defer-io-worker.cts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const SCRIPT = `
  import { readFileSync } from 'node:fs';
  import * as threadsModule from 'node:worker_threads';
  const threads = () => Number(/Threads:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  const settle = () => new Promise((r) => setTimeout(r, 300));
  // libuv starts its thread pool at the first asynchronous file operation: before counting.
  await (await import('node:fs/promises')).readFile('/proc/self/status');
  const before = threads();
  const shim = await import('@bytecodealliance/preview2-shim');
  await settle();
  const imported = threads();
  const pollable = shim.clocks.monotonicClock.subscribeDuration(1000000n);
  pollable.block();
  await settle();
  const used = threads();
  const plain = new threadsModule.Worker('', { eval: true });
  const real = typeof plain.threadId === 'number' && typeof plain.terminate === 'function';
  await plain.terminate();
  console.log(JSON.stringify({ atImport: imported - before, atFirstUse: used - imported, ready: pollable.ready(), real }));
`;

interface Counts {
  atImport: number;
  atFirstUse: number;
  ready: boolean;
  real: boolean;
}

function run(preload: boolean): Counts {
  const out = execFileSync(process.execPath, [...(preload ? ['--require', PRELOAD] : []), '--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as Counts;
}

describe('deferred shim IO worker', () => {
  it('without the preload the shim starts its IO worker when imported (what the preload changes)', () => {
    const got = run(false);
    assert.ok(got.atImport >= 1, `threads started at import: ${got.atImport}`);
    assert.deepEqual({ ready: got.ready, real: got.real }, { ready: true, real: true });
  });

  it('with the preload it starts at the first call, which it answers; other Workers are real ones', () => {
    const got = run(true);
    assert.equal(got.atImport, 0, 'no thread started at import');
    assert.ok(got.atFirstUse >= 1, `threads started at the first call: ${got.atFirstUse}`);
    assert.deepEqual({ ready: got.ready, real: got.real }, { ready: true, real: true });
  });
});
