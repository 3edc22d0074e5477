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
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { MppError } from '../errors.ts';
import { isWithin } from '../paths.ts';
import { isPiiClass, type RedactionCounts } from '../privacy/redact.ts';
import { parseGrant, type Grant, type GrantInput, type Limits } from './grant.ts';
import { availability, serveHostRequests, type HostServices, type LogRecord } from './host-services.ts';
import { prepareComponent, type PreparedComponent } from './prepare.ts';
import type { CallMessage, InstanceOrigin, WorkerError, WorkerInit, WorkerMessage } from './protocol.ts';
import { filesystemFor, type FsStrategyName } from './fs-strategy.ts';
import { removeEntriesOf } from './worker/fs-lock.ts';
import { ioExtensionUrl, startToolWorker, stopWorker, whenNoneStopping, workerEntryUrl } from './tool-worker.ts';

export { ioExtensionUrl, prewarmToolWorker, workerEntryUrl } from './tool-worker.ts';

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
  /** Filesystem strategy; default: chooseFsStrategy() (the platform's, or MPP_FS_STRATEGY). */
  readonly fsStrategy?: FsStrategyName;
  /** A development package's bundled source (its tool.dev.js), run by the generic engine it ships. */
  readonly developmentSource?: string;
  /**
   * Started ahead of any call (a long-running host preparing while idle): the
   * first instance must call nothing of the host while it is made, or the
   * start fails (MPP_E_TOOL_INVALID), so no tool code runs with its grant
   * before someone calls it. A development package's source runs whenever an
   * instance is made: such a sandbox is not started ahead (MPP_E_USAGE).
   */
  readonly ahead?: boolean;
  /** Override the worker entry and IO extension (bundlers). */
  readonly workerUrl?: URL;
  readonly extensionUrl?: URL;
}

/** The call in flight on a worker: settles it, and stops its clock while a human is asked. */
interface Pending {
  readonly id: number;
  /** The worker began the call: its time limit starts. */
  begin(): void;
  resolve(v: string): void;
  reject(e: MppError): void;
  pause(): void;
  resume(): void;
}

/** One worker and what its lifetime decided. */
interface Live {
  /** Set once the worker is started (after earlier workers finished stopping). */
  worker: Worker | undefined;
  /** Settles when the worker's first instance is ready (or could not start). */
  readonly ready: Promise<void>;
  markReady(): void;
  failReady(e: MppError): void;
  pending: Pending | null;
  dead: boolean;
}

/** Per-call options. */
export interface CallOptions {
  /**
   * Ends the call: the worker is stopped (as for a timeout) and the call is
   * refused with the signal's reason when it is an MppError, else with
   * MPP_E_CANCELLED.
   */
  readonly signal?: AbortSignal;
}

const NO_SERVICES: HostServices = { log: () => {} };
/** More memories than any component's core modules define (QuickJS: 2): a worker offering more is not believed. */
const MAX_SHARED_MEMORIES = 64;

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

function newLive(): Live {
  let markReady!: () => void;
  let failReady!: (e: MppError) => void;
  const ready = new Promise<void>((res, rej) => {
    markReady = res;
    failReady = rej;
  });
  ready.catch(() => {});
  return { worker: undefined, ready, markReady, failReady, pending: null, dead: false };
}

const START_HINT = "Starting a tool has its own limit, apart from the call's limits.timeoutMs: retry when the machine is less busy; a tool that never starts in time is too large for this host.";

