import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MppError } from '../errors.ts';
import { COMPONENT_ENTRY, DEFAULT_LIMITS, entryLimit } from '../format/layout.ts';

/** Reads a component made by another toolchain (Rust, C, Go, WAT...), within the size a package may hold. */
export function readPrebuiltComponent(file: string): Uint8Array {
  const path = resolve(file);
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new MppError('MPP_E_IO', `Cannot read the component ${path}: ${(e as Error).message}.`, {
      hint: 'Pass the .wasm component file your toolchain wrote (for example target/wasm32-wasip2/release/tool.wasm).',
      cause: e,
      detail: { file: path },
    });
  }
  const limit = entryLimit(DEFAULT_LIMITS, COMPONENT_ENTRY);
  if (size > limit) {
    throw new MppError('MPP_E_ARCHIVE_TOO_LARGE', `The component ${path} is ${size} bytes; a package's tool.wasm holds at most ${limit}.`, {
      hint: 'Build the component for size (release mode, strip debug sections).',
      detail: { file: path, bytes: size, limit },
    });
  }
  return new Uint8Array(readFileSync(path));
}
