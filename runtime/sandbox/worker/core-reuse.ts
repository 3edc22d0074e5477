/**
 * A clean component instance for every call without instantiating anew: the
 * core instances of the first instantiation are kept, and before each later
 * one every piece of state they hold is put back as it was right after that
 * first instantiation — linear memories byte for byte, mutable globals,
 * table entries (all exposed at prepare time, ../wasm-state.ts). The glue
 * then runs its instantiation again over the kept instances, so everything
 * it holds in JavaScript (resource handle tables, task state) is new too.
 *
 * This depends on the glue's layout, not its API (it is pinned by the
 * transpiler version in the cache key), so the layout is checked on every
 * reuse and any mismatch falls back to a full instantiation for good:
 *   - core modules are instantiated in the same order with imports of the
 *     same shape: wasm values (functions, memories, tables, globals) are the
 *     very objects of the kept instances, JavaScript functions are rebound
 *     (each import of a kept instance calls through a stable trampoline);
 *   - the WebAssembly.Global objects the glue makes while instantiating are
 *     handed back in the same order, reset to the value it asks for;
 *   - the first reuse compares the state after the glue's run with the
 *     snapshot: if running the glue's instantiation again changed anything
 *     (an initialiser it calls), reuse is off.
 * A host import called while instantiating (a start function reading the
 * clock, say) would not be called again on reuse: such a component is never
 * reused. A memory or table a call grew cannot shrink: the instances are
 * dropped and the next instantiation is a full one.
 */
import type { ModuleState } from '../wasm-state.ts';

export type InstantiateCore = (module: WebAssembly.Module, imports?: WebAssembly.Imports) => Promise<WebAssembly.Instance>;

export interface Instantiated<T> {
  readonly result: T;
  /** Every memory the instances hold, for the out-of-memory check. */
  readonly memories: readonly WebAssembly.Memory[];
  /** Whether this instantiation reset kept instances (else it made new ones). */
  readonly reset: boolean;
}

/** The glue did something the kept instances cannot stand for. */
class LayoutMismatch extends Error {}

/** An instance made ahead of any call would have run something of the host (CoreReuse's `ahead`). */
export class AheadRefused extends Error {}

interface Rebindable {
  fn: (...args: unknown[]) => unknown;
}

interface Slot {
  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;
  /** JavaScript function imports, by "module\0name": what the trampoline calls now. */
  readonly bound: ReadonlyMap<string, Rebindable>;
  /** Every other import, by "module\0name": must be this very value on reuse. */
  readonly fixed: ReadonlyMap<string, unknown>;
}

interface MadeGlobal {
  readonly global: WebAssembly.Global;
  readonly type: string;
  readonly mutable: boolean;
  readonly value: unknown;
}

interface Snapshot {
  readonly memories: ReadonlyArray<{ readonly memory: WebAssembly.Memory; readonly bytes: Uint8Array }>;
  readonly globals: ReadonlyArray<{ readonly global: WebAssembly.Global; readonly value: unknown }>;
  readonly tables: ReadonlyArray<{ readonly table: WebAssembly.Table; readonly entries: readonly unknown[] }>;
}

interface Kept {
  readonly slots: readonly Slot[];
  readonly made: readonly MadeGlobal[];
  readonly snapshot: Snapshot;
  verified: boolean;
}

/** Captured before any instantiation can replace it (withGlobalConstructor). */
const OriginalGlobal = WebAssembly.Global;
/** What `new WebAssembly.Global(d)` holds without a value, for the types the glue makes. */
const DEFAULT_VALUE: Readonly<Record<string, unknown>> = { i32: 0, f32: 0, f64: 0, i64: 0n };

const importKey = (module: string, name: string) => `${module}\0${name}`;

function entries(imports: WebAssembly.Imports | undefined): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [module, ns] of Object.entries(imports ?? {})) {
    for (const [name, value] of Object.entries(ns as Record<string, unknown>)) out.push([importKey(module, name), value]);
  }
  return out;
}

