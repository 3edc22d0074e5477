/**
 * exposeModuleState (runtime/sandbox/wasm-state.ts): every memory, mutable
 * global and table a module defines is exported under the state prefix, with
 * index spaces counted past imports; a module whose state cannot be put back
 * from outside is reported, unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { exposeModuleState, type ExposeResult } from '../../../runtime/sandbox/wasm-state.ts';

const wat = async (text: string) => (await parse(text)) as Uint8Array;

async function exposed(text: string): Promise<Extract<ExposeResult, { state: object }>> {
  const r = exposeModuleState(await wat(text));
  assert.ok(r.state, `expected the module to be resettable, got: ${'reason' in r ? r.reason : ''}`);
  return r as Extract<ExposeResult, { state: object }>;
}

async function refused(text: string): Promise<string> {
  const input = await wat(text);
  const r = exposeModuleState(input);
  assert.equal(r.state, null);
  assert.equal(r.bytes, input, 'a module that cannot be reset is left as it is');
  return (r as { reason: string }).reason;
}

describe('exposeModuleState', () => {
  it('exports the defined memory, mutable globals and tables, counted past imported ones', async () => {
    const r = await exposed(`(module
      (import "env" "g" (global $ig (mut i32)))
      (import "env" "t" (table $it 1 funcref))
      (global $fixed i32 (i32.const 3))
      (global $counter (mut i64) (i64.const 7))
      (global $ref (mut externref) (ref.null extern))
      (table $own 4 funcref)
      (memory 1 2)
      (func (table.set $own (i32.const 0) (ref.null func)))
      (export "kept" (global $counter)))`);
    assert.deepEqual(r.state, { memories: ['mpp-state:memory0'], globals: ['mpp-state:global2', 'mpp-state:global3'], tables: ['mpp-state:table1'] });
    const env = { g: new WebAssembly.Global({ value: 'i32', mutable: true }, 1), t: new WebAssembly.Table({ element: 'anyfunc', initial: 1 }) };
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(r.bytes as Uint8Array<ArrayBuffer>), { env });
    assert.equal((exports['mpp-state:global2'] as WebAssembly.Global).value, 7n);
    // The same global as the module's own export: the same state, not a copy.
    (exports['mpp-state:global2'] as WebAssembly.Global).value = 8n;
    assert.equal((exports.kept as WebAssembly.Global).value, 8n);
    assert.equal((exports['mpp-state:global3'] as WebAssembly.Global).value, null);
    assert.equal((exports['mpp-state:table1'] as WebAssembly.Table).length, 4);
    assert.notEqual(exports['mpp-state:table1'], env.t);
    assert.equal((exports['mpp-state:memory0'] as WebAssembly.Memory).buffer.byteLength, 65536);
    assert.equal(Object.keys(exports).length, 5, 'immutable globals and imports are not exported');
  });

  it('adds an export section where the module has none, in its place among the sections', async () => {
    const r = await exposed(`(module
      (global $g (mut i32) (i32.const 5))
      (memory 1)
      (func $init (global.set $g (i32.const 6)))
      (start $init)
      (data (i32.const 0) "hi"))`);
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(r.bytes as Uint8Array<ArrayBuffer>));
    assert.equal((exports['mpp-state:global0'] as WebAssembly.Global).value, 6);
    assert.equal(new Uint8Array((exports['mpp-state:memory0'] as WebAssembly.Memory).buffer)[1], 'i'.charCodeAt(0));
  });

  it('returns a module that defines no state unchanged', async () => {
    const input = await wat('(module (global i32 (i32.const 1)) (func (export "f")))');
    const r = exposeModuleState(input);
    assert.deepEqual(r.state, { memories: [], globals: [], tables: [] });
    assert.equal(r.bytes, input);
  });

  it('allows empty passive segments and declarative element segments, which hold no state', async () => {
    await exposed(`(module (memory 1) (data "") (table 1 funcref) (elem func)
      (func $f) (elem declare func $f) (func (export "r") (result funcref) (ref.func $f)))`);
  });

  it('refuses what cannot be put back from outside', async () => {
    assert.match(await refused('(module (memory 1) (data "secret"))'), /passive data segment/);
    assert.match(await refused('(module (table 1 funcref) (func $f) (elem func $f))'), /passive element segment/);
    assert.match(await refused('(module (global (mut v128) (v128.const i32x4 0 0 0 0)))'), /cannot hold/);
    assert.match(await refused('(module (memory 1) (export "mpp-state:memory0" (memory 0)))'), /already starts with/);
  });

  it('throws on a malformed module', () => {
    assert.throws(() => exposeModuleState(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1])), RangeError);
    assert.throws(() => exposeModuleState(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), RangeError);
  });
});
