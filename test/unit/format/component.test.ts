import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { isMppError } from '../../../runtime/errors.ts';
import { COMPONENT_LIMITS, readComponentInterface } from '../../../runtime/format/component.ts';
import { TOOL_WORLD } from '../../../runtime/format/tool-world.ts';
import { checkToolWorld } from '../../../runtime/format/world.ts';
import { WORLD_FILE, renderWorld, scanWorld } from '../../../spec/wit/generate.ts';
import { vectorComponent } from '../../../spec/vectors/generate.ts';

const PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const leb = (n: number) => {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return out;
};
const name = (s: string) => [0x00, ...leb(Buffer.byteLength(s)), ...Buffer.from(s)];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
/** A component of only top-level import and export sections (instance type index 0, instance index 0). */
const component = (imports: string[], exports: { name: string; sort?: number }[] = [{ name: 'mpp:tool/handler@0.1.0' }]) =>
  Uint8Array.from([
    ...PREAMBLE,
    ...section(10, [...leb(imports.length), ...imports.flatMap((i) => [...name(i), 0x05, 0x00])]),
    ...section(11, [...leb(exports.length), ...exports.flatMap((e) => [...name(e.name), e.sort ?? 0x05, 0x00, 0x00])]),
  ]);
const refuses = (bytes: Uint8Array, code: string, named?: string) => {
  assert.throws(() => checkToolWorld(readComponentInterface(bytes)), (e: unknown) => {
    assert.ok(isMppError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (named) assert.ok(e.message.includes(named), `${e.message} does not name ${named}`);
    return true;
  });
};

describe('the tool world (spec/wit -> runtime/format/tool-world.ts)', () => {
  it('the generated list is what spec/wit declares (run `node spec/wit/generate.ts` after changing the world)', () => {
    assert.equal(readFileSync(WORLD_FILE, 'utf8'), renderWorld(scanWorld()));
  });

  it('lists the mpp:tool interfaces, the WASI 0.2 interfaces runtimes link, and exports only the handler', () => {
    for (const i of ['mpp:tool/kv@0.1.0', 'mpp:tool/log@0.1.0', 'wasi:filesystem/preopens@0.2.12', 'wasi:cli/environment@0.2.12', 'wasi:http/outgoing-handler@0.2.12']) {
      assert.ok(TOOL_WORLD.imports.includes(i), i);
    }
    assert.deepEqual(TOOL_WORLD.exports, ['mpp:tool/handler@0.1.0']);
  });
});

describe('component import/export reader and world check', () => {
  it('reads the vectors component and accepts it', () => {
    const iface = readComponentInterface(vectorComponent());
    assert.deepEqual(iface.imports.map((i) => i.name), ['mpp:tool/types@0.1.0', 'mpp:tool/kv@0.1.0', 'mpp:tool/log@0.1.0']);
    assert.deepEqual(iface.exports, [{ name: 'mpp:tool/handler@0.1.0', kind: 'instance' }]);
    checkToolWorld(iface);
  });

  it('accepts any semver-compatible version: WASI 0.2.x, mpp:tool 0.1.x', () => {
    checkToolWorld(readComponentInterface(component(['wasi:http/types@0.2.10', 'wasi:io/streams@0.2.0', 'mpp:tool/kv@0.1.7'])));
  });

  it('refuses imports outside the world, other versions, unversioned names, and non-interfaces, naming them', () => {
    refuses(component(['wasi:keyvalue/store@0.2.0']), 'MPP_E_IMPORT_NOT_ALLOWED', 'wasi:keyvalue/store@0.2.0');
    refuses(component(['wasi:filesystem/types@0.3.0']), 'MPP_E_IMPORT_NOT_ALLOWED', 'wasi:filesystem/types@0.3.0');
    refuses(component(['wasi:filesystem/types@0.2.12-rc.1']), 'MPP_E_IMPORT_NOT_ALLOWED');
    refuses(component(['wasi:filesystem/types']), 'MPP_E_IMPORT_NOT_ALLOWED');
    refuses(component(['mpp:tool/kv@1.1.0']), 'MPP_E_IMPORT_NOT_ALLOWED');
    const funcImport = Uint8Array.from([...PREAMBLE, ...section(10, [1, ...name('mpp:tool/kv@0.1.0'), 0x01, 0x00])]);
    refuses(funcImport, 'MPP_E_IMPORT_NOT_ALLOWED', 'not an interface');
  });

  it('refuses exports other than the handler and a missing handler', () => {
    refuses(component([], [{ name: 'mpp:tool/handler@0.1.0' }, { name: 'init', sort: 0x01 }]), 'MPP_E_EXPORT_NOT_ALLOWED', 'init');
    refuses(component([], [{ name: 'wasi:cli/run@0.2.12' }]), 'MPP_E_EXPORT_NOT_ALLOWED', 'wasi:cli/run@0.2.12');
    refuses(component([], [{ name: 'mpp:tool/handler@0.1.0', sort: 0x01 }]), 'MPP_E_EXPORT_NOT_ALLOWED');
    refuses(component([], []), 'MPP_E_HANDLER_MISSING');
  });

  it('fails closed on malformed binaries', () => {
    const bad = (bytes: number[], why: string) =>
      assert.throws(() => readComponentInterface(Uint8Array.from(bytes)), (e: unknown) => isMppError(e) && e.code === 'MPP_E_INVALID_COMPONENT', why);
    bad([], 'empty');
    bad([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], 'core module');
    bad([...PREAMBLE, 10, 5, 1], 'section past the end');
    bad([...PREAMBLE, 10, 0xff, 0xff, 0xff, 0xff, 0x7f], 'size overflows 32 bits');
    bad([...PREAMBLE, 10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'LEB128 longer than 5 bytes');
    bad([...PREAMBLE, 13, 0], 'unknown section id');
    bad([...PREAMBLE, ...section(10, [1, 0x00, 2, 0xff, 0xfe, 0x05, 0x00])], 'name not UTF-8');
    bad([...PREAMBLE, ...section(10, [1, 0x02, 1, 0x61, 0x05, 0x00])], 'unknown name tag');
    bad([...PREAMBLE, ...section(10, [1, ...name('mpp:tool/kv@0.1.0'), 0x05, 0x00, 0x99])], 'bytes after the last entry');
    bad([...PREAMBLE, ...section(10, [2, ...name('mpp:tool/kv@0.1.0'), 0x05, 0x00])], 'fewer entries than counted');
    bad([...PREAMBLE, ...section(10, [1, ...name('x'.repeat(COMPONENT_LIMITS.maxNameBytes + 1)), 0x05, 0x00])], 'over-long name');
    bad([...PREAMBLE, ...section(10, [...leb(COMPONENT_LIMITS.maxExterns + 1)])], 'too many imports');
    bad([...PREAMBLE, ...section(10, [1, ...name('mpp:tool/kv@0.1.0'), 0x02, 0x00])], 'value import');
  });

  it('skips nested modules and custom sections by their size without reading them', () => {
    const nested = section(1, [0xde, 0xad, 0xbe, 0xef, ...new Array(300).fill(0x0b)]);
    const bytes = component(['mpp:tool/log@0.1.0']);
    const withNested = Uint8Array.from([...bytes.subarray(0, 8), ...nested, ...section(0, [4, ...Buffer.from('junk'), 0xff]), ...bytes.subarray(8)]);
    assert.deepEqual(readComponentInterface(withNested).imports.map((i) => i.name), ['mpp:tool/log@0.1.0']);
  });
});

describe('synchronous components only', () => {
  const read = async (wat: string) => readComponentInterface((await parse(wat)) as Uint8Array);
  const CORE = '(core module $m (func (export "f") (result i32) (i32.const 0)) (func (export "cb") (param i32 i32 i32) (result i32) (i32.const 0))) (core instance $i (instantiate $m))';
  const refused = async (wat: string, named: RegExp) =>
    assert.rejects(read(wat), (e: unknown) => {
      assert.ok(isMppError(e), String(e));
      assert.equal(e.code, 'MPP_E_INVALID_COMPONENT');
      assert.match(e.message, named);
      assert.match(e.message, /a call's work could outlive the call/);
      return true;
    });

  it('accepts the canonical functions a synchronous tool uses: lift, lower with their options, and the resource built-ins', async () => {
    await read(`(component
      (import "f" (func $f (param "s" string)))
      (type $r (resource (rep i32)))
      (core module $libc (memory (export "mem") 1) (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0)))
      (core instance $libc (instantiate $libc))
      (alias core export $libc "mem" (core memory $mem))
      (alias core export $libc "realloc" (core func $realloc))
      (core func (canon lower (func $f) (memory $mem) string-encoding=utf8))
      (core func (canon resource.new $r)) (core func (canon resource.drop $r)) (core func (canon resource.rep $r))
      ${CORE}
      (func (result u32) (canon lift (core func $i "f"))))`);
  });

  for (const [what, wat, named] of [
    ['an async lift with a callback', `(component ${CORE} (func (result u32) (canon lift (core func $i "f") async (callback (core func $i "cb")))))`, /an async canon lift/],
    ['an async lower', '(component (import "f" (func $f)) (core func (canon lower (func $f) async)))', /an async canon lower/],
    ['task.return', '(component (core func (canon task.return)))', /built-in 0x9 /],
    ['stream.new', '(component (type $s (stream u8)) (core func (canon stream.new $s)))', /built-in 0xe /],
    ['future.new', '(component (type $f (future u8)) (core func (canon future.new $f)))', /built-in 0x15 /],
    ['waitable-set.new', '(component (core func (canon waitable-set.new)))', /built-in 0x1f /],
    ['waitable.join', '(component (core func (canon waitable.join)))', /built-in 0x23 /],
    ['context.get', '(component (core func (canon context.get i32 0)))', /built-in 0xa /],
    ['thread.yield', '(component (core func (canon thread.yield)))', /built-in 0xc /],
    ['subtask.drop', '(component (core func (canon subtask.drop)))', /built-in 0xd /],
    ['task.return in a component nested two deep', '(component (component (component (core func (canon task.return)))))', /built-in 0x9 /],
  ] as const) {
    it(`refuses ${what}`, () => refused(wat, named));
  }

  it('fails closed on what it cannot read: a canon of an unknown form, leftover bytes, a nested component without its preamble, nesting past the bound', () => {
    const bad = (bytes: number[], why: string) =>
      assert.throws(() => readComponentInterface(Uint8Array.from(bytes)), (e: unknown) => isMppError(e) && e.code === 'MPP_E_INVALID_COMPONENT', why);
    bad([...PREAMBLE, ...section(8, [1, 0x00, 0x01, 0x00, 0x00, 0x00])], 'a lift of an unknown form');
    bad([...PREAMBLE, ...section(8, [1, 0x02, 0x00, 0x99])], 'bytes after the last entry');
    bad([...PREAMBLE, ...section(8, [1, 0x01, 0x00, 0x00, 0x01, 0x06])], 'an option after the ones it knows');
    bad([...PREAMBLE, ...section(4, [0x01, 0x02, 0x03])], 'a nested component without a preamble');
    let nested: number[] = [...PREAMBLE];
    for (let i = 0; i < 17; i++) nested = [...PREAMBLE, ...section(4, nested)];
    bad(nested, 'nested 17 deep');
  });
});