/**
 * Runs `body` with WebAssembly.Global replaced by `make`: the glue calls
 * `new WebAssembly.Global(...)` while it instantiates. Restored before
 * anything else can run (the worker serves one instantiation at a time).
 */
async function withGlobalConstructor<T>(make: (descriptor: WebAssembly.GlobalDescriptor, value: unknown) => WebAssembly.Global, body: () => Promise<T>): Promise<T> {
  const Replacement = function (descriptor: WebAssembly.GlobalDescriptor, value: unknown) {
    return make(descriptor, value);
  } as unknown as typeof WebAssembly.Global;
  Replacement.prototype = OriginalGlobal.prototype;
  WebAssembly.Global = Replacement;
  try {
    return await body();
  } finally {
    WebAssembly.Global = OriginalGlobal;
  }
}

/**
 * The memories' snapshot bytes are the same in every worker of a package
 * (instantiation calls no host import, so it is deterministic): the first
 * worker copies them into shared buffers the host hands to later workers,
 * which use them once they compare equal to their own fresh memories. Only
 * the workers' own code reads them (the guest never sees them), and nothing
 * writes them after the first copy.
 */
export interface SharedSnapshot {
  /** The memories' bytes from the first worker of this package, in instantiation order; absent in that worker. */
  readonly memories: readonly SharedArrayBuffer[] | undefined;
  /** Called once, by the first worker, with the buffers for later ones. */
  offer(memories: SharedArrayBuffer[]): void;
}

function snapshotBytes(memory: WebAssembly.Memory, shared: SharedArrayBuffer | undefined): { bytes: Uint8Array; copy?: SharedArrayBuffer } {
  const now = new Uint8Array(memory.buffer);
  if (shared && shared.byteLength === now.byteLength) {
    const bytes = new Uint8Array(shared);
    if (Buffer.compare(now, bytes) === 0) return { bytes };
  }
  const copy = new SharedArrayBuffer(now.byteLength);
  const bytes = new Uint8Array(copy);
  bytes.set(now);
  return { bytes, copy };
}

function takeSnapshot(slots: readonly Slot[], states: ReadonlyMap<WebAssembly.Module, ModuleState>, shared: SharedSnapshot | undefined): Snapshot {
  const memories: Array<Snapshot['memories'][number]> = [];
  const copies: SharedArrayBuffer[] = [];
  const globals: Array<Snapshot['globals'][number]> = [];
  const tables: Array<Snapshot['tables'][number]> = [];
  for (const { module, instance } of slots) {
    const state = states.get(module)!;
    for (const name of state.memories) {
      const memory = instance.exports[name] as WebAssembly.Memory;
      const { bytes, copy } = snapshotBytes(memory, shared?.memories?.[memories.length]);
      memories.push({ memory, bytes });
      if (copy) copies.push(copy);
    }
    for (const name of state.globals) {
      const global = instance.exports[name] as WebAssembly.Global;
      globals.push({ global, value: global.value });
    }
    for (const name of state.tables) {
      const table = instance.exports[name] as WebAssembly.Table;
      const entries: unknown[] = [];
      for (let i = 0; i < table.length; i++) entries.push(table.get(i));
      tables.push({ table, entries });
    }
  }
  if (shared && !shared.memories && copies.length === memories.length) shared.offer(copies);
  return { memories, globals, tables };
}

/** Whether every memory and table is still the size it was in the snapshot (a grown one cannot shrink). */
function sameSizes(s: Snapshot): boolean {
  return s.memories.every((m) => m.memory.buffer.byteLength === m.bytes.byteLength) && s.tables.every((t) => t.table.length === t.entries.length);
}

function restore(s: Snapshot): void {
  for (const m of s.memories) new Uint8Array(m.memory.buffer).set(m.bytes);
  for (const g of s.globals) g.global.value = g.value;
  // Compared first: a call rarely changes an entry, and setting a funcref entry updates the
  // table's dispatch entry too (one table.copy of SpiderMonkey's 7,756 entries cost 0.35 ms more).
  for (const t of s.tables) {
    for (let i = 0; i < t.entries.length; i++) if (t.table.get(i) !== t.entries[i]) t.table.set(i, t.entries[i]);
  }
}

