import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { capModuleMemory } from '../../../runtime/sandbox/wasm-memory.ts';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A module with one memory (limits as given) exported as "m", plus a custom section after it. */
function moduleWith(limits: number[]): Uint8Array {
  const memory = [0x01, ...limits];
  const exportSec = [0x01, 0x01, 0x6d, 0x02, 0x00];
  const custom = [0x01, 0x78, 0xaa, 0xbb];
  return new Uint8Array([...HEADER, 0x05, memory.length, ...memory, 0x07, exportSec.length, ...exportSec, 0x00, custom.length, ...custom]);
}

function maxPages(bytes: Uint8Array): number | undefined {
  const m = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports.m as WebAssembly.Memory;
  let pages = m.buffer.byteLength / 65536;
  try {
    while (pages < 70_000) {
      m.grow(1);
      pages++;
    }
  } catch {
    return pages;
  }
  return undefined;
}

describe('capModuleMemory', () => {
  it('adds a maximum to a memory that has none', () => {
    const out = capModuleMemory(moduleWith([0x00, 0x01]), 4);
    assert.equal(out.definedMemories, 1);
    assert.equal(maxPages(out.bytes), 4);
  });
  it('lowers a larger maximum and keeps a smaller one', () => {
    assert.equal(maxPages(capModuleMemory(moduleWith([0x01, 0x01, 0x80, 0x02]), 8).bytes), 8);
    assert.equal(maxPages(capModuleMemory(moduleWith([0x01, 0x01, 0x03]), 8).bytes), 3);
  });
  it('keeps every other section byte for byte', () => {
    const input = moduleWith([0x00, 0x01]);
    const out = capModuleMemory(input, 2).bytes;
    assert.deepEqual([...out.slice(-6)], [...input.slice(-6)]);
  });
  it('refuses a memory whose minimum exceeds the cap', () => {
    assert.throws(() => capModuleMemory(moduleWith([0x00, 0x10]), 4), (e) => isMppError(e) && e.code === 'MPP_E_TOOL_MEMORY');
  });
  it('refuses shared and 64-bit memories, and malformed modules', () => {
    assert.throws(() => capModuleMemory(moduleWith([0x03, 0x01, 0x02]), 4), (e) => isMppError(e) && e.code === 'MPP_E_TOOL_INVALID');
    assert.throws(() => capModuleMemory(moduleWith([0x04, 0x01]), 4), (e) => isMppError(e) && e.code === 'MPP_E_TOOL_INVALID');
    assert.throws(() => capModuleMemory(new Uint8Array([...HEADER, 0x05, 0x09, 0x01]), 4), (e) => isMppError(e) && e.code === 'MPP_E_TOOL_INVALID');
    assert.throws(() => capModuleMemory(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 4), (e) => isMppError(e) && e.code === 'MPP_E_TOOL_INVALID');
  });
  it('returns a module without memory unchanged', () => {
    const bare = new Uint8Array(HEADER);
    assert.equal(capModuleMemory(bare, 4).bytes, bare);
  });
});
