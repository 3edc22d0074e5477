import { MppError } from '../errors.ts';

/**
 * Reads the top-level imports and exports of a WebAssembly component binary
 * (component-model Binary.md) as hostile input: the preamble, then every
 * top-level section by its id and size. Import (10) and export (11) sections
 * are decoded, and the canonical functions (8) of the component and of every
 * component nested in it are checked to be synchronous (below); every other
 * section, core modules included, is skipped by its size without being looked
 * into, so a 12 MB component costs a few dozen section headers.
 *
 * Synchronous only: lift and lower without the `async` or `callback` option,
 * and the resource built-ins. Component-model async (tasks, subtasks,
 * streams, futures, waitables, context, yield) and threads let guest code run
 * after the call that started it returned — into the instance the next call
 * gets. The tool world is WASI 0.2, synchronous; such a component is refused. The component is not
 * validated here: the engine validates it when it compiles it; this reader
 * only has to agree with it on the names, and fails closed on anything it
 * cannot read exactly.
 *
 * Hand-written on purpose: the only parsers of component import/export
 * sections available (wasm-tools, the transpiler) are large WebAssembly tools
 * that would be loaded on every package load.
 */
export type ExternKind = 'core-module' | 'func' | 'value' | 'type' | 'component' | 'instance';

export interface ComponentExtern {
  readonly name: string;
  readonly kind: ExternKind;
}

export interface ComponentInterface {
  readonly imports: readonly ComponentExtern[];
  readonly exports: readonly ComponentExtern[];
}

/** Far above what any toolchain emits (a JS engine imports ~30 interfaces), far below what costs anything. */
export const COMPONENT_LIMITS = Object.freeze({ maxExterns: 1024, maxNameBytes: 512 });

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SECTION_COMPONENT = 4;
const SECTION_CANON = 8;
const SECTION_IMPORT = 10;
const SECTION_EXPORT = 11;
/** Components nested deeper than this are refused (toolchains nest one or two levels). */
const MAX_NESTING = 16;
/** Section ids of the component binary format (0 custom ... 12 value). */
const MAX_SECTION_ID = 12;
const SORTS: Record<number, ExternKind> = { 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' };
const CORE_SORT_MODULE = 0x11;

class Malformed extends Error {}
/** Well-formed, but something this host does not run. */
class Unsupported extends Error {}

/** A top-level section: its id, where its header starts and where it ends. */
export interface ComponentSection {
  readonly id: number;
  readonly start: number;
  readonly end: number;
}

export function readComponentInterface(bytes: Uint8Array): ComponentInterface {
  return readComponent(bytes).iface;
}

/** The imports and exports, and the top-level sections they were read from. */
export function readComponent(bytes: Uint8Array): { iface: ComponentInterface; sections: readonly ComponentSection[] } {
  checkPreamble(bytes);
  const imports: ComponentExtern[] = [];
  const exports: ComponentExtern[] = [];
  const sections: ComponentSection[] = [];
  try {
    for (const section of walkSections(bytes, 0)) {
      const { id, end } = section;
      if (id === SECTION_IMPORT || id === SECTION_EXPORT) {
        const into = id === SECTION_IMPORT ? imports : exports;
        const r = new Reader(bytes.subarray(0, end), section.body);
        const count = r.u32();
        if (imports.length + exports.length + count > COMPONENT_LIMITS.maxExterns) throw new Malformed(`more than ${COMPONENT_LIMITS.maxExterns} imports and exports`);
        for (let i = 0; i < count; i++) into.push(id === SECTION_IMPORT ? readImport(r) : readExport(r));
        if (r.pos !== end) throw new Malformed(`section ${id} has ${end - r.pos} bytes after its last entry`);
      }
      sections.push({ id, start: section.start, end });
    }
  } catch (e) {
    if (e instanceof Unsupported) {
      throw invalid(`tool.wasm uses ${e.message}, which this host does not run: a call's work could outlive the call.`, 'Build the tool for the mpp:tool world, synchronous WASI 0.2, with `mpp build`.');
    }
    if (!(e instanceof Malformed)) throw e;
    throw invalid(`tool.wasm is not a well-formed component: ${e.message}.`, 'The file is damaged or was not made by a component toolchain: build it again.');
  }
  return { iface: Object.freeze({ imports: Object.freeze(imports), exports: Object.freeze(exports) }), sections };
}

function checkPreamble(bytes: Uint8Array): void {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw invalid('tool.wasm is not WebAssembly: it does not start with \\0asm.', 'The file is not a component; build the tool with `mpp build`.');
  }
  const version = bytes[4]! | (bytes[5]! << 8);
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (layer === 0) {
    throw invalid('tool.wasm is a core WebAssembly module, not a component.', 'Turn the module into a component for the mpp:tool world first (for example `wasm-tools component new`), or build it with `mpp build`.');
  }
  if (layer !== 1 || version !== 0x0d) {
    throw invalid(`tool.wasm has component layer ${layer} version 0x${version.toString(16)}; this host reads layer 1 version 0x0d.`, 'Rebuild the component with a current toolchain.');
  }
}

/**
 * The sections of the component `bytes` (preamble checked by the caller) by
 * id and size, its canonical functions and those of every nested component
 * checked on the way (nested ones are not yielded).
 */