function matches(s: Snapshot): boolean {
  return (
    sameSizes(s) &&
    s.memories.every((m) => Buffer.compare(new Uint8Array(m.memory.buffer), m.bytes) === 0) &&
    s.globals.every((g) => Object.is(g.global.value, g.value)) &&
    s.tables.every((t) => t.entries.every((e, i) => t.table.get(i) === e))
  );
}

export class CoreReuse {
  readonly #states: ReadonlyMap<WebAssembly.Module, ModuleState>;
  #kept: Kept | undefined;
  /** Why instances are never kept (set once: the glue and the modules do not change). */
  #off: string | undefined;

  readonly #shared: SharedSnapshot | undefined;
  /** The next fresh instantiation is made ahead of any call: a host import called while it runs fails it. */
  #refuseHostCalls: boolean;

  /** `states` is null when a module of the component cannot be reset; every instantiation is then a full one. */
  constructor(modules: Readonly<Record<string, WebAssembly.Module>>, states: Readonly<Record<string, ModuleState>> | null, opts: { offReason?: string; shared?: SharedSnapshot; ahead?: boolean } = {}) {
    this.#shared = opts.shared;
    this.#refuseHostCalls = opts.ahead === true;
    const byModule = new Map<WebAssembly.Module, ModuleState>();
    if (states) for (const [name, m] of Object.entries(modules)) if (states[name]) byModule.set(m, states[name]);
    this.#states = byModule;
    this.#off = states ? undefined : (opts.offReason ?? 'a core module cannot be reset');
  }

  /** Why this worker instantiates anew for every call, or undefined when it reuses. */
  get offReason(): string | undefined {
    return this.#off;
  }

