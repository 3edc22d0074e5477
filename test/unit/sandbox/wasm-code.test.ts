/**
 * codeWritesTables (runtime/sandbox/wasm-code.ts): every instruction that
 * writes a table is found wherever it sits among instructions with every
 * kind of immediate, no instruction that does not is taken for one, and
 * whatever the reader does not know counts as a write (fail closed).
 * test/integration/wasm-code-oracle.test.ts holds it to wasm-tools `print`
 * on the components `mpp build` makes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { codeWritesTables } from '../../../runtime/sandbox/wasm-code.ts';
import { SECTION, sections } from '../../../runtime/sandbox/wasm-sections.ts';
import { exposeModuleState } from '../../../runtime/sandbox/wasm-state.ts';

const scan = async (wat: string): Promise<boolean> => {
  const bytes = (await parse(wat)) as Uint8Array;
  // Every fixture is a module V8 accepts: the reader is only ever given such modules.
  new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return codeWritesTables(bytes, sections(bytes).find((s) => s.id === SECTION.code));
};

/** Instructions with every kind of immediate the reader skips, none of which writes a table. */
const BUSY = `
    (local $a i32) (local $v v128) (local $r externref) (local $l i64) (local $f f64)
    (block $out (result i32)
      (loop $again
        (br_if $again (i32.eqz (i32.const 0)))
        (br_table $out $out (i32.const 38) (i32.const 0)))
      (i32.const 0x26))
    (drop)
    (if (result i32) (i32.const 1) (then (i32.const -1000000)) (else (i32.const 0xfc)))
    (local.set $a)
    (local.set $l (i64.const 0x2626262626262626))
    (local.set $f (f64.const 1.5e300))
    (drop (f32.const 0.26))
    (i32.store offset=0x26 align=1 (i32.const 8) (i32.load16_u offset=300 (i32.const 0)))
    (i64.store (i32.const 0) (i64.load32_s (i32.const 0)))
    (memory.fill (i32.const 0) (i32.const 0x26) (i32.const 4))
    (memory.copy (i32.const 0) (i32.const 4) (i32.const 4))
    (drop (memory.size))
    (drop (memory.grow (i32.const 0)))
    (drop (table.size $t))
    (drop (table.get $t (i32.const 0)))
    (drop (call_indirect $t (type $ret) (i32.const 0)))
    (local.set $v (v128.const i32x4 0x26262626 0xfcfcfcfc 0x11111111 0x0f0f0f0f))
    (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))
    (drop (i32x4.extract_lane 3 (local.get $v)))
    (local.set $v (v128.load8_lane offset=16 7 (i32.const 0) (local.get $v)))
    (v128.store32_lane 2 (i32.const 0) (local.get $v))
    (local.set $v (v128.load64_zero (i32.const 0)))
    (local.set $v (f32x4.add (local.get $v) (v128.load (i32.const 0))))
    (drop (i32.atomic.rmw.add offset=4 (i32.const 0) (i32.const 1)))
    (atomic.fence)
    (drop (select (result externref) (local.get $r) (ref.null extern) (i32.const 1)))
    (drop (ref.is_null (ref.func $ret0)))
    (drop (i32.trunc_sat_f64_s (local.get $f)))
    (drop (i32.extend8_s (i32.const 0x26)))
    (block $caught (try_table (catch_all $caught)))
    (elem.drop $passive)
    (return_call $ret0)`;

const module = (body: string, extra = '') => `(module
  (type $ret (func (result i32)))
  (memory 1 1 shared)
  (table $t 2 funcref)
  (elem $passive func $ret0)
  (elem (table $t) (i32.const 0) func $ret0)
  (func $ret0 (result i32) (i32.const 0))
  ${extra}
  (func (export "run") (result i32) ${body}))`;

describe('codeWritesTables', () => {
  it('finds no write among instructions of every immediate kind, even with table opcodes as immediates', async () => {
    assert.equal(await scan(module(BUSY)), false);
  });

  for (const [name, write] of [
    ['table.set', '(table.set $t (i32.const 1) (ref.func $ret0))'],
    ['table.grow', '(drop (table.grow $t (ref.null func) (i32.const 1)))'],
    ['table.fill', '(table.fill $t (i32.const 0) (ref.null func) (i32.const 1))'],
    ['table.copy', '(table.copy $t $t (i32.const 0) (i32.const 1) (i32.const 1))'],
    ['table.init', '(table.init $t $passive (i32.const 0) (i32.const 0) (i32.const 1))'],
  ] as const) {
    it(`finds ${name}, after every other kind of instruction`, async () => {
      assert.equal(await scan(module(`${BUSY.replace('(return_call $ret0)', '')} ${write} (i32.const 0)`)), true);
    });
    it(`finds ${name} in a later function`, async () => {
      assert.equal(await scan(module('(i32.const 0)', `(func $later ${write})`)), true);
    });
  }

  it('counts an instruction it does not read (GC) as a write', async () => {
    assert.equal(await scan(module('(drop (struct.new $pair (i32.const 1))) (i32.const 0)', '(type $pair (struct (field i32)))')), true);
  });

  it('counts a body that does not end where its size says as a write', async () => {
    // (func) with body size 4 holding: no locals, i32.const 0, drop, end. Cut to claim one byte fewer.
    const bytes = (await parse('(module (func (drop (i32.const 0))))')) as Uint8Array;
    const code = sections(bytes).find((s) => s.id === SECTION.code)!;
    assert.equal(codeWritesTables(bytes, code), false);
    const bodySize = bytes[code.bodyStart + 1]!;
    const cut = bytes.slice();
    cut[code.bodyStart + 1] = bodySize - 1;
    assert.equal(codeWritesTables(cut, { ...code, bodyEnd: code.bodyEnd - 1 }), true);
  });

  it('says no for a module without code', async () => {
    const bytes = (await parse('(module (table 1 funcref))')) as Uint8Array;
    assert.equal(codeWritesTables(bytes, sections(bytes).find((s) => s.id === SECTION.code)), false);
  });
});

describe('exposeModuleState and tables no one else can write', () => {
  const tables = async (wat: string) => {
    const r = exposeModuleState((await parse(wat)) as Uint8Array);
    assert.ok(r.state);
    return r.state.tables;
  };

  it('leaves out a table the module neither exports nor writes', async () => {
    assert.deepEqual(await tables('(module (table $t 1 funcref) (elem (i32.const 0) func $f) (func $f) (func (export "go") (call_indirect (i32.const 0))))'), []);
  });

  it('keeps a table the module exports (JavaScript and other modules can write it)', async () => {
    assert.deepEqual(await tables('(module (table $t (export "t") 1 funcref))'), ['mpp-state:table0']);
  });

  it('keeps every table when the code writes any of them', async () => {
    assert.deepEqual(await tables('(module (table $a 1 funcref) (table $b 1 funcref) (func (table.set $b (i32.const 0) (ref.null func))))'), ['mpp-state:table0', 'mpp-state:table1']);
  });
});
