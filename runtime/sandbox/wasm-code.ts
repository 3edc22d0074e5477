/**
 * Whether a core module's code can write a table: one pass over every
 * function body, skipping each instruction's immediates, looking for
 * table.set, table.grow, table.fill, table.copy and table.init.
 *
 * Fail closed: an opcode this reader does not know, or a body that does not
 * end exactly at its `end`, counts as a write. A table that no code can write
 * and that no other module or JavaScript can reach holds what instantiation
 * put in it for as long as the instance lives (wasm-state.ts), so a reset
 * need not put it back.
 *
 * Written here rather than taken from a library: wasm-tools `print` (in
 * jco-transpile) answers the same question from the text and is this
 * reader's oracle in the tests, but costs ~2 s and ~0.6 GB for
 * SpiderMonkey's 12 MB module; this pass reads the bytes once.
 */
import { readByte, readU32, skipBytes, skipLeb, type Reader, type Section } from './wasm-sections.ts';

class Unknown extends Error {}

/** A block type: the empty type, a value type, or a type index (s33). */
function skipBlockType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (b === 0x63 || b === 0x64) {
    r.pos++;
    skipLeb(r); // (ref null? ht)
  } else {
    skipLeb(r); // 0x40, a one-byte value type, or an index: all read as one LEB128
  }
}

function skipValType(r: Reader): void {
  const b = readByte(r);
  if (b === 0x63 || b === 0x64) skipLeb(r);
}

/** align (with the memory index when bit 6 says so) and offset. */
function skipMemarg(r: Reader): void {
  const align = readU32(r);
  if (align & 0x40) readU32(r);
  skipLeb(r);
}

/** Reads one instruction; returns whether it writes a table. */
function writes(r: Reader): boolean {
  const op = readByte(r);
  if (op >= 0x45 && op <= 0xc4) return false; // numeric, no immediates
  if (op >= 0x28 && op <= 0x3e) return (skipMemarg(r), false);
  switch (op) {
    case 0x00: case 0x01: case 0x05: case 0x0a: case 0x0b: case 0x0f: case 0x19: case 0x1a: case 0x1b:
    case 0xd1: case 0xd3: case 0xd4:
      return false;
    case 0x02: case 0x03: case 0x04: case 0x06:
      return (skipBlockType(r), false);
    case 0x07: case 0x08: case 0x09: case 0x0c: case 0x0d: case 0x10: case 0x12: case 0x14: case 0x15: case 0x18:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x3f: case 0x40:
    case 0xd2: case 0xd5: case 0xd6:
      return (readU32(r), false);
    case 0x0e: {
      for (let n = readU32(r); n > 0; n--) readU32(r);
      return (readU32(r), false);
    }
    case 0x11: case 0x13:
      return (readU32(r), readU32(r), false);
    case 0x1c: {
      for (let n = readU32(r); n > 0; n--) skipValType(r);
      return false;
    }
    case 0x1f: {
      skipBlockType(r);
      for (let n = readU32(r); n > 0; n--) {
        const kind = readByte(r);
        if (kind === 0x00 || kind === 0x01) readU32(r);
        else if (kind !== 0x02 && kind !== 0x03) throw new Unknown();
        readU32(r);
      }
      return false;
    }
    case 0x26:
      return true; // table.set
    case 0x41: case 0x42: case 0xd0:
      return (skipLeb(r), false);
    case 0x43:
      return (skipBytes(r, 4), false);
    case 0x44:
      return (skipBytes(r, 8), false);
    case 0xfc:
      return writesFc(r);
    case 0xfd:
      return (skipSimd(r), false);
    case 0xfe:
      return (skipAtomic(r), false);
    default:
      throw new Unknown(); // GC (0xfb) and anything newer: not read, so not proven
  }
}

function writesFc(r: Reader): boolean {
  const sub = readU32(r);
  if (sub <= 7) return false; // saturating truncations
  switch (sub) {
    case 8: case 10: // memory.init, memory.copy
      return (readU32(r), readU32(r), false);
    case 9: case 11: case 13: case 16: // data.drop, memory.fill, elem.drop, table.size
      return (readU32(r), false);
    case 12: case 14: case 15: case 17: // table.init, table.copy, table.grow, table.fill
      return true;
    default:
      throw new Unknown();
  }
}

function skipSimd(r: Reader): void {
  const sub = readU32(r);
  if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(r); // loads, store, load_zero
  else if (sub === 12 || sub === 13) skipBytes(r, 16); // v128.const, i8x16.shuffle
  else if (sub >= 21 && sub <= 34) skipBytes(r, 1); // extract/replace lane
  else if (sub >= 84 && sub <= 91) (skipMemarg(r), skipBytes(r, 1)); // load/store lane
  else if (sub > 0x113) throw new Unknown(); // past relaxed SIMD; every other opcode has no immediate
}

function skipAtomic(r: Reader): void {
  const sub = readU32(r);
  if (sub === 0x03) skipBytes(r, 1); // atomic.fence
  else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) skipMemarg(r);
  else throw new Unknown();
}

/**
 * Whether any function body in the code section `code` (none: no functions)
 * may write a table. Throws RangeError on a malformed section.
 */
export function codeWritesTables(module: Uint8Array, code: Section | undefined): boolean {
  if (!code) return false;
  const r: Reader = { bytes: module, pos: code.bodyStart };
  try {
    for (let n = readU32(r); n > 0; n--) {
      const size = readU32(r);
      const end = r.pos + size;
      if (end > code.bodyEnd) throw new RangeError('a function body overruns the code section');
      for (let groups = readU32(r); groups > 0; groups--) (readU32(r), skipValType(r));
      while (r.pos < end) if (writes(r)) return true;
      if (r.pos !== end || module[end - 1] !== 0x0b) return true; // lost the instruction stream: not proven
    }
  } catch (e) {
    if (e instanceof Unknown) return true;
    throw e;
  }
  return false;
}
