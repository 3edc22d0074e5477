/**
 * The parent-thread side of a sandboxed tool: owns one worker for one grant,
 * which runs every call in a fresh component instance (prepared while the
 * worker is idle); feeds it calls one at a time, enforces the wall time limit
 * by terminating the worker, and turns every failure into a coded MppError.
 * After a fatal failure (timeout, trap, exit, out of memory) the worker is
 * discarded and the next call starts a fresh one.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { MppError } from '../errors.ts';
import { isWithin } from '../paths.ts';
import { isPiiClass, type RedactionCounts } from '../privacy/redact.ts';
import { parseGrant, type Grant, type GrantInput, type Limits } from './grant.ts';
import { availability, serveHostRequests, type HostServices, type LogRecord } from './host-services.ts';
import { prepareComponent, type PreparedComponent } from './prepare.ts';
import type { CallMessage, WorkerError, WorkerInit, WorkerMessage } from './protocol.ts';
import { closeLeakedFds, createFdTableBuffer } from './worker/fd-table.ts';
import { RACE_FREE } from './worker/fs-at.ts';

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

export interface SandboxOptions {
  /** The tool's WebAssembly component. */
  readonly component: Uint8Array;
  /** SHA-256 (hex) of `component`, when the caller already computed it. */
  readonly componentDigest?: string;
  readonly grant: GrantInput;
  /** Host-private directory for transpiled components (keyed by component digest). */
  readonly cacheDir: string;
  /** kv/identity/confirm when available, and where log lines go. */
  readonly services?: HostServices;
  /** Time allowed to start an instance (the call limit does not cover it). Default 30 s. */
  readonly startTimeoutMs?: number;
  /** Bytes of log/stdout/stderr text kept per call. Default 256 KiB. */
  readonly logBudgetBytes?: number;
  /** Override the worker entry and IO extension (bundlers). */
  readonly workerUrl?: URL;
  readonly extensionUrl?: URL;
}

interface Live {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  /** Settles the call in flight, if any. */
  pending: { id: number; resolve(v: string): void; reject(e: MppError): void; pause(): void; resume(): void } | null;
  dead: boolean;
}

const NO_SERVICES: HostServices = { log: () => {} };

/**
 * The transpile cache holds JavaScript the host runs with full authority: a
 * tool that can write it can take over the host. Refuse writable grants that
 * overlap it.
 */
function refuseGrantOverCache(grant: Grant, cacheDir: string): void {
  const cache = realpathOfNearest(resolve(cacheDir));
  for (const g of grant.fs) {
    if (g.write && (isWithin(cache, g.hostPath) || isWithin(g.hostPath, cache))) {
      throw new MppError('MPP_E_GRANT_INVALID', `The writable grant ${g.hostPath} overlaps the sandbox cache ${cache}.`, {
        hint: 'Grant a narrower directory; tools must never be able to write the host\'s own files.',
        detail: { hostPath: g.hostPath },
      });
    }
  }
}

/**
 * The real path a not-yet-created folder will have: its nearest existing
 * ancestor resolved through links, plus the rest. (Grant paths are real
 * paths; comparing against an unresolved cache path would miss a link.)
 */
function realpathOfNearest(path: string): string {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(head), ...tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) return path;
      tail.unshift(basename(head));
      head = parent;
    }
  }
}

/** Size before parsing: an oversized input costs nothing but this count. */
export function checkInputSize(input: string, limits: Limits): void {
  const bytes = Buffer.byteLength(input, 'utf8');
  if (bytes > limits.maxInputBytes) {
    throw new MppError('MPP_E_INPUT_TOO_LARGE', `The input is ${bytes} bytes; the limit is ${limits.maxInputBytes}.`, {
      hint: 'Send a smaller input; the package sets this limit in its manifest (limits.maxInputBytes), within the host maximum.',
      detail: { bytes, limit: limits.maxInputBytes },
    });
  }
}

function cancelled(): MppError {
  return new MppError('MPP_E_CANCELLED', 'The call was cancelled by its caller; its worker was stopped.');
}

function toMppError(e: WorkerError): MppError {
  return new MppError(e.code, e.message, e.detail ? { detail: e.detail } : {});
}

export class ToolSandbox {
  readonly grant: Grant;
  readonly #prepared: PreparedComponent;
  readonly #services: HostServices;
  readonly #opts: SandboxOptions;
  #live: Live | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 1;
  #disposed = false;

  private constructor(prepared: PreparedComponent, grant: Grant, opts: SandboxOptions) {
    this.#prepared = prepared;
    this.grant = grant;
    this.#services = opts.services ?? NO_SERVICES;
    this.#opts = opts;
  }

