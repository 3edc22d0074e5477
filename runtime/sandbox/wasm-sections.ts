/**
 * Reading a core WebAssembly module at the level of its sections, for the two
 * rewrites the host makes before compiling (wasm-memory.ts, wasm-state.ts).
 *
 * Written here rather than taken from a library: both rewrites touch one or
 * two sections and copy the rest byte for byte; the parsers on npm decode
 * every function body (seconds for a 12 MB engine) or lag the proposals
 * componentize-js output uses.
 */

export const WASM_PAGE_BYTES = 65536;

export const SECTION = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const;

export interface Reader {
  readonly bytes: Uint8Array;
  pos: number;
}

export function readByte(r: Reader): number {
  const byte = r.bytes[r.pos++];
  if (byte === undefined) throw new RangeError('truncated module');
  return byte;
}

export function readU32(r: Reader): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const byte = readByte(r);
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
  throw new RangeError('LEB128 u32 too long');
}

export function readU64(r: Reader): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = readByte(r);
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
  throw new RangeError('LEB128 u64 too long');
}

/** Skips a LEB128 number of either sign (up to 10 bytes). */
export function skipLeb(r: Reader): void {
  for (let i = 0; i < 10; i++) if ((readByte(r) & 0x80) === 0) return;
  throw new RangeError('LEB128 too long');
}

export function skipBytes(r: Reader, n: number): void {
  if (r.pos + n > r.bytes.length) throw new RangeError('truncated module');
  r.pos += n;
}

export function readName(r: Reader): string {
  const len = readU32(r);
  const start = r.pos;
  skipBytes(r, len);
  return new TextDecoder('utf-8', { fatal: true }).decode(r.bytes.subarray(start, r.pos));
}

export function writeU32(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

export function writeName(out: number[], name: string): void {
  const bytes = new TextEncoder().encode(name);
  writeU32(out, bytes.length);
  for (const b of bytes) out.push(b);
}

export interface Section {
  readonly id: number;
  /** Offset of the section's id byte. */
  readonly start: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
}

/** The module's sections in order; throws RangeError on a malformed layout. */
export function sections(module: Uint8Array): Section[] {
  if (module.length < 8 || module[0] !== 0x00 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) {
    throw new RangeError('not a WebAssembly module');
  }
  const r: Reader = { bytes: module, pos: 8 };
  const out: Section[] = [];
  while (r.pos < module.length) {
    const start = r.pos;
    const id = readByte(r);
    const size = readU32(r);
    const bodyStart = r.pos;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > module.length) throw new RangeError('section overruns the module');
    out.push({ id, start, bodyStart, bodyEnd });
    r.pos = bodyEnd;
  }
  return out;
}

/** New bytes for one section: the bytes from `from` to `to` (a whole section, or none to insert at `from`) become section `id` holding `body`. */
export interface SectionEdit {
  readonly from: number;
  readonly to: number;
  readonly id: number;
  readonly body: readonly number[];
}

/**
 * `module` with every edit made, in one copy (a 12 MB engine module is
 * copied once however many sections change). Edits must not overlap.
 */
export function applyEdits(module: Uint8Array, edits: readonly SectionEdit[]): Uint8Array {
  if (edits.length === 0) return module;
  const sorted = [...edits].sort((a, b) => a.from - b.from);
  const headers = sorted.map((e) => {
    const h: number[] = [e.id];
    writeU32(h, e.body.length);
    return h;
  });
  let size = module.length;
  sorted.forEach((e, i) => (size += headers[i]!.length + e.body.length - (e.to - e.from)));
  const out = new Uint8Array(size);
  let read = 0;
  let write = 0;
  sorted.forEach((e, i) => {
    if (e.from < read) throw new RangeError('overlapping section edits');
    out.set(module.subarray(read, e.from), write);
    write += e.from - read;
    out.set(headers[i]!, write);
    write += headers[i]!.length;
    out.set(e.body, write);
    write += e.body.length;
    read = e.to;
  });
  out.set(module.subarray(read), write);
  return out;
}
