/**
 * Reclaiming space after an install or uninstall: blobs no row names (left by
 * an upgrade, an uninstall or a killed install) and transpiled components no
 * row needs. Runs under the index's write lock, in its own transaction after
 * the commit, so that a crash here loses nothing but the cleanup.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths } from '../home.ts';
import type { Database } from '../state/sqlite.ts';
import { namesIn, olderThan, sweepBlobs } from './blobs.ts';
import { indexTransaction, referenced } from './installed-index.ts';

/**
 * The component cache is also used to run packages that are not installed
 * (`mpp run file.mpp`) and is filled by installs before they commit, so an
 * unreferenced entry is only removed once it is this old. It is a cache: a
 * missing entry costs one transpile, never correctness.
 */
const CACHE_GRACE_MS = 15 * 60_000;

const ENTRY_RE = /^[0-9a-f]{64}$/;
/** prepare.ts's staging folders: `.<digest>.<12 hex>`. */
const STAGING_RE = /^\.[0-9a-f]{64}\.[0-9a-f]{12}$/;

export interface Reclaimed {
  readonly blobs: readonly string[];
  readonly components: readonly string[];
}

export function reclaim(home: string, db: Database, now = Date.now()): Reclaimed {
  return indexTransaction(home, db, () => {
    const keep = referenced(db);
    return { blobs: sweepBlobs(home, keep.files, now), components: sweepComponents(home, keep.components, now) };
  });
}

function sweepComponents(home: string, keep: ReadonlySet<string>, now: number): string[] {
  const dir = homePaths(home).componentCache;
  const removed: string[] = [];
  for (const name of namesIn(dir)) {
    const candidate = (ENTRY_RE.test(name) && !keep.has(name)) || STAGING_RE.test(name);
    if (!candidate || !olderThan(join(dir, name), now - CACHE_GRACE_MS)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
