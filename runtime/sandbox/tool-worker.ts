/**
 * Starting and stopping tool worker threads, in one place, and the spare.
 *
 * A spare is a tool worker started before a sandbox needs one: Node's worker
 * start and the import of the worker's code (the shim, the WASI imports)
 * cost ~100 ms that the first call of every new sandbox pays otherwise. A
 * spare has nothing until a sandbox hands it its init (grant, compiled
 * modules, host port) in one message: it has run no tool code and holds no
 * authority, so any sandbox may take it; once taken it is that sandbox's
 * alone, like any worker. Long-running hosts ask for one
 * (`prewarmToolWorker`, called by the sandbox pool); after a spare is taken
 * the next one is started a little later, not while the call that took it
 * is starting.
 */
import { fileURLToPath } from 'node:url';
import { Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { MppError } from '../errors.ts';
import type { SpareInit, WorkerInit } from './protocol.ts';

// undefined in a CommonJS bundle (esbuild empties import.meta there): such
// hosts pass workerUrl/extensionUrl explicitly.
const MODULE_URL: string | undefined = import.meta.url;

function besideThisModule(fromSource: string, bundled: string): URL {
  if (typeof MODULE_URL !== 'string') {
    throw new MppError('MPP_E_INTERNAL', 'The sandbox cannot locate its worker: pass workerUrl and extensionUrl.');
  }
  return new URL(MODULE_URL.endsWith('.ts') ? fromSource : bundled, MODULE_URL);
}

/**
 * The worker entry. From source it is worker/main.ts (Node strips the types);
 * in a bundle it is `sandbox-worker.js` next to the bundle that contains this
 * module, built by esbuild as its own entry point.
 */
export function workerEntryUrl(): URL {
  return besideThisModule('./worker/main.ts', './sandbox-worker.js');
}

/** The module the shim's IO worker loads (io-extension.ts; `sandbox-io-extension.js` when bundled). */
export function ioExtensionUrl(): URL {
  return besideThisModule('./worker/io-extension.ts', './sandbox-io-extension.js');
}

/**
 * The tool worker's execArgv: preloads worker/defer-io-worker.cts
 * (`sandbox-defer-io-worker.cjs` when bundled), so the shim's IO worker starts
 * at its first use. A CommonJS bundle that cannot say where it is runs
 * without it (the IO worker then starts with the shim, as the shim does).
 */
function workerExecArgv(): string[] {
  if (typeof MODULE_URL !== 'string') return [];
  return ['--require', fileURLToPath(besideThisModule('./worker/defer-io-worker.cts', './sandbox-defer-io-worker.cjs'))];
}

/** A new tool worker thread, with `workerData` (a sandbox's init, or the spare marker). */
function spawn(url: URL, workerData: WorkerInit | SpareInit, transferList: MessagePort[]): Worker {
  return new Worker(url, {
    workerData,
    transferList: transferList as TransferListItem[],
    // The worker's process.env is empty: nothing in the worker (shim
    // defaults included) can read the host environment.
    env: {},
    execArgv: workerExecArgv(),
    // Node closes the fds the worker opened and left open when it ends, before
    // 'exit' (worker/fd-table.ts): the default, relied on, so said.
    trackUnmanagedFds: true,
    stdout: true,
    stderr: true,
    // Bounds the JS heap of the worker; wasm memory is bounded separately
    // by the cap compiled into the module (resourceLimits does not see it).
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  });
}

/**
 * Workers of this process still tearing down after terminate(). A worker
 * starts only once none is: the guard first put against Node aborting the
 * whole host (`uv__io_poll: Assertion 'errno == EINTR' failed`) after failed
 * calls (issue 13), whose cause was later found to be the host closing a
 * dead worker's descriptors a second time (worker/fd-table.ts). Kept: it
 * costs a call that follows a killed one only the few milliseconds a
 * teardown takes.
 */
const stopping = new Set<Promise<unknown>>();

export function stopWorker(worker: Worker): Promise<unknown> {
  const stopped = worker.terminate().catch(() => undefined);
  stopping.add(stopped);
  void stopped.then(() => stopping.delete(stopped));
  return stopped;
}

/** Runs `start` now, or once every worker being stopped is gone. */
export function whenNoneStopping(start: () => void): void {
  if (stopping.size === 0) start();
  else void Promise.all(stopping).then(() => whenNoneStopping(start));
}

/** The spare, per worker entry (a host that passes its own workerUrl gets spares of that entry). */
let spare: { readonly url: string; readonly worker: Worker } | undefined;
/** Set once a host asked for spares: only then is a taken one replaced. */
let wanted = false;
/** How long after a spare is taken its replacement starts: not while the call that took it starts. */
const REFILL_DELAY_MS = 250;

/** Starts a spare tool worker for `url` if there is none (unref'd: it keeps no process alive). */
export function prewarmToolWorker(url: URL = workerEntryUrl()): void {
  wanted = true;
  if (spare) return;
  whenNoneStopping(() => {
    if (spare) return;
    const worker = spawn(url, { spare: true }, []);
    worker.unref();
    const mine = { url: url.href, worker };
    spare = mine;
    // A spare that dies unused (it should not) is simply forgotten.
    worker.once('exit', () => {
      if (spare === mine) spare = undefined;
    });
    worker.on('error', () => {});
  });
}

/**
 * A tool worker for `init`: the spare of `url` when there is one, given the
 * init now, else a new worker. Start workers only from whenNoneStopping.
 */
export function startToolWorker(url: URL, init: WorkerInit): Worker {
  const taken = spare?.url === url.href && spare.worker.threadId >= 0 ? spare.worker : undefined;
  if (!taken) return spawn(url, init, [init.hostPort]);
  spare = undefined;
  taken.removeAllListeners('error');
  taken.ref();
  taken.postMessage({ type: 'init', init }, [init.hostPort]);
  if (wanted) setTimeout(() => prewarmToolWorker(url), REFILL_DELAY_MS).unref();
  return taken;
}
