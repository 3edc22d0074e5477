import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../hash.ts';
import { writeFileAtomic } from '../store/atomic.ts';

/** `\0asm`, then the component-model layer (version 0x0d, layer 1). */
const COMPONENT_HEADER = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00);

/**
 * Components by the digest of everything that goes into them. Both engines
 * snapshot their initialised heap with real WASI randomness and clocks
 * (wizer), so componentizing the same bundle twice gives different bytes; the
 * cache is what makes rebuilding unchanged sources give the same archive.
 * It lives in the project (.mpp/cache) and is never shared between projects.
 */
export interface ComponentCache {
  get(key: string): Uint8Array | undefined;
  put(key: string, component: Uint8Array): void;
}

/**
 * An entry is `<key>.wasm` beside `<key>.sha256`, the digest of the bytes
 * recorded when they were written: a component replaced or damaged in
 * .mpp/cache afterwards is a miss (and is rebuilt), never packed.
 */
export function componentCacheIn(dir: string): ComponentCache {
  const file = (key: string) => join(dir, `${key}.wasm`);
  const digestFile = (key: string) => join(dir, `${key}.sha256`);
  return {
    get(key) {
      const path = file(key);
      if (!existsSync(path) || !existsSync(digestFile(key))) return undefined;
      const bytes = new Uint8Array(readFileSync(path));
      const recorded = readFileSync(digestFile(key), 'utf8').trim();
      // A truncated, foreign or replaced file is a miss, not a build input.
      return startsWith(bytes, COMPONENT_HEADER) && sha256Hex(bytes) === recorded ? bytes : undefined;
    },
    put(key, component) {
      // The digest last: an entry counts only once both files are there.
      writeFileAtomic(file(key), component);
      writeFileAtomic(digestFile(key), `${sha256Hex(component)}\n`);
      prune(dir, KEEP);
    },
  };
}


/** Components are 2-13 MB: keep the few most recent builds, not every edit. */
const KEEP = 4;

function prune(dir: string, keep: number): void {
  const entries = readdirSync(dir)
    .filter((n) => /^[0-9a-f]{64}\.wasm$/.test(n))
    .map((n) => ({ path: join(dir, n), mtime: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of entries.slice(keep)) {
    rmSync(old.path, { force: true });
    rmSync(old.path.replace(/\.wasm$/, '.sha256'), { force: true });
  }
}

/** The cache key: engine, its version, the WIT package, the world and the bundle. */
export function componentKey(parts: { engine: string; engineVersion: string; witDir: string; worldName: string; source: string }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, engine: parts.engine, engineVersion: parts.engineVersion, world: parts.worldName }));
  for (const name of readdirSync(parts.witDir).filter((n) => n.endsWith('.wit')).sort()) {
    h.update(`\0${name}\0`).update(readFileSync(join(parts.witDir, name)));
  }
  h.update('\0source\0').update(parts.source);
  return h.digest('hex');
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}
