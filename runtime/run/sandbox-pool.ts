import { createSandbox, forgetComponent, prewarmToolWorker, type CallOptions, type SandboxOptions, type ToolSandbox } from '../sandbox/index.ts';
import type { HostServices } from '../sandbox/host-services.ts';
import { isMppError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import { KeptPackages } from '../store/kept-packages.ts';
import { HeldHandle } from '../state/held-handle.ts';
import type { GrantStore } from '../state/grants.ts';

/**
 * Sandboxes kept between calls in a long-running host (`mpp mcp`, the
 * editor), one per component and grant. A sandbox still runs every call in a
 * fresh instance (sandbox.md); keeping it only means the next instance is
 * prepared while the host is idle, so a call does not wait for a start-up.
 *
 * Services are bound when a sandbox starts, so each kept sandbox gets
 * services that forward to the call in flight; calls to one sandbox run one
 * at a time, and the forwarding target is set when a call starts. A changed
 * grant (a revocation) is another key: the old sandbox is never used again.
 */
export interface PoolOptions {
  /** Most sandboxes kept; the least recently used is stopped first. */
  readonly max: number;
  /** A sandbox unused this long is stopped. */
  readonly idleMs: number;
}

/** What long-running hosts keep: a sandbox per tool in use, stopped after five idle minutes. */
export const DEFAULT_POOL_OPTIONS: PoolOptions = Object.freeze({ max: 16, idleMs: 5 * 60_000 });

interface Entry {
  readonly sandbox: Promise<ToolSandbox>;
  /** What the sandbox runs: given back when the last sandbox of it idles out. */
  readonly component: { readonly digest: string; readonly cacheDir: string };
  readonly forward: Forwarder;
  queue: Promise<unknown>;
  timer: NodeJS.Timeout | undefined;
}

/** Services that forward to whatever call is current (set by the pool). */
class Forwarder {
  current: HostServices | undefined;

  services(kv: boolean): HostServices {
    const now = (): HostServices => {
      if (!this.current) throw new Error('no call in flight');
      return this.current;
    };
    return {
      log: (r) => this.current?.log(r),
      onRedaction: (direction, counts) => this.current?.onRedaction?.(direction, counts),
      identity: { caller: () => now().identity!.caller() },
      confirm: { request: (operation, details) => now().confirm!.request(operation, details) },
      ...(kv
        ? {
            kv: {
              get: (key) => now().kv!.get(key),
              set: (key, value) => now().kv!.set(key, value),
              delete: (key) => now().kv!.delete(key),
              listKeys: (prefix, limit) => now().kv!.listKeys(prefix, limit),
            },
          }
        : {}),
    };
  }
}

export class SandboxPool {
  readonly #opts: PoolOptions;
  readonly #entries = new Map<string, Entry>();
  #disposed = false;
  /** The verified packages these sandboxes run, kept in memory for as long as the pool (sandbox.md §5). */
  readonly packages: KeptPackages;
  /** The grant store, held open for as long as the pool (a decision any process commits is read by the next call). */
  readonly grants = new HeldHandle<GrantStore>();

  constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.packages = new KeptPackages(opts.max);
    // A long-running host: the first call of each new sandbox takes a worker started ahead.
    prewarmToolWorker();
  }

  /**
   * Calls `tool` in the sandbox kept under `key` (made from `options` on first
   * use), with `services` answering for this call only. `services` must offer
   * identity and confirm; kv exactly when the grant allows it.
   */
  call(key: string, options: Omit<SandboxOptions, 'services'>, services: HostServices, tool: string, input: string, call: CallOptions = {}): Promise<string> {
    const e = this.#entries.get(key) ?? this.#create(key, options, services.kv !== undefined);
    // Most recently used last: Map iteration order is the eviction order.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    const run = e.queue.then(async () => {
      clearTimeout(e.timer);
      const sandbox = await e.sandbox;
      e.forward.current = services;
      try {
        return await sandbox.call(tool, input, call);
      } catch (err) {
        // A granted folder replaced since this sandbox opened it refuses every further instance: the next call makes a new sandbox, which opens what is at that path now.
        if (isMppError(err) && err.code === 'MPP_E_GRANT_INVALID' && this.#entries.get(key) === e) void this.#drop(key);
        throw err;
      } finally {
        e.forward.current = undefined;
        this.#idle(key, e);
      }
    });
    e.queue = run.catch(() => {});
    return run;
  }

  /**
   * Starts the sandbox `call` would make under `key`, ahead of its first
   * call (its instance made; SandboxOptions.ahead: making it may call
   * nothing of the host, else it fails); stopped like any other after
   * idleMs unused. Never makes room: with the pool full, nothing is started
   * (false). True once a sandbox is ready under `key`.
   */
  async warm(key: string, options: Omit<SandboxOptions, 'services'>, kv: boolean): Promise<boolean> {
    const kept = this.#entries.get(key);
    if (kept) return kept.sandbox.then(() => true);
    if (this.#disposed || this.#entries.size >= this.#opts.max) return false;
    const e = this.#create(key, { ...options, ahead: true }, kv);
    this.#idle(key, e);
    await e.sandbox;
    return true;
  }

  /** How many sandboxes are kept (started or starting). */
  get size(): number {
    return this.#entries.size;
  }

  #create(key: string, options: Omit<SandboxOptions, 'services'>, kv: boolean): Entry {
    const forward = new Forwarder();
    const sandbox = createSandbox({ ...options, services: forward.services(kv) });
    const component = { digest: options.componentDigest ?? sha256Hex(options.component), cacheDir: options.cacheDir };
    const created: Entry = { sandbox, component, forward, queue: Promise.resolve(), timer: undefined };
    // A failed start drops this entry only, not a newer one under the same key.
    sandbox.catch(() => {
      if (this.#entries.get(key) === created) void this.#drop(key);
    });
    this.#entries.set(key, created);
    this.#evict();
    return created;
  }

  /** Stops `e` after idleMs unused. An entry evicted or dropped meanwhile stays dropped: its timer would stop a newer entry under the same key. */
  #idle(key: string, e: Entry): void {
    if (this.#entries.get(key) !== e) return;
    e.timer = setTimeout(() => void this.#drop(key).then(() => this.#giveBack(e.component)), this.#opts.idleMs);
    e.timer.unref();
  }

  /** Stops every kept sandbox; none is started ahead after this (a prepare still running when its host closes). */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.packages.clear();
    this.grants.close();
    const keys = [...this.#entries.keys()];
    await Promise.all(keys.map((k) => this.#drop(k)));
  }

  #evict(): void {
    while (this.#entries.size > this.#opts.max) {
      const oldest = this.#entries.keys().next().value as string;
      void this.#drop(oldest);
    }
  }

  /**
   * After an idle stop: unless another kept sandbox runs the same component,
   * its verified package and compiled modules are forgotten too, so an idle
   * host gives their memory back; the next call reads, verifies and compiles
   * them again (sandbox.md §5).
   */
  #giveBack(component: Entry['component']): void {
    for (const e of this.#entries.values()) if (e.component.digest === component.digest && e.component.cacheDir === component.cacheDir) return;
    this.packages.forgetComponent(component.digest);
    forgetComponent(component.cacheDir, component.digest);
  }

  async #drop(key: string): Promise<void> {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    clearTimeout(e.timer);
    // Let a call in flight finish before its sandbox stops.
    await e.queue;
    const sandbox = await e.sandbox.catch(() => undefined);
    await sandbox?.dispose();
  }
}
