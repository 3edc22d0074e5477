import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { createRequire } from 'node:module';
import { MppError, isMppError, type ErrorCode } from '../errors.ts';

export type Database = DatabaseSyncType;

/**
 * node:sqlite prints an ExperimentalWarning when first loaded (Node 22). MPP
 * depends on it by decision, so that one warning is dropped; every other
 * warning still reaches stderr.
 */
function loadSqlite(): typeof import('node:sqlite') {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite');
  } finally {
    process.emitWarning = emit;
  }
}

let sqlite: typeof import('node:sqlite') | undefined;

/**
 * Opens (creating) a database for MPP state: WAL with synchronous=FULL, so a
 * write is durable once the call that made it returns, even across kill -9 or
 * power loss; a busy timeout, so the CLI and the editor can share it. With
 * `schema` (CREATE ... IF NOT EXISTS), makes sure it is in place. A database
 * that cannot be set up is closed before the error is thrown.
 */
export function openDatabase(path: string, schema?: string): Database {
  sqlite ??= loadSqlite();
  mkdirSync(dirname(path), { recursive: true });
  const db = new sqlite.DatabaseSync(path);
  try {
    // The busy timeout first, so that the statements after it wait for other connections.
    db.exec('PRAGMA busy_timeout = 5000');
    enableWal(db);
    db.exec('PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
    if (schema !== undefined) db.exec(schema);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

// SQLite primary result codes (https://sqlite.org/rescode.html).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** What a node:sqlite failure means for the user: a damaged file, contention, or neither. */
export function sqliteFailure(e: unknown): 'corrupt' | 'busy' | undefined {
  const code = (e as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return undefined;
  const primary = code & 0xff;
  if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) return 'corrupt';
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) return 'busy';
  return undefined;
}

/**
 * Switching a new database to WAL takes an exclusive lock, and SQLite can
 * answer SQLITE_BUSY at once, without its busy handler, when several
 * processes create the same database together (1 time in 4 with three
 * processes in a fresh MPP home): retry for as long as the busy timeout.
 */
function enableWal(db: Database): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (e) {
      if (sqliteFailure(e) !== 'busy' || Date.now() > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + Math.random() * 20);
    }
  }
}

/** Runs `fn` in an IMMEDIATE transaction (takes the write lock up front, so concurrent writers queue instead of failing). */
export function transaction<T>(db: Database, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (e) {
    // SQLite may have rolled back by itself (disk full, I/O error): then
    // ROLLBACK fails, and its error must not hide the one that matters.
    try {
      db.exec('ROLLBACK');
    } catch {
      // No transaction left to roll back.
    }
    throw e;
  }
}

/** The code (and hint) a damaged database is refused with; mpp.db's by default. */
export interface CorruptAs {
  readonly code: ErrorCode;
  readonly hint?: string;
}

const MPP_DB_CORRUPT: CorruptAs = {
  code: 'MPP_E_STORE_CORRUPT',
  hint: 'Move the file aside and reinstall your packages (their files in the packages folder are intact); moving mpp.db aside also forgets your grants and registered agents, which you then make again with `mpp grant` and `mpp agent add`.',
};

/**
 * Runs `fn` on an SQLite database of MPP (`what` names it, e.g. "install
 * index"), turning node:sqlite failures into coded errors that name the
 * file; MppErrors pass through.
 */
export function guardDatabase<T>(path: string, what: string, fn: () => T, corrupt: CorruptAs = MPP_DB_CORRUPT): T {
  try {
    return fn();
  } catch (e) {
    if (isMppError(e)) throw e;
    if ((e as { errcode?: unknown }).errcode === undefined) throw e;
    const failure = sqliteFailure(e);
    if (failure === 'corrupt') {
      throw new MppError(corrupt.code, `The ${what} ${path} is damaged or not an SQLite database: ${(e as Error).message}.`, {
        ...(corrupt.hint ? { hint: corrupt.hint } : {}),
        cause: e,
        detail: { path },
      });
    }
    if (failure === 'busy') {
      throw new MppError('MPP_E_IO', `The ${what} ${path} stayed locked by another MPP process.`, {
        hint: 'Wait for the other MPP command to finish, then try again.',
        cause: e,
      });
    }
    throw new MppError('MPP_E_IO', `Cannot use the ${what} ${path}: ${(e as Error).message}.`, {
      hint: 'Check that the folder holding it is a writable folder and the disk is not full.',
      cause: e,
      detail: { path },
    });
  }
}

/** Opens `path` and makes sure `schema` (CREATE ... IF NOT EXISTS) is in place; failures are coded as `what`'s. */
export function openWithSchema(path: string, what: string, schema: string, corrupt?: CorruptAs): Database {
  return guardDatabase(path, what, () => openDatabase(path, schema), corrupt);
}

/** A table of MPP state held open by one object: closing, and coding failures as the table's. */
export abstract class StateTable {
  protected readonly db: Database;
  protected readonly path: string;
  readonly #what: string;

  protected constructor(path: string, what: string, schema: string) {
    this.db = openWithSchema(path, what, schema);
    this.path = path;
    this.#what = what;
  }

  close(): void {
    this.db.close();
  }

  protected guard<T>(fn: () => T): T {
    return guardDatabase(this.path, this.#what, fn);
  }
}
