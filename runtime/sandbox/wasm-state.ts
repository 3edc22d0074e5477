/**
 * Exposes the state a core module's instance holds — every memory, mutable
 * global and table it defines — as extra exports, so a tool worker can take a
 * snapshot of a freshly made instance and put it back before the next call
 * (worker/core-reuse.ts) instead of instantiating anew.
 *
 * An instance holds no other state a call can change, except what this
 * module refuses to expose and reports as the reason the module cannot be
 * reset (the worker then instantiates it anew for every call, as before):
 *   - non-empty passive data or element segments (`data.drop` / `elem.drop`
 *     cannot be undone from outside);
 *   - v128 and typed-reference globals, typed-reference and 64-bit tables,
 *     tables with an initialiser (JS cannot read or write them faithfully);
 *   - an export name that already uses the prefix below.
 * Imported memories, globals and tables belong to the module that defines
 * them (or to the glue, which makes them anew per instantiation). A table the
 * module neither exports nor can write from its code (wasm-code.ts) keeps
 * what instantiation put in it, and is left out.
 *
 * Only the export section changes; every other section is copied unchanged.
 */
import { codeWritesTables } from './wasm-code.ts';
import { applyEdits, readByte, readName, readU32, readU64, SECTION, sections, skipBytes, skipLeb, writeName, writeU32, type Reader, type Section, type SectionEdit } from './wasm-sections.ts';

export const STATE_EXPORT_PREFIX = 'mpp-state:';

export interface ModuleState {
  /** Export names of the memories, mutable globals and tables the module defines. */
  readonly memories: readonly string[];
  readonly globals: readonly string[];
  readonly tables: readonly string[];
}

export type ExposeResult =
  | { readonly bytes: Uint8Array; readonly state: ModuleState }
  | { readonly bytes: Uint8Array; readonly state: null; readonly reason: string };

/** What exposeModuleState writes, as an edit of the export section (none when nothing is added), or why the module cannot be reset. */
export type StateEdit = { readonly edit?: SectionEdit; readonly state: ModuleState } | { readonly state: null; readonly reason: string };

const KIND = { func: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;
const NUM_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c]);
const FUNCREF = 0x70;
const EXTERNREF = 0x6f;

class NotResettable extends Error {}

/** A value type; returns whether JS can read and write a global of it faithfully. */
function readValType(r: Reader): boolean {
  const t = readByte(r);
  if (NUM_TYPES.has(t) || t === FUNCREF || t === EXTERNREF) return true;
  if (t === 0x63 || t === 0x64) {
    skipLeb(r); // heap type (s33)
    return false;
  }
  if (t === 0x7b) return false; // v128: no JS value
  // Abbreviated reference types (anyref, eqref, exnref, ...): one byte.
  if (t >= 0x65 && t <= 0x74) return false;
  throw new RangeError(`unknown value type 0x${t.toString(16)}`);
}

function readLimits(r: Reader): { table64: boolean } {
  const flags = readU32(r);
  readU64(r);
  if (flags & 0x1) readU64(r);
  return { table64: (flags & 0x4) !== 0 };
}

/** A table type; returns whether JS can read and write its entries faithfully (funcref or externref, 32-bit). */
function readTableType(r: Reader): boolean {
  const t = readByte(r);
  const plain = t === FUNCREF || t === EXTERNREF;
  if (t === 0x63 || t === 0x64) skipLeb(r);
  else if (!plain && !(t >= 0x65 && t <= 0x74)) throw new RangeError(`unknown table element type 0x${t.toString(16)}`);
  return !readLimits(r).table64 && plain;
}

