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
import { applyEdits, readU32, readU64, SECTION, sections, WASM_PAGE_BYTES, writeU32, type Reader, type Section, type SectionEdit } from './wasm-sections.ts';

export { WASM_PAGE_BYTES };

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
  let all: Section[];
  try {
    all = sections(module);
  } catch (e) {
    throw new MppError('MPP_E_TOOL_INVALID', `A core module of the component is malformed: ${(e as Error).message}.`, { cause: e });
  }
  const { edit, definedMemories } = memoryCapEdit(module, all, maxPages);
  return { bytes: edit ? applyEdits(module, [edit]) : module, definedMemories };
}

/** The memory section capModuleMemory writes, as an edit (prepare.ts makes it with the others in one copy); none when the module defines no memory. */
export function memoryCapEdit(module: Uint8Array, all: readonly Section[], maxPages: number): { edit?: SectionEdit; definedMemories: number } {
  if (!Number.isInteger(maxPages) || maxPages < 1 || maxPages > 65536) {
    throw new RangeError(`maxPages: expected an integer in 1..65536, got ${maxPages}`);
  }
  const section = all.find((s) => s.id === SECTION.memory);
  if (!section) return { definedMemories: 0 };
  const r: Reader = { bytes: module, pos: section.bodyStart };
  try {
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
    if (r.pos !== section.bodyEnd) throw new RangeError('memory section size mismatch');
    return { edit: { from: section.start, to: section.bodyEnd, id: SECTION.memory, body }, definedMemories: count };
  } catch (e) {
    if (e instanceof MppError) throw e;
    throw new MppError('MPP_E_TOOL_INVALID', `A core module of the component is malformed: ${(e as Error).message}.`, { cause: e });
  }
}