function* walkSections(bytes: Uint8Array, depth: number): Generator<{ id: number; start: number; body: number; end: number }> {
  const r = new Reader(bytes, 8);
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const body = r.pos;
    const end = body + size;
    if (id > MAX_SECTION_ID) throw new Malformed(`unknown section id ${id} at byte ${r.pos}`);
    if (end > bytes.length) throw new Malformed(`section ${id} at byte ${r.pos} runs past the end of the file`);
    if (id === SECTION_CANON) checkCanonSection(new Reader(bytes.subarray(0, end), body), end);
    if (id === SECTION_COMPONENT) {
      if (depth + 1 > MAX_NESTING) throw new Malformed(`components nested more than ${MAX_NESTING} deep`);
      const nested = bytes.subarray(body, end);
      if (nested.length < 8 || MAGIC.some((b, i) => nested[i] !== b) || nested[6] !== 1 || nested[7] !== 0) throw new Malformed(`a nested component at byte ${body} has no component preamble`);
      for (const _ of walkSections(nested, depth + 1));
    }
    yield { id, start, body, end };
    r.pos = end;
  }
}

/** canon ::= lift | lower | resource.new | resource.drop | resource.rep, each synchronous; anything else is Unsupported. */
function checkCanonSection(r: Reader, end: number): void {
  for (let n = r.u32(); n > 0; n--) {
    const op = r.byte();
    if (op === 0x00 || op === 0x01) {
      if (r.byte() !== 0x00) throw new Malformed(`a canon ${op === 0x00 ? 'lift' : 'lower'} at byte ${r.pos - 1} of an unknown form`);
      r.u32(); // the function lifted or lowered
      checkCanonOptions(r, op === 0x00 ? 'lift' : 'lower');
      if (op === 0x00) r.u32(); // the type lifted to
    } else if (op === 0x02 || op === 0x03 || op === 0x04) {
      r.u32(); // resource.new / resource.drop / resource.rep of a resource type
    } else {
      throw new Unsupported(`the canonical built-in 0x${op.toString(16)} (component-model async, streams, futures, tasks or threads)`);
    }
  }
  if (r.pos !== end) throw new Malformed(`the canon section has ${end - r.pos} bytes after its last entry`);
}

/** canonopt: string encodings (0x00-0x02), memory, realloc, post-return (0x03-0x05, an index each); `async`, `callback` and later options are Unsupported. */
function checkCanonOptions(r: Reader, what: string): void {
  for (let n = r.u32(); n > 0; n--) {
    const opt = r.byte();
    if (opt <= 0x02) continue;
    if (opt <= 0x05) {
      r.u32();
      continue;
    }
    throw new Unsupported(opt === 0x06 ? `an async canon ${what}` : opt === 0x07 ? `a canon ${what} with a callback (component-model async)` : `the canon ${what} option 0x${opt.toString(16)}`);
  }
}

export const SECTION_IDS = Object.freeze({ alias: 6, import: SECTION_IMPORT, export: SECTION_EXPORT });

/** import ::= importname' externdesc */
function readImport(r: Reader): ComponentExtern {
  const name = readName(r);
  return Object.freeze({ name, kind: readExternDesc(r) });
}

/** export ::= exportname' sortidx externdesc? */
function readExport(r: Reader): ComponentExtern {
  const name = readName(r);
  const sort = r.byte();
  let kind: ExternKind | undefined;
  if (sort === 0x00) {
    if (r.byte() !== CORE_SORT_MODULE) throw new Malformed(`export "${name}" is a core item other than a module`);
    kind = 'core-module';
  } else {
    kind = SORTS[sort];
  }
  if (!kind) throw new Malformed(`export "${name}" has unknown sort 0x${sort.toString(16)}`);
  r.u32(); // the exported item's index
  const ascribed = r.byte();
  if (ascribed === 0x01) readExternDesc(r);
  else if (ascribed !== 0x00) throw new Malformed(`export "${name}" has a bad type ascription flag`);
  return Object.freeze({ name, kind });
}

/**
 * importname' / exportname' ::= 0x00 len name. 0x01 is the older spelling of
 * an interface name that current parsers still read the same way.
 */
function readName(r: Reader): string {
  const tag = r.byte();
  if (tag !== 0x00 && tag !== 0x01) throw new Malformed(`bad name tag 0x${tag.toString(16)} at byte ${r.pos - 1}`);
  const len = r.u32();
  if (len === 0 || len > COMPONENT_LIMITS.maxNameBytes) throw new Malformed(`a name of ${len} bytes at byte ${r.pos} (at most ${COMPONENT_LIMITS.maxNameBytes})`);
  const raw = r.take(len);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw new Malformed(`a name at byte ${r.pos - len} is not UTF-8`);
  }
}

/** externdesc: the kind is all the world check needs; the type index is skipped. */
function readExternDesc(r: Reader): ExternKind {
  const tag = r.byte();
  switch (tag) {
    case 0x00:
      if (r.byte() !== CORE_SORT_MODULE) throw new Malformed('bad core module type');
      r.u32();
      return 'core-module';
    case 0x01:
    case 0x04:
    case 0x05:
      r.u32();
      return SORTS[tag]!;
    case 0x03: {
      const bound = r.byte();
      if (bound === 0x00) r.u32();
      else if (bound !== 0x01) throw new Malformed('bad type bound');
      return 'type';
    }
    default:
      // 0x02 (values) is a feature no toolchain emits for tools: refused rather than half-read.
      throw new Malformed(`unsupported extern type 0x${tag.toString(16)} at byte ${r.pos - 1}`);
  }
}

class Reader {
  readonly bytes: Uint8Array;
  pos: number;

  constructor(bytes: Uint8Array, pos: number) {
    this.bytes = bytes;
    this.pos = pos;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new Malformed(`unexpected end at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128, at most 5 bytes, value < 2^32. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      if (shift === 28 && b > 0x0f) throw new Malformed(`an integer at byte ${this.pos - 1} overflows 32 bits`);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Malformed(`an integer at byte ${this.pos} is longer than 5 bytes`);
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new Malformed(`unexpected end at byte ${this.bytes.length}`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function invalid(message: string, hint: string): MppError {
  return new MppError('MPP_E_INVALID_COMPONENT', message, { hint });
}
