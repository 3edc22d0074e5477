/**
 * Installed package files, content-addressed: `packages/<sha256 of the file>.mpp`.
 * A name is only ever bound to one content, so writing is idempotent and two
 * processes writing the same blob cannot disagree. Blobs are never trusted on
 * read: the loader hashes and re-verifies them (see packages.ts).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../hash.ts';
import { homePaths } from '../home.ts';
import { asIoError, writeFileAtomic } from './atomic.ts';

const BLOB_RE = /^([0-9a-f]{64})\.mpp$/;
/** What writeFileAtomic leaves behind when killed between create and rename. */
const TEMP_RE = /^\.[0-9a-f]{64}\.mpp\.[0-9a-f]{12}\.tmp$/;
/** A temporary file younger than this may belong to a write in progress in another process. */
const STALE_TEMP_MS = 15 * 60_000;

export function blobPath(home: string, fileSha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(fileSha256)) throw new RangeError(`expected a lowercase hex SHA-256, got ${JSON.stringify(fileSha256)}`);
  return join(homePaths(home).packages, `${fileSha256}.mpp`);
}

export function hasBlob(home: string, fileSha256: string): boolean {
  return existsSync(blobPath(home, fileSha256));
}

/**
 * Stores `bytes` (whose SHA-256 is `fileSha256`) unless an intact copy is
 * already there; a copy damaged on disk is replaced. Private to the user
 * (0600): the list of installed tools is nobody else's business.
 */
export function putBlob(home: string, bytes: Uint8Array, fileSha256: string): void {
  const path = blobPath(home, fileSha256);
  const existing = readBlob(home, fileSha256);
  if (existing && sha256Hex(existing) === fileSha256) return;
  writeFileAtomic(path, bytes, 0o600);
}

/** The blob's bytes, or null when there is no such file. */
export function readBlob(home: string, fileSha256: string): Buffer | null {
  const path = blobPath(home, fileSha256);
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return asIoError(`read ${path}`, () => {
      throw e;
    });
  }
}

/**
 * Removes every blob not in `keep`, and temporary files old enough to be a
 * crashed write's. The caller must hold the index's write lock, so that no
 * install can commit a row naming a blob while it is being removed.
 * Returns the names removed.
 */
export function sweepBlobs(home: string, keep: ReadonlySet<string>, now = Date.now()): string[] {
  const dir = homePaths(home).packages;
  const removed: string[] = [];
  for (const name of namesIn(dir)) {
    const blob = BLOB_RE.exec(name);
    const stale = blob ? !keep.has(blob[1]!) : TEMP_RE.test(name) && olderThan(join(dir, name), now - STALE_TEMP_MS);
    if (!stale) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

export function olderThan(path: string, cutoffMs: number): boolean {
  try {
    return statSync(path).mtimeMs < cutoffMs;
  } catch {
    return false; // gone already
  }
}

/** The entries of a folder that may not exist yet (a fresh MPP home). */
export function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