  /** Validates the grant, prepares the component and starts its instance. */
  static async create(opts: SandboxOptions): Promise<ToolSandbox> {
    const grant = parseGrant(opts.grant);
    if (grant.fs.length > 0 && !RACE_FREE) {
      // Without /proc/self/fd every path walk races with concurrent renames
      // (see worker/fs-at.ts); refuse rather than run a known escape.
      throw new MppError('MPP_E_GRANT_INVALID', 'Filesystem grants need Linux (/proc/self/fd) in this version of the sandbox.', {
        hint: 'Run the tool without filesystem grants on this platform.',
      });
    }
    refuseGrantOverCache(grant, opts.cacheDir);
    const prepared = await prepareComponent(opts.component, { cacheDir: opts.cacheDir, memoryBytes: grant.limits.memoryBytes, ...(opts.componentDigest ? { digest: opts.componentDigest } : {}) });
    const sandbox = new ToolSandbox(prepared, grant, opts);
    await sandbox.#ensureLive().ready;
    return sandbox;
  }

  /** sha256 of the component, hex. */
  get digest(): string {
    return this.#prepared.digest;
  }

  /**
   * Runs one call. Resolves with the tool's output JSON text; rejects with an
   * MppError (MPP_E_INPUT_*, MPP_E_TOOL_*, MPP_E_OUTPUT_*). Calls queue.
   */
  call(tool: string, input: string, signal?: AbortSignal): Promise<string> {
    const run = this.#queue.then(() => this.#call(tool, input, false, signal));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #call(tool: string, input: string, retried = false, signal?: AbortSignal): Promise<string> {
    if (this.#disposed) throw new MppError('MPP_E_USAGE', 'The sandbox has been disposed.');
    if (signal?.aborted) throw cancelled();
    if (typeof tool !== 'string' || tool.length === 0 || tool.length > 256) {
      throw new MppError('MPP_E_INPUT_INVALID', `Expected a tool name of 1..256 characters, got ${typeof tool === 'string' ? tool.length + ' characters' : typeof tool}.`);
    }
    if (typeof input !== 'string') throw new MppError('MPP_E_INPUT_INVALID', `Expected the input as JSON text, got ${typeof input}.`);
    const limits = this.grant.limits;
    // Whether it is JSON is checked in the worker: parsing a large input here would stall the host.
    checkInputSize(input, limits);
    const live = this.#ensureLive();
    await live.ready;
    if (live.dead) {
      // The instance died between start-up and this call (killed after a fatal error): one
      // fresh start, not a loop that a tool dying at start could keep going.
      if (retried) throw new MppError('MPP_E_TOOL_CRASHED', 'The tool worker died twice before it could take the call.', { detail: { reason: 'worker-exit' } });
      return this.#call(tool, input, true, signal);
    }
    if (signal?.aborted) throw cancelled();
    const id = this.#nextId++;
    return new Promise<string>((settle, fail) => {
      // Cancelled by the caller: the call runs synchronously in its worker, so stopping it means stopping the worker (the next call starts a fresh one).
      const cancel = () => {
        if (live.pending?.id !== id) return;
        clearTimeout(timer);
        live.pending = null;
        reject(cancelled());
        this.#kill(live);
      };
      const resolve = (v: string) => {
        signal?.removeEventListener('abort', cancel);
        settle(v);
      };
      const reject = (e: MppError) => {
        signal?.removeEventListener('abort', cancel);
        fail(e);
      };
      signal?.addEventListener('abort', cancel, { once: true });
      // The call's clock stops while a human is asked to confirm (the time
      // limit bounds the tool's work, not the user's reading).
      let remaining = limits.timeoutMs;
      let since = performance.now();
      const expire = () => {
        if (live.pending?.id !== id) return;
        live.pending = null;
        reject(new MppError('MPP_E_TOOL_TIMEOUT', `The tool call ran past its limit of ${limits.timeoutMs} ms and was stopped.`, { detail: { timeoutMs: limits.timeoutMs } }));
        this.#kill(live);
      };
      let timer: NodeJS.Timeout | undefined = setTimeout(expire, remaining);
      live.pending = {
        id,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        pause: () => {
          if (timer === undefined) return;
          clearTimeout(timer);
          timer = undefined;
          remaining -= performance.now() - since;
        },
        resume: () => {
          if (timer !== undefined) return;
          since = performance.now();
          timer = setTimeout(expire, Math.max(0, remaining));
        },
      };
      const msg: CallMessage = { type: 'call', id, tool, input };
      live.worker.postMessage(msg);
    });
  }

  #ensureLive(): Live {
    if (this.#live && !this.#live.dead) return this.#live;
    const fdTable = createFdTableBuffer();
    const hostSignal = new SharedArrayBuffer(4);
    const channel = new MessageChannel();
    serveHostRequests(
      this.#services,
      channel.port1,
      new Int32Array(hostSignal),
      {
        pause: () => live.pending?.pause(),
        resume: () => live.pending?.resume(),
      },
      () => !live.dead,
    );
    const init: WorkerInit = {
      glueUrl: this.#prepared.glueUrl,
      modules: this.#prepared.modules,
      grant: this.grant,
      extensionUrl: (this.#opts.extensionUrl ?? ioExtensionUrl()).href,
      fdTable,
      hostSignal,
      hostPort: channel.port2,
      services: availability(this.#services),
      logBudgetBytes: this.#opts.logBudgetBytes ?? 256 * 1024,
    };
    const worker = new Worker(this.#opts.workerUrl ?? workerEntryUrl(), {
      workerData: init,
      transferList: [channel.port2],
      // The worker's process.env is empty: nothing in the worker (shim
      // defaults included) can read the host environment.
      env: {},
      execArgv: [],
      stdout: true,
      stderr: true,
      // Bounds the JS heap of the worker; wasm memory is bounded separately
      // by the cap compiled into the module (resourceLimits does not see it).
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    let markReady!: () => void;
    let failReady!: (e: MppError) => void;
    const ready = new Promise<void>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    ready.catch(() => {});
    const live: Live = { worker, ready, pending: null, dead: false };
    this.#live = live;
    const startTimer = setTimeout(() => {
      failReady(new MppError('MPP_E_TOOL_TIMEOUT', 'The tool instance did not start in time.', {
        hint: 'Starting a tool has its own limit, apart from the call\'s limits.timeoutMs: retry when the machine is less busy; a tool that never starts in time is too large for this host.',
      }));
      this.#kill(live);
    }, this.#opts.startTimeoutMs ?? 30_000);
    const drain = (stream: NodeJS.ReadableStream | null | undefined) => {
      let budget = 64 * 1024;
      stream?.on('data', (chunk: Buffer) => {
        if (budget <= 0) return;
        const text = chunk.toString('utf8').slice(0, budget);
        budget -= text.length;
        this.#log({ level: 'debug', source: 'sandbox', message: text });
      });
    };
    drain(worker.stdout);
    drain(worker.stderr);
    worker.on('message', (m: WorkerMessage) => {
      switch (m?.type) {
        case 'ready':
          clearTimeout(startTimer);
          markReady();
          return;
        case 'init-failed':
          clearTimeout(startTimer);
          failReady(toMppError(m.error));
          this.#kill(live);
          return;
        case 'log':
          this.#log(m.record);
          return;
        case 'redaction':
          this.#redaction(m.counts);
          return;
        case 'result':
        case 'failed': {
          const p = live.pending;
          if (!p || p.id !== m.id) return;
          live.pending = null;
          if (m.type === 'result') {
            p.resolve(m.output);
          } else {
            p.reject(toMppError(m.error));
            if (m.error.fatal) this.#kill(live);
          }
          return;
        }
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const err =
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new MppError('MPP_E_TOOL_MEMORY', 'The tool worker ran out of JavaScript heap and was stopped.', { cause: e })
          : new MppError('MPP_E_TOOL_CRASHED', 'The tool worker failed.', { cause: e, detail: { reason: 'worker-error' } });
      clearTimeout(startTimer);
      failReady(err);
      live.pending?.reject(err);
      live.pending = null;
    });
    worker.on('exit', () => {
      clearTimeout(startTimer);
      live.dead = true;
      // fds are process-wide: close what the dead instance still held.
      closeLeakedFds(fdTable);
      channel.port1.close();
      const err = new MppError('MPP_E_TOOL_CRASHED', 'The tool worker exited during the call.', { detail: { reason: 'worker-exit' } });
      failReady(err);
      live.pending?.reject(err);
      live.pending = null;
    });
    return live;
  }

  #kill(live: Live): void {
    live.dead = true;
    void live.worker.terminate();
  }

  /** Passes counts on to the audit hook, checked first: the worker runs tool-influenced code. */
  #redaction(counts: unknown): void {
    if (typeof counts !== 'object' || counts === null) return;
    const clean: RedactionCounts = {};
    for (const [k, v] of Object.entries(counts)) {
      if (isPiiClass(k) && Number.isSafeInteger(v) && (v as number) > 0) clean[k] = v as number;
    }
    try {
      this.#services.onRedaction?.('http', clean);
    } catch {
      // Like the log sink: a failing audit sink must not break the call.
    }
  }

  #log(record: LogRecord): void {
    try {
      this.#services.log(record);
    } catch {
      // A failing log sink must not break the call.
    }
  }

  /** Stops the instance; later calls are refused. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    const live = this.#live;
    this.#live = null;
    if (live && !live.dead) {
      live.dead = true;
      await live.worker.terminate();
    }
  }
}
