/**
 * Caps the linear memory of a core WebAssembly module by rewriting the
 * maximum in its memory section before compilation.
 *
 * Why: V8 does not count wasm memory against a worker's `resourceLimits`; a
 * tool could otherwise grow its memory to the 4 GiB wasm32 ceiling inside the
 * host process. With a declared maximum, `memory.grow` past the cap returns -1
 * inside the guest (a catchable out-of-memory), and the host stays healthy.
 *
 * Only the bytes of the memory section change; every other section is copied
 * unchanged. Imported memories are left alone: their maximum is whatever the
 * exporting module declares, and that module is capped too.
 */
import { MppError } from '../errors.ts';

export const WASM_PAGE_BYTES = 65536;
const MEMORY_SECTION = 5;

interface Reader {
  readonly bytes: Uint8Array;
  pos: number;
}

function readU32(r: Reader): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const byte = r.bytes[r.pos++];
    if (byte === undefined) throw new RangeError('truncated LEB128');
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
  throw new RangeError('LEB128 u32 too long');
}

function readU64(r: Reader): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = r.bytes[r.pos++];
    if (byte === undefined) throw new RangeError('truncated LEB128');
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
  throw new RangeError('LEB128 u64 too long');
}

function writeU32(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

export interface MemoryCapResult {
  /** The rewritten module (the input itself when it defines no memory). */
  bytes: Uint8Array;
  /** How many memories the module defines (0 for helper modules). */
  definedMemories: number;
}

/**
 * Returns `module` with every defined 32-bit memory's maximum lowered to at
 * most `maxPages`. Throws MPP_E_TOOL_MEMORY when a memory's minimum already
 * exceeds the cap (the tool cannot even start within it), MPP_E_TOOL_INVALID
 * for a malformed module or a 64-bit/shared memory.
 */
export function capModuleMemory(module: Uint8Array, maxPages: number): MemoryCapResult {
  if (!Number.isInteger(maxPages) || maxPages < 1 || maxPages > 65536) {
    throw new RangeError(`maxPages: expected an integer in 1..65536, got ${maxPages}`);
  }
  const r: Reader = { bytes: module, pos: 0 };
  if (module.length < 8 || module[0] !== 0x00 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) {
    throw new MppError('MPP_E_TOOL_INVALID', 'A core module of the component is not a WebAssembly module.');
  }
  r.pos = 8;
  try {
    while (r.pos < module.length) {
      const sectionStart = r.pos;
      const id = module[r.pos++]!;
      const size = readU32(r);
      const bodyStart = r.pos;
      const bodyEnd = bodyStart + size;
      if (bodyEnd > module.length) throw new RangeError('section overruns the module');
      if (id !== MEMORY_SECTION) {
        r.pos = bodyEnd;
        continue;
      }
      const count = readU32(r);
      const body: number[] = [];
      writeU32(body, count);
      for (let i = 0; i < count; i++) {
        const flags = readU32(r);
        if (flags & ~0x1) {
          // 0x2 shared, 0x4 memory64, 0x8 custom page size: none of these come
          // out of componentize-js; refuse rather than guess their encoding.
          throw new MppError('MPP_E_TOOL_INVALID', `A core module declares a memory with flags 0x${flags.toString(16)}; only plain 32-bit memories are supported.`);
        }
        const min = Number(readU64(r));
        const max = flags & 0x1 ? Number(readU64(r)) : 65536;
        if (min > maxPages) {
          throw new MppError('MPP_E_TOOL_MEMORY', `The tool needs ${min * WASM_PAGE_BYTES} bytes of memory at start, more than its limit of ${maxPages * WASM_PAGE_BYTES}.`, {
            hint: 'Raise limits.memoryBytes for this tool.',
            detail: { minimumBytes: min * WASM_PAGE_BYTES, limitBytes: maxPages * WASM_PAGE_BYTES },
          });
        }
        writeU32(body, 0x1);
        writeU32(body, min);
        writeU32(body, Math.min(max, maxPages));
      }
      if (r.pos !== bodyEnd) throw new RangeError('memory section size mismatch');
      const header: number[] = [MEMORY_SECTION];
      writeU32(header, body.length);
      const out = new Uint8Array(sectionStart + header.length + body.length + (module.length - bodyEnd));
      out.set(module.subarray(0, sectionStart), 0);
      out.set(header, sectionStart);
      out.set(body, sectionStart + header.length);
      out.set(module.subarray(bodyEnd), sectionStart + header.length + body.length);
      return { bytes: out, definedMemories: count };
    }
  } catch (e) {
    if (e instanceof MppError) throw e;
    throw new MppError('MPP_E_TOOL_INVALID', `A core module of the component is malformed: ${(e as Error).message}.`, { cause: e });
  }
  return { bytes: module, definedMemories: 0 };
}