  /**
   * Runs the glue's instantiation (`run`) over reset kept instances when
   * there are any, else over new ones (kept for next time when allowed).
   */
  async instantiate<T>(run: (instantiateCore: InstantiateCore) => Promise<T>): Promise<Instantiated<T>> {
    const kept = this.#kept;
    this.#kept = undefined;
    if (kept && this.#off === undefined && sameSizes(kept.snapshot)) {
      try {
        const result = await this.#reuse(kept, run);
        this.#kept = kept;
        return { result, memories: kept.snapshot.memories.map((m) => m.memory), reset: true };
      } catch (e) {
        // The glue may wrap what instantiateCore threw: any failure over kept
        // instances ends reuse (the glue would do the same again); a full
        // instantiation decides whether the component itself is at fault.
        this.#off = e instanceof LayoutMismatch ? e.message : `instantiating over kept instances failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    return this.#fresh(run);
  }

  async #fresh<T>(run: (instantiateCore: InstantiateCore) => Promise<T>): Promise<Instantiated<T>> {
    const refuseHostCalls = this.#refuseHostCalls;
    this.#refuseHostCalls = false;
    // Only the trampolines below see host calls: without them nothing proves instantiation calls none.
    if (refuseHostCalls && this.#off !== undefined) throw new AheadRefused(`its instances cannot be reset (${this.#off}), so nothing shows that making one calls no host import`);
    const memories: WebAssembly.Memory[] = [];
    /** A core instance made as is, its memories noted. */
    const plain: InstantiateCore = async (module, imports) => {
      const instance = await WebAssembly.instantiate(module, imports);
      for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory && !memories.includes(v)) memories.push(v);
      return instance;
    };
    if (this.#off !== undefined) return { result: await run(plain), memories, reset: false };
    const slots: Slot[] = [];
    const made: MadeGlobal[] = [];
    const ours = new Set<unknown>();
    let instantiating = true;
    let hostCalled: string | undefined;
    let unprepared = false;
    const instantiateCore: InstantiateCore = async (module, imports) => {
      if (!this.#states.has(module)) {
        unprepared = true;
        return plain(module, imports);
      }
      const bound = new Map<string, Rebindable>();
      const fixed = new Map<string, unknown>();
      const wrapped: Record<string, Record<string, unknown>> = {};
      for (const [module, ns] of Object.entries(imports ?? {})) {
        const out: Record<string, unknown> = (wrapped[module] = {});
        for (const [name, value] of Object.entries(ns as Record<string, unknown>)) {
          const key = importKey(module, name);
          if (typeof value === 'function' && !ours.has(value)) {
            const ref: Rebindable = { fn: value as Rebindable['fn'] };
            bound.set(key, ref);
            out[name] = (...args: unknown[]) => {
              if (instantiating) {
                hostCalled ??= key.replace('\0', '#');
                if (refuseHostCalls) throw new AheadRefused(`it calls ${hostCalled} while an instance is made`);
              }
              return ref.fn(...args);
            };
          } else {
            fixed.set(key, value);
            out[name] = value;
          }
        }
      }
      const instance = await plain(module, wrapped as WebAssembly.Imports);
      for (const v of Object.values(instance.exports)) ours.add(v);
      slots.push({ module, instance, bound, fixed });
      return instance;
    };
    const makeGlobal = (descriptor: WebAssembly.GlobalDescriptor, value: unknown) => {
      const global = new OriginalGlobal(descriptor, value as number);
      made.push({ global, type: String(descriptor.value), mutable: Boolean(descriptor.mutable), value });
      ours.add(global);
      return global;
    };
    let result: T;
    try {
      result = await withGlobalConstructor(makeGlobal, () => run(instantiateCore));
    } finally {
      instantiating = false;
    }
    if (hostCalled !== undefined) {
      this.#off = `the component calls ${hostCalled} while it is instantiated`;
    } else if (unprepared) {
      this.#off = 'the glue instantiated a core module the host did not prepare for reuse';
    } else {
      this.#kept = { slots, made, snapshot: takeSnapshot(slots, this.#states, this.#shared), verified: false };
    }
    return { result, memories, reset: false };
  }

  async #reuse<T>(kept: Kept, run: (instantiateCore: InstantiateCore) => Promise<T>): Promise<T> {
    restore(kept.snapshot);
    let next = 0;
    const instantiateCore: InstantiateCore = async (module, imports) => {
      const slot = kept.slots[next++];
      if (!slot || slot.module !== module) throw new LayoutMismatch('the glue instantiates core modules in another order');
      const given = entries(imports);
      if (given.length !== slot.bound.size + slot.fixed.size) throw new LayoutMismatch('the glue gives a core module other imports');
      const rebind: Array<[Rebindable, Rebindable['fn']]> = [];
      for (const [key, value] of given) {
        const ref = slot.bound.get(key);
        if (ref) {
          if (typeof value !== 'function') throw new LayoutMismatch('the glue gives a core module other imports');
          rebind.push([ref, value as Rebindable['fn']]);
        } else if (!slot.fixed.has(key) || !Object.is(slot.fixed.get(key), value)) {
          throw new LayoutMismatch('the glue gives a core module other imports');
        }
      }
      for (const [ref, fn] of rebind) ref.fn = fn;
      return slot.instance;
    };
    let handedOut = 0;
    const recycle = (descriptor: WebAssembly.GlobalDescriptor, value: unknown) => {
      const m = kept.made[handedOut++];
      if (!m || m.type !== String(descriptor.value) || m.mutable !== Boolean(descriptor.mutable) || !Object.is(m.value, value)) {
        throw new LayoutMismatch('the glue makes other globals');
      }
      if (m.mutable) {
        const initial = value ?? DEFAULT_VALUE[m.type];
        if (initial === undefined) throw new LayoutMismatch('the glue makes a global without a value of a type that has no plain default');
        m.global.value = initial;
      }
      return m.global;
    };
    const result = await withGlobalConstructor(recycle, () => run(instantiateCore));
    if (next !== kept.slots.length || handedOut !== kept.made.length) throw new LayoutMismatch('the glue instantiates other core modules');
    if (!kept.verified) {
      if (!matches(kept.snapshot)) throw new LayoutMismatch("instantiating the component again changed its instances' state");
      kept.verified = true;
    }
    return result;
  }
}