/** Skips a constant expression up to and including its `end`. */
function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = readByte(r);
    switch (op) {
      case 0x0b:
        return;
      case 0x41: case 0x42: case 0x23: case 0xd2:
        skipLeb(r);
        break;
      case 0x43:
        skipBytes(r, 4);
        break;
      case 0x44:
        skipBytes(r, 8);
        break;
      case 0xd0:
        skipLeb(r); // heap type
        break;
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e:
        break; // extended-const arithmetic
      case 0xfd:
        if (readU32(r) !== 12) throw new NotResettable('a constant expression uses a SIMD instruction other than v128.const');
        skipBytes(r, 16);
        break;
      default:
        throw new NotResettable(`a constant expression uses opcode 0x${op.toString(16)}`);
    }
  }
}

interface Defined {
  memories: number[];
  globals: number[];
  tables: number[];
}

function collect(module: Uint8Array, all: readonly Section[], writesTables: () => boolean): { defined: Defined; exportNames: string[] } {
  const defined: Defined = { memories: [], globals: [], tables: [] };
  const imported = { memories: 0, globals: 0, tables: 0 };
  const exportNames: string[] = [];
  const exportedTables = new Set<number>();
  for (const s of all) {
    const r: Reader = { bytes: module, pos: s.bodyStart };
    if (s.id === SECTION.import) {
      for (let n = readU32(r); n > 0; n--) {
        readName(r);
        readName(r);
        const kind = readByte(r);
        if (kind === KIND.func) readU32(r);
        else if (kind === KIND.table) (readTableType(r), imported.tables++);
        else if (kind === KIND.memory) (readLimits(r), imported.memories++);
        else if (kind === KIND.global) (readValType(r), readByte(r), imported.globals++);
        else if (kind === KIND.tag) (readByte(r), readU32(r));
        else throw new RangeError(`unknown import kind ${kind}`);
      }
    } else if (s.id === SECTION.table) {
      const n = readU32(r);
      for (let i = 0; i < n; i++) {
        if (module[r.pos] === 0x40) throw new NotResettable('a table has an initialiser expression');
        if (!readTableType(r)) throw new NotResettable('a table holds typed references or is 64-bit');
        defined.tables.push(imported.tables + i);
      }
    } else if (s.id === SECTION.memory) {
      const n = readU32(r);
      for (let i = 0; i < n; i++) defined.memories.push(imported.memories + i);
    } else if (s.id === SECTION.global) {
      const n = readU32(r);
      for (let i = 0; i < n; i++) {
        const representable = readValType(r);
        const mutable = readByte(r) === 1;
        skipConstExpr(r);
        if (!mutable) continue;
        if (!representable) throw new NotResettable('a mutable global has a type JavaScript cannot hold (v128 or a typed reference)');
        defined.globals.push(imported.globals + i);
      }
    } else if (s.id === SECTION.export) {
      for (let n = readU32(r); n > 0; n--) {
        exportNames.push(readName(r));
        const kind = readByte(r);
        const index = readU32(r);
        if (kind === KIND.table) exportedTables.add(index);
      }
    } else if (s.id === SECTION.data) {
      for (let n = readU32(r); n > 0; n--) {
        const flags = readU32(r);
        if (flags === 2) readU32(r);
        else if (flags !== 0 && flags !== 1) throw new RangeError(`unknown data segment flags ${flags}`);
        if (flags !== 1) skipConstExpr(r);
        const size = readU32(r);
        // An empty segment reads the same dropped or not (wasm-ld emits such for dylibs).
        if (flags === 1 && size > 0) throw new NotResettable('the module has a passive data segment');
        skipBytes(r, size);
      }
    } else if (s.id === SECTION.element) {
      for (let n = readU32(r); n > 0; n--) {
        const flags = readU32(r);
        if (flags > 7) throw new RangeError(`unknown element segment flags ${flags}`);
        // Bit 0 without bit 1: passive (an empty one reads the same dropped or not).
        // Declarative segments (bits 0 and 1) are dropped at instantiation.
        const active = (flags & 0x1) === 0;
        if (active && flags & 0x2) readU32(r); // table index
        if (active) skipConstExpr(r);
        const exprs = (flags & 0x4) !== 0;
        if (flags & 0x3) {
          // element kind (0x00 funcref) or reference type
          if (exprs) readValType(r);
          else readByte(r);
        }
        const count = readU32(r);
        if ((flags & 0x3) === 0x1 && count > 0) throw new NotResettable('the module has a passive element segment');
        for (let m = count; m > 0; m--) {
          if (exprs) skipConstExpr(r);
          else readU32(r);
        }
      }
    }
  }
  // A table only this module can reach, which its code cannot write, holds what instantiation put in it: nothing to put back.
  if (defined.tables.some((t) => !exportedTables.has(t)) && !writesTables()) {
    defined.tables = defined.tables.filter((t) => exportedTables.has(t));
  }
  return { defined, exportNames };
}

