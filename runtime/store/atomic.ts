import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MppError, isMppError } from '../errors.ts';

/**
 * Replaces `path` with `data` so that a crash at any point leaves either the
 * old or the new content: write a temporary file in the same folder, fsync it,
 * rename over the target, fsync the folder.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o644): void {
  asIoError(`write ${path}`, () => {
    const dir = dirname(path);
    const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    const fd = openCreatingDir(tmp, dir, mode);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, path);
    syncDir(dir);
  });
}

/** Opens a new file `tmp`, making its folder only when it is missing (a call's audit head write needs no mkdir). */
function openCreatingDir(tmp: string, dir: string, mode: number): number {
  try {
    return openSync(tmp, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dir, { recursive: true });
    return openSync(tmp, 'wx', mode);
  }
}

/** A failing file system (full disk, no permission, a file where a folder should be) is the user's to fix, not an MPP bug. */
export function asIoError<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isMppError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new MppError('MPP_E_IO', `Cannot ${what}: ${code} (${(e as Error).message}).`, {
      hint: code === 'ENOSPC' ? 'Free some disk space and try again.' : 'Check that the folder exists, is a folder, and is writable by you (MPP_HOME sets where MPP keeps its data).',
      cause: e,
    });
  }
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/**
 * Runs `fn` while holding `<path>.lock`, an exclusively created file, so two
 * processes (the CLI and the editor) never interleave read-modify-write
 * cycles. A lock older than 30 s is a crashed holder's and is broken.
 */
export async function withFileLock<T>(path: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  asIoError(`create ${dirname(lock)}`, () => mkdirSync(dirname(lock), { recursive: true }));
  const started = Date.now();
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') asIoError(`create the lock ${lock}`, () => { throw e; });
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        // The holder released it between our two calls: try again.
      }
      if (Date.now() - started > LOCK_WAIT_MS) {
        throw new MppError('MPP_E_IO', `Timed out waiting for the lock ${lock}.`, {
          hint: 'Another MPP process is busy with the same store. If none is running, delete the .lock file.',
        });
      }
      await sleep(20 + Math.random() * 30);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
