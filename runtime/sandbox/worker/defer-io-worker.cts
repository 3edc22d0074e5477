/**
 * Preloaded into every tool worker (`--require`, before its entry; see
 * workerExecArgv() in ../host.ts): preview2-shim's IO worker is started
 * when the shim first calls it, not when the shim is imported.
 *
 * Why: the shim starts its IO worker — a second thread with its own V8
 * isolate and the shim's whole bundle — as soon as it is imported: ~14 MB
 * and a thread start per sandbox, though only network requests, clock and
 * stream pollables ever reach it, and a tool that uses none never does.
 *
 * How: the shim takes `Worker` from node:worker_threads, an ES module
 * binding Node keeps in step with the CommonJS exports
 * (syncBuiltinESMExports). For the one construction of the shim's IO worker
 * (its file name below) the binding is a stand-in that records the
 * arguments and listeners and makes the real Worker at the first
 * postMessage — the shim's only way to call it (its synckit: `on`,
 * `postMessage`, `unref`). The binding is put back at that construction.
 * The stand-in has nothing else: a shim that drove its worker otherwise
 * would fail loudly at once, never run without it.
 *
 * CommonJS, because `--require` loads it (a worker's execArgv has no
 * `--import`); it imports nothing of the project.
 */
import type { Worker as NodeWorker, WorkerOptions } from 'node:worker_threads';

const threads: typeof import('node:worker_threads') = require('node:worker_threads');
const { syncBuiltinESMExports }: typeof import('node:module') = require('node:module');

/** The file preview2-shim's dist/io/worker-io.js starts its IO worker from. */
const SHIM_IO_WORKER = '/worker-thread.bundle.js';

const RealWorker = threads.Worker;

class DeferredWorker {
  readonly #args: [string | URL, WorkerOptions | undefined];
  readonly #listeners: Array<[string, (...args: unknown[]) => void]> = [];
  #unref = false;
  #real: NodeWorker | undefined;

  constructor(file: string | URL, options?: WorkerOptions) {
    this.#args = [file, options];
  }

  #started(): NodeWorker {
    if (!this.#real) {
      const real = new RealWorker(...this.#args);
      for (const [event, listener] of this.#listeners) real.on(event, listener);
      if (this.#unref) real.unref();
      this.#real = real;
    }
    return this.#real;
  }

  on(event: string, listener: (...args: unknown[]) => void): this {
    if (this.#real) this.#real.on(event, listener);
    else this.#listeners.push([event, listener]);
    return this;
  }

  postMessage(value: unknown): void {
    this.#started().postMessage(value);
  }

  unref(): void {
    this.#unref = true;
    this.#real?.unref();
  }
}

function isShimIoWorker(file: unknown): boolean {
  const path = file instanceof URL ? file.pathname : typeof file === 'string' ? file : '';
  return path.endsWith(SHIM_IO_WORKER);
}

const Stand = function Worker(file: string | URL, options?: WorkerOptions) {
  if (!isShimIoWorker(file)) return new RealWorker(file, options);
  threads.Worker = RealWorker;
  syncBuiltinESMExports();
  return new DeferredWorker(file, options);
} as unknown as typeof RealWorker;

threads.Worker = Stand;
syncBuiltinESMExports();