/** The refusal for a call ended by its signal. */
function cancelled(reason: unknown): MppError {
  if (reason instanceof MppError) return reason;
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
  readonly #fs: WorkerInit['fs'];
  #live: Live | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 1;
  #disposed = false;
  #startedOnce = false;
  readonly #instances: Record<InstanceOrigin, number> = { reset: 0, new: 0 };

  private constructor(prepared: PreparedComponent, grant: Grant, opts: SandboxOptions, fs: WorkerInit['fs']) {
    this.#prepared = prepared;
    this.#fs = fs;
    this.grant = grant;
    this.#services = opts.services ?? NO_SERVICES;
    this.#opts = opts;
  }

  /** Validates the grant, prepares the component and starts its instance. */
  static async create(opts: SandboxOptions): Promise<ToolSandbox> {
    const grant = parseGrant(opts.grant);
    // The portable strategy's lock lives in the cache: this check keeps writable grants off it too.
    refuseGrantOverCache(grant, opts.cacheDir);
    const fs = filesystemFor(grant, opts.cacheDir, opts.fsStrategy);
    const prepared = await prepareComponent(opts.component, { cacheDir: opts.cacheDir, memoryBytes: grant.limits.memoryBytes, ...(opts.componentDigest ? { digest: opts.componentDigest } : {}) });
    if (opts.ahead && opts.developmentSource !== undefined) throw new MppError('MPP_E_USAGE', 'A development package runs its source whenever an instance is made: its sandbox is not started ahead of a call.');
    const sandbox = new ToolSandbox(prepared, grant, opts, fs);
    await sandbox.#ensureLive().ready;
    return sandbox;
  }

  /** sha256 of the component, hex. */
  get digest(): string {
    return this.#prepared.digest;
  }

  /** How many calls ran on kept instances reset to their snapshot, and how many on new ones (spec/sandbox.md §5). */
  get instances(): Readonly<Record<InstanceOrigin, number>> {
    return { ...this.#instances };
  }

  /**
   * Runs one call. Resolves with the tool's output JSON text; rejects with an
   * MppError (MPP_E_INPUT_*, MPP_E_TOOL_*, MPP_E_OUTPUT_*). Calls queue.
   */
  call(tool: string, input: string, opts: CallOptions = {}): Promise<string> {
    const run = this.#queue.then(() => this.#call(tool, input, opts));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** A call: arguments checked -> a live worker with its instance ready -> the call sent and settled. */
  async #call(tool: string, input: string, opts: CallOptions): Promise<string> {
    if (this.#disposed) throw new MppError('MPP_E_USAGE', 'The sandbox has been disposed.');
    if (typeof tool !== 'string' || tool.length === 0 || tool.length > 256) {
      throw new MppError('MPP_E_INPUT_INVALID', `Expected a tool name of 1..256 characters, got ${typeof tool === 'string' ? tool.length + ' characters' : typeof tool}.`);
    }
    if (typeof input !== 'string') throw new MppError('MPP_E_INPUT_INVALID', `Expected the input as JSON text, got ${typeof input}.`);
    // Whether it is JSON is checked in the worker: parsing a large input here would stall the host.
    checkInputSize(input, this.grant.limits);
    if (opts.signal?.aborted) throw cancelled(opts.signal.reason);
    const live = await this.#readyWorker();
    return this.#send(live, tool, input, opts.signal);
  }

  /** A worker whose instance is ready, started when the last one died (once: a tool dying at start cannot keep this going). */
  async #readyWorker(): Promise<Live> {
    for (let attempt = 0; ; attempt++) {
      const live = this.#ensureLive();
      await live.ready;
      if (!live.dead) return live;
      // The instance died between start-up and this call (killed after a fatal error).
      if (attempt > 0) throw new MppError('MPP_E_TOOL_CRASHED', 'The tool worker died twice before it could take the call.', { detail: { reason: 'worker-exit' } });
    }
  }

  /**
   * Sends the call and settles it: the result, the worker's refusal, the
   * time limit or the signal (both stop the worker). The call's clock stops
   * while a human is asked to confirm (the time limit bounds the tool's
   * work, not the user's reading).
   */
  #send(live: Live, tool: string, input: string, signal: AbortSignal | undefined): Promise<string> {
    const limits = this.grant.limits;
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      let remaining = limits.timeoutMs;
      let since = performance.now();
      let begun = false;
      const stop = (e: MppError) => {
        if (live.pending?.id !== id) return;
        live.pending = null;
        settled();
        reject(e);
        this.#kill(live);
      };
      const expire = () => stop(new MppError('MPP_E_TOOL_TIMEOUT', `The tool call ran past its limit of ${limits.timeoutMs} ms and was stopped.`, { detail: { timeoutMs: limits.timeoutMs } }));
      const abort = () => stop(cancelled(signal!.reason));
      // Until the worker begins the call, it is preparing the call's instance: bounded like a start.
      const notStarted = () => stop(new MppError('MPP_E_TOOL_TIMEOUT', 'The tool instance did not start in time.', { hint: START_HINT }));
      let timer: NodeJS.Timeout | undefined = setTimeout(notStarted, this.#opts.startTimeoutMs ?? 30_000);
      signal?.addEventListener('abort', abort, { once: true });
      const settled = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
      };
      live.pending = {
        id,
        begin: () => {
          if (begun) return;
          begun = true;
          clearTimeout(timer);
          since = performance.now();
          timer = setTimeout(expire, remaining);
        },
        resolve: (v) => {
          settled();
          resolve(v);
        },
        reject: (e) => {
          settled();
          reject(e);
        },
        pause: () => {
          if (!begun || timer === undefined) return;
          clearTimeout(timer);
          timer = undefined;
          remaining -= performance.now() - since;
        },
        resume: () => {
          if (!begun || timer !== undefined) return;
          since = performance.now();
          timer = setTimeout(expire, Math.max(0, remaining));
        },
      };
      const msg: CallMessage = { type: 'call', id, tool, input };
      live.worker!.postMessage(msg);
      // Aborted while the call waited for its instance: the listener came too late to hear it.
      if (signal?.aborted) abort();
    });
  }

  /**
   * The live worker, or a new one: host channel -> worker started with its
   * init -> start timer -> its output, messages, errors and exit wired to
   * this Live. Its first instance is prepared at once (`ready`).
   */
  #ensureLive(): Live {
    if (this.#live && !this.#live.dead) return this.#live;
    const live = newLive();
    this.#live = live;
    whenNoneStopping(() => {
      if (live.dead) live.failReady(new MppError('MPP_E_TOOL_CRASHED', 'The tool worker was stopped before it started.', { detail: { reason: 'worker-exit' } }));
      else if (this.#disposed) live.failReady(new MppError('MPP_E_USAGE', 'The sandbox has been disposed.'));
      else this.#startLive(live);
    });
    return live;
  }

  /** Starts `live`'s worker and wires its output, messages, errors and exit to it. */
  #startLive(live: Live): void {
    const hostSignal = new SharedArrayBuffer(4);
    const channel = new MessageChannel();
    const worker = this.#startWorker(this.#workerInit(hostSignal, channel.port2));
    this.#startedOnce = true;
    live.worker = worker;
    // -1 once the thread has stopped: read it now for the clean-up at exit.
    const threadId = worker.threadId;
    serveHostRequests(
      this.#services,
      channel.port1,
      new Int32Array(hostSignal),
      { pause: () => live.pending?.pause(), resume: () => live.pending?.resume() },
      () => !live.dead,
    );
    const startTimer = setTimeout(() => {
      live.failReady(new MppError('MPP_E_TOOL_TIMEOUT', 'The tool instance did not start in time.', { hint: START_HINT }));
      this.#kill(live);
    }, this.#opts.startTimeoutMs ?? 30_000);
    void live.ready.then(() => clearTimeout(startTimer), () => clearTimeout(startTimer));
    this.#drainOutput(worker);
    worker.on('message', (m: WorkerMessage) => this.#onMessage(live, m));
    worker.on('error', (e: Error & { code?: string }) => this.#onError(live, e));
    worker.on('exit', () => {
      clearTimeout(startTimer);
      this.#onExit(live);
      // The files the dead instance still held were closed by Node as the thread ended
      // (trackUnmanagedFds): closing them here again would close what reused their numbers.
      // A worker stopped inside a file operation leaves its lock entry: it can hold no more.
      if (this.#fs.strategy === 'portable' && this.grant.fs.length > 0) removeEntriesOf(this.#fs.lockDir, threadId);
      channel.port1.close();
    });
  }

  #workerInit(hostSignal: SharedArrayBuffer, hostPort: MessagePort): WorkerInit {
    return {
      glueUrl: this.#prepared.glueUrl,
      modules: this.#prepared.modules,
      state: this.#prepared.state,
      snapshotMemories: this.#prepared.snapshot.memories,
      grant: this.grant,
      extensionUrl: (this.#opts.extensionUrl ?? ioExtensionUrl()).href,
      hostSignal,
      hostPort,
      services: availability(this.#services),
      logBudgetBytes: this.#opts.logBudgetBytes ?? 256 * 1024,
      fs: this.#fs,
      ...(this.#opts.developmentSource !== undefined ? { developmentSource: this.#opts.developmentSource } : {}),
      // Only the first worker: one started after a call failed is for calls that were made.
      ...(this.#opts.ahead && !this.#startedOnce ? { ahead: true } : {}),
    };
  }

  #startWorker(init: WorkerInit): Worker {
    return startToolWorker(this.#opts.workerUrl ?? workerEntryUrl(), init);
  }

  /** The worker's own stdout/stderr (not the tool's, which the worker captures): debug lines, bounded. */
  #drainOutput(worker: Worker): void {
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
  }

  #onMessage(live: Live, m: WorkerMessage): void {
    switch (m?.type) {
      case 'ready':
        live.markReady();
        return;
      case 'init-failed':
        live.failReady(toMppError(m.error));
        this.#kill(live);
        return;
      case 'started':
        if (live.pending?.id !== m.id) return;
        if (m.instance === 'reset' || m.instance === 'new') this.#instances[m.instance]++;
        live.pending.begin();
        return;
      case 'snapshot': {
        const share = this.#prepared.snapshot;
        const valid = Array.isArray(m.memories) && m.memories.length <= MAX_SHARED_MEMORIES && m.memories.every((b) => b instanceof SharedArrayBuffer);
        if (valid && !share.memories) share.memories = Object.freeze([...m.memories]);
        return;
      }
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
  }

  #onError(live: Live, e: Error & { code?: string }): void {
    const err =
      e.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new MppError('MPP_E_TOOL_MEMORY', 'The tool worker ran out of JavaScript heap and was stopped.', { cause: e })
        : new MppError('MPP_E_TOOL_CRASHED', 'The tool worker failed.', { cause: e, detail: { reason: 'worker-error' } });
    live.failReady(err);
    live.pending?.reject(err);
    live.pending = null;
  }

  #onExit(live: Live): void {
    live.dead = true;
    const err = new MppError('MPP_E_TOOL_CRASHED', 'The tool worker exited during the call.', { detail: { reason: 'worker-exit' } });
    live.failReady(err);
    live.pending?.reject(err);
    live.pending = null;
  }

  #kill(live: Live): void {
    live.dead = true;
    if (live.worker) void stopWorker(live.worker);
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
      if (live.worker) await stopWorker(live.worker);
    }
  }
}
