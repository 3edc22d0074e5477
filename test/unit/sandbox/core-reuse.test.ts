/**
 * CoreReuse (runtime/sandbox/worker/core-reuse.ts) over real core modules and
 * a glue-like instantiation: a reused instance shows nothing of the last one
 * (memory, mutable globals, table entries, references, the glue's globals),
 * its JavaScript imports are the new glue's, and every case reuse cannot
 * stand for falls back to a full instantiation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { exposeModuleState, type ModuleState } from '../../../runtime/sandbox/wasm-state.ts';
import { AheadRefused, CoreReuse, type InstantiateCore } from '../../../runtime/sandbox/worker/core-reuse.ts';

const ENGINE = `(module
  (import "host" "note" (func $note (param i32)))
  (import "glue" "flag" (global $flag (mut i32)))
  (memory (export "memory") 1 4)
  (global $counter (mut i32) (i32.const 0))
  (global $ext (mut externref) (ref.null extern))
  (table $t 2 funcref)
  (table $refs 1 externref)
  (elem (table $t) (i32.const 0) func $ten $eleven)
  (func $ten (result i32) (i32.const 10))
  (func $eleven (result i32) (i32.const 11))
  (data (i32.const 16) "fresh")
  (func (export "bump") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.store8 (i32.const 0) (global.get $counter))
    (call $note (global.get $counter))
    (global.get $counter))
  (func (export "tick") (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  (func (export "scribble") (i32.store (i32.const 16) (i32.const 0x58585858)))
  (func (export "swap") (table.set $t (i32.const 0) (ref.func $eleven)))
  (func (export "slot0") (result i32) (call_indirect $t (result i32) (i32.const 0)))
  (func (export "keep") (param externref) (table.set $refs (i32.const 0) (local.get 0)))
  (func (export "kept") (result externref) (table.get $refs (i32.const 0)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "flag") (result i32) (global.get $flag))
  (func (export "setFlag") (param i32) (global.set $flag (local.get 0)))
  (func (export "setRef") (param externref) (global.set $ext (local.get 0)))
  (func (export "getRef") (result externref) (global.get $ext)))`;

const USER = `(module
  (import "engine" "bump" (func $bump (result i32)))
  (import "engine" "memory" (memory 1))
  (func (export "twice") (result i32) (drop (call $bump)) (call $bump)))`;

const STARTS_WITH_HOST = `(module
  (import "host" "note" (func $note (param i32)))
  (func $init (call $note (i32.const 1)))
  (start $init))`;

interface Prepared {
  modules: Record<string, WebAssembly.Module>;
  states: Record<string, ModuleState>;
}

async function prepare(sources: Record<string, string>): Promise<Prepared> {
  const modules: Record<string, WebAssembly.Module> = {};
  const states: Record<string, ModuleState> = {};
  for (const [name, text] of Object.entries(sources)) {
    const r = exposeModuleState((await parse(text)) as Uint8Array);
    assert.ok(r.state);
    modules[name] = new WebAssembly.Module(r.bytes as Uint8Array<ArrayBuffer>);
    states[name] = r.state;
  }
  return { modules, states };
}

type Exports = Record<string, (...args: unknown[]) => unknown>;

interface Run {
  engine: Exports;
  user: Exports;
  flag: WebAssembly.Global;
  notes: number[];
}

/** What jco's glue does, in small: makes a global, instantiates the modules in order, wires one into the next. */
function glue(p: Prepared, opts: { afterInstantiate?: (engine: Exports) => void; extraImport?: boolean } = {}) {
  const notes: number[] = [];
  return async (instantiateCore: InstantiateCore): Promise<Run> => {
    const flag = new WebAssembly.Global({ value: 'i32', mutable: true }, 1);
    const host: WebAssembly.ModuleImports = { note: (n: number) => notes.push(n) };
    if (opts.extraImport) host.more = () => {};
    const engine = (await instantiateCore(p.modules.engine!, { host, glue: { flag } })).exports as unknown as Exports;
    const user = (await instantiateCore(p.modules.user!, { engine: { bump: engine.bump!, memory: engine.memory as unknown as WebAssembly.Memory } })).exports as unknown as Exports;
    opts.afterInstantiate?.(engine);
    return { engine, user, flag, notes };
  };
}