/**
 * Returns `module` with every memory, mutable global and table it defines
 * exported under STATE_EXPORT_PREFIX, and their export names; or the module
 * unchanged and why its instances cannot be reset. Throws RangeError on a
 * malformed module (which would not compile either).
 */
export function exposeModuleState(module: Uint8Array): ExposeResult {
  const r = stateExportEdit(module, sections(module));
  if (!r.state) return { bytes: module, state: null, reason: r.reason };
  return { bytes: r.edit ? applyEdits(module, [r.edit]) : module, state: r.state };
}

/**
 * exposeModuleState's export section as an edit of `module` (prepare.ts makes it with the memory cap in one copy).
 * `codeWritesTables`: what codeWritesTables found for this module earlier; absent, it is found now.
 */
export function stateExportEdit(module: Uint8Array, all: readonly Section[], known: { codeWritesTables?: boolean } = {}): StateEdit {
  let found;
  try {
    found = collect(module, all, () => known.codeWritesTables ?? codeWritesTables(module, all.find((s) => s.id === SECTION.code)));
  } catch (e) {
    if (e instanceof NotResettable) return { state: null, reason: e.message };
    throw e;
  }
  const { defined, exportNames } = found;
  if (exportNames.some((n) => n.startsWith(STATE_EXPORT_PREFIX))) {
    return { state: null, reason: `an export name already starts with ${STATE_EXPORT_PREFIX}` };
  }
  const state: ModuleState = {
    memories: defined.memories.map((index) => `${STATE_EXPORT_PREFIX}memory${index}`),
    globals: defined.globals.map((index) => `${STATE_EXPORT_PREFIX}global${index}`),
    tables: defined.tables.map((index) => `${STATE_EXPORT_PREFIX}table${index}`),
  };
  const added: Array<{ name: string; kind: number; index: number }> = [
    ...defined.memories.map((index, i) => ({ name: state.memories[i]!, kind: KIND.memory, index })),
    ...defined.globals.map((index, i) => ({ name: state.globals[i]!, kind: KIND.global, index })),
    ...defined.tables.map((index, i) => ({ name: state.tables[i]!, kind: KIND.table, index })),
  ];
  if (added.length === 0) return { state };

  const existing = all.find((s) => s.id === SECTION.export);
  const body: number[] = [];
  writeU32(body, exportNames.length + added.length);
  if (existing) {
    const r: Reader = { bytes: module, pos: existing.bodyStart };
    readU32(r);
    for (let i = r.pos; i < existing.bodyEnd; i++) body.push(module[i]!);
  }
  for (const a of added) {
    writeName(body, a.name);
    body.push(a.kind);
    writeU32(body, a.index);
  }
  if (existing) return { edit: { from: existing.start, to: existing.bodyEnd, id: SECTION.export, body }, state };
  // No export section: it goes before the first section that must follow it.
  const after = new Set<number>([SECTION.start, SECTION.element, SECTION.dataCount, SECTION.code, SECTION.data]);
  const at = all.find((s) => after.has(s.id))?.start ?? module.length;
  return { edit: { from: at, to: at, id: SECTION.export, body }, state };
}