/** Leaves something in every piece of state the instances hold. */
function dirty(r: Run): void {
  r.engine.bump!();
  r.engine.bump!();
  r.engine.scribble!();
  r.engine.swap!();
  r.engine.setRef!({ secret: 1 });
  r.engine.keep!({ secret: 2 });
  r.engine.setFlag!(0);
}

function assertClean(r: Run): void {
  assert.equal(r.engine.peek!(0), 0, 'memory written by a call');
  assert.equal(String.fromCharCode(...[16, 17, 18, 19, 20].map((i) => r.engine.peek!(i) as number)), 'fresh', 'data overwritten by a call');
  assert.equal(r.engine.slot0!(), 10, 'table entry set by a call');
  assert.equal(r.engine.getRef!(), null, 'reference held in a global');
  assert.equal(r.engine.kept!(), null, 'reference held in a table');
  assert.equal(r.engine.flag!(), 1, "the glue's global");
  assert.equal(r.engine.bump!(), 1, 'counter in a global');
}

describe('CoreReuse', () => {
  it('a reused instance holds nothing of the last call and calls the new glue', async () => {
    const p = await prepare({ engine: ENGINE, user: USER });
    const core = new CoreReuse(p.modules, p.states);
    const first = await core.instantiate(glue(p));
    assert.equal(first.reset, false);
    dirty(first.result);
    for (let round = 0; round < 3; round++) {
      const next = await core.instantiate(glue(p));
      assert.equal(next.reset, true, core.offReason);
      assert.equal(next.result.engine, first.result.engine, 'the kept instance');
      assertClean(next.result);
      // Host calls reach this run's glue only.
      assert.deepEqual(next.result.notes, [1]);
      assert.equal(first.result.notes.length, 2);
      // A wasm function passed from one kept instance to the other still works.
      assert.equal(next.result.user.twice!(), 3);
      // The glue's global is the one the instance reads.
      next.result.flag.value = 7;
      assert.equal(next.result.engine.flag!(), 7);
      assert.deepEqual(next.memories, [next.result.engine.memory]);
      dirty(next.result);
    }
  });

  it('a call that grew a memory makes the next instantiation a full one, and reuse goes on after it', async () => {
    const p = await prepare({ engine: ENGINE, user: USER });
    const core = new CoreReuse(p.modules, p.states);
    const first = await core.instantiate(glue(p));
    assert.equal(first.result.engine.grow!(), 1);
    const second = await core.instantiate(glue(p));
    assert.equal(second.reset, false);
    assert.notEqual(second.result.engine, first.result.engine);
    assert.equal((second.result.engine.memory as unknown as WebAssembly.Memory).buffer.byteLength, 65536);
    dirty(second.result);
    const third = await core.instantiate(glue(p));
    assert.equal(third.reset, true);
    assertClean(third.result);
  });

  it('a glue that gives other imports ends reuse; the instantiation is a full one', async () => {
    const p = await prepare({ engine: ENGINE, user: USER });
    const core = new CoreReuse(p.modules, p.states);
    dirty((await core.instantiate(glue(p))).result);
    const other = await core.instantiate(glue(p, { extraImport: true }));
    assert.equal(other.reset, false);
    assert.match(core.offReason ?? '', /other imports/);
    assertClean(other.result);
    assert.equal((await core.instantiate(glue(p))).reset, false, 'reuse stays off');
  });

  it('a glue whose instantiation changes the state (an initialiser it calls) is caught at the first reuse', async () => {
    const p = await prepare({ engine: ENGINE, user: USER });
    const core = new CoreReuse(p.modules, p.states);
    const init = { afterInstantiate: (engine: Exports) => void engine.tick!() };
    const first = await core.instantiate(glue(p, init));
    assert.equal(first.result.engine.bump!(), 2);
    const again = await core.instantiate(glue(p, init));
    // Reused, the initialiser would have run twice (counter 3): a full instantiation instead.
    assert.equal(again.reset, false);
    assert.match(core.offReason ?? '', /changed/);
    assert.equal(again.result.engine.bump!(), 2);
  });

  it('a component that calls the host while it is instantiated is never reused', async () => {
    const p = await prepare({ starter: STARTS_WITH_HOST });
    const core = new CoreReuse(p.modules, p.states);
    const run = async (instantiateCore: InstantiateCore) => {
      const notes: number[] = [];
      await instantiateCore(p.modules.starter!, { host: { note: (n: number) => notes.push(n) } });
      return notes;
    };
    assert.deepEqual((await core.instantiate(run)).result, [1]);
    assert.match(core.offReason ?? '', /host#note while it is instantiated/);
    const second = await core.instantiate(run);
    assert.equal(second.reset, false);
    assert.deepEqual(second.result, [1], 'the start function ran again');
  });

  it('made ahead of any call: a host import called while instantiating fails it, and nothing proves it for a component that cannot be reset', async () => {
    const p = await prepare({ starter: STARTS_WITH_HOST, engine: ENGINE, user: USER });
    const notes: number[] = [];
    const starter = (instantiateCore: InstantiateCore) => instantiateCore(p.modules.starter!, { host: { note: (n: number) => notes.push(n) } });
    const ahead = new CoreReuse({ starter: p.modules.starter! }, { starter: p.states.starter! }, { ahead: true });
    await assert.rejects(ahead.instantiate(starter), (e: unknown) => e instanceof AheadRefused && /host#note while an instance is made/.test(e.message));
    assert.deepEqual(notes, [], 'the host import did not run');
    // Only the first instantiation is made ahead: once a call came, a new instance is made as always.
    await ahead.instantiate(starter);
    assert.deepEqual(notes, [1]);
    const pure = new CoreReuse(p.modules, p.states, { ahead: true });
    assert.equal((await pure.instantiate(glue(p))).reset, false, 'an instantiation that calls nothing of the host is made ahead');
    const unresettable = new CoreReuse(p.modules, null, { ahead: true, offReason: 'a passive segment' });
    await assert.rejects(unresettable.instantiate(glue(p)), (e: unknown) => e instanceof AheadRefused && /cannot be reset \(a passive segment\)/.test(e.message));
  });

  it("the first worker's memory snapshot is shared with later ones, and used only when it equals their own", async () => {
    const p = await prepare({ engine: ENGINE, user: USER });
    const offered: SharedArrayBuffer[][] = [];
    const first = new CoreReuse(p.modules, p.states, { shared: { memories: undefined, offer: (m) => offered.push(m) } });
    await first.instantiate(glue(p));
    assert.equal(offered.length, 1);
    assert.equal(offered[0]!.length, 1);
    assert.equal(String.fromCharCode(...new Uint8Array(offered[0]![0]!, 16, 5)), 'fresh');

    // A later worker given the shared bytes offers none and restores from them.
    const later = new CoreReuse(p.modules, p.states, { shared: { memories: offered[0], offer: () => assert.fail('offered twice') } });
    dirty((await later.instantiate(glue(p))).result);
    assertClean((await later.instantiate(glue(p))).result);

    // Bytes that differ from the worker's own fresh memory are not used.
    const wrong = new SharedArrayBuffer(offered[0]![0]!.byteLength);
    new Uint8Array(wrong).set(new Uint8Array(offered[0]![0]!));
    new Uint8Array(wrong)[16] = 0x58;
    const other = new CoreReuse(p.modules, p.states, { shared: { memories: [wrong], offer: () => assert.fail('offered with shared bytes present') } });
    dirty((await other.instantiate(glue(p))).result);
    assertClean((await other.instantiate(glue(p))).result);
  });

  it('without state exports (a module that cannot be reset) every instantiation is a full one', async () => {
    const p = await prepare({ engine: ENGINE, user: USER });
    const core = new CoreReuse(p.modules, null, { offReason: 'tool.core.wasm: the module has a passive data segment' });
    const first = await core.instantiate(glue(p));
    dirty(first.result);
    const second = await core.instantiate(glue(p));
    assert.equal(second.reset, false);
    assert.notEqual(second.result.engine, first.result.engine);
    assertClean(second.result);
    assert.match(core.offReason ?? '', /passive data segment/);
  });
});
