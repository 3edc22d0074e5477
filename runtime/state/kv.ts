/**
 * The per-package key-value store behind the `mpp:tool/kv` interface
 * (spec/kv.md): one SQLite database per package at `kvDatabasePath`, shared
 * safely by every process of the host (CLI, editor) through SQLite's locking.
 *
 *   const kv = openKvStore(home, 'acme/notes', { maxBytes: 1 << 20 });
 *   createSandbox({ ..., services: { log, kv } });
 *   kv.close();
 *
 * Everything a tool passes is attacker-controlled: keys, prefixes, limits and
 * values are checked here again even though the sandbox worker checks some of
 * them first, because the store may also be reached by other hosts. Refusals
 * to the tool are HostServiceError; misuse by the host (a bad package name or
 * quota) throws RangeError; a damaged database is MppError MPP_E_KV_CORRUPT.
 */
import { existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { PACKAGE_NAME_RE } from '../format/manifest.ts';
import { MppError } from '../errors.ts';
import { kvDatabasePath } from '../home.ts';
import { HostServiceError, MAX_KEY_BYTES, type KvService } from '../sandbox/host-services.ts';
import { openDatabase, sqliteFailure, transaction, type Database } from './sqlite.ts';

const MAX_LIST_LIMIT = 1000;
const DEFAULT_MAX_KEYS = 10_000;
/** Manifest ceilings (manifest.md §5.4). */
const MAX_QUOTA_BYTES = 1024 * 1024 * 1024;
const MAX_QUOTA_KEYS = 1_000_000;
/**
 * SQLite refuses a row above SQLITE_MAX_LENGTH (10^9 bytes by default), which
 * is below the 1 GiB quota ceiling: refuse such a write as over quota rather
 * than let it fail as `internal`.
 */
const MAX_ROW_BYTES = 1_000_000_000;

/** On-disk schema version (PRAGMA user_version); a newer file is refused, not rewritten. */
const SCHEMA_VERSION = 1;


export interface KvQuota {
  readonly maxBytes: number;
  readonly maxKeys?: number;
}

export interface KvUsage {
  /** Key bytes (UTF-8) plus value bytes, over all keys. */
  readonly bytes: number;
  readonly keys: number;
}

export interface KvStore extends KvService {
  /** The current usage, as accounted (read in one statement, so consistent). */
  usage(): KvUsage;
  /** Closes the database; later calls are refused with `not-available`. Idempotent. */
  close(): void;
}

function checkPackageName(packageName: string): void {
  if (typeof packageName !== 'string' || !PACKAGE_NAME_RE.test(packageName)) {
    throw new RangeError(`expected a package name scope/name, got ${JSON.stringify(packageName)}`);
  }
}

function checkQuota(quota: KvQuota): { maxBytes: number; maxKeys: number } {
  const maxKeys = quota.maxKeys ?? DEFAULT_MAX_KEYS;
  if (!Number.isSafeInteger(quota.maxBytes) || quota.maxBytes < 1 || quota.maxBytes > MAX_QUOTA_BYTES) {
    throw new RangeError(`expected kv maxBytes 1..${MAX_QUOTA_BYTES}, got ${quota.maxBytes}`);
  }
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_QUOTA_KEYS) {
    throw new RangeError(`expected kv maxKeys 1..${MAX_QUOTA_KEYS}, got ${maxKeys}`);
  }
  return { maxBytes: quota.maxBytes, maxKeys };
}

// A lone surrogate cannot be encoded as UTF-8 (Buffer would silently turn it
// into U+FFFD, so two different keys would collide): refuse it.
const LONE_SURROGATE = /\p{Cs}/u;

/** Keys are stored as their UTF-8 bytes (BLOB), so SQLite's memcmp order is byte order. */
function encodeText(what: 'key' | 'prefix', text: unknown): Buffer {
  const min = what === 'key' ? 1 : 0;
  // length > MAX_KEY_BYTES UTF-16 units is always > MAX_KEY_BYTES UTF-8 bytes: refuse before encoding a huge string.
  if (typeof text !== 'string' || text.length > MAX_KEY_BYTES || text.includes('\0') || LONE_SURROGATE.test(text)) {
    throw new HostServiceError('invalid-argument', `a ${what} is ${min}..${MAX_KEY_BYTES} bytes of UTF-8 without NUL`);
  }
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length < min || bytes.length > MAX_KEY_BYTES) {
    throw new HostServiceError('invalid-argument', `a ${what} is ${min}..${MAX_KEY_BYTES} bytes of UTF-8 without NUL, got ${bytes.length} bytes`);
  }
  return bytes;
}

/** The smallest byte string greater than every string starting with `prefix`, or undefined if none exists. */
function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

function openChecked(path: string, packageName: string): Database {
  // Tool data may be private (tokens, notes): the kv folders are owner-only.
  // mkdirSync's mode applies only to folders it creates.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let db: Database | undefined;
  try {
    db = openDatabase(path);
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION) {
      throw new MppError('MPP_E_KV_CORRUPT', `The key-value store of ${packageName} has schema version ${version}; this MPP reads up to ${SCHEMA_VERSION}.`, {
        hint: 'Update MPP; an older MPP must not rewrite data a newer one wrote.',
        detail: { package: packageName, path, version },
      });
    }
    // The usage row is the accounting every quota check reads and updates in
    // the same transaction as the data, so it is exact under concurrent writers.
    // Idempotent, so two processes creating the store at once both succeed.
    if (version < SCHEMA_VERSION) {
      transaction(db, () => {
        db!.exec(`
          CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS usage (id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL, keys INTEGER NOT NULL);
          INSERT OR IGNORE INTO usage (id, bytes, keys) VALUES (0, 0, 0);
          PRAGMA user_version = ${SCHEMA_VERSION};
        `);
      });
    }
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already failing; the original error matters
    }
    if (e instanceof MppError) throw e;
    if (sqliteFailure(e) === 'corrupt') {
      throw new MppError('MPP_E_KV_CORRUPT', `The key-value store of ${packageName} is damaged or not an SQLite database.`, {
        hint: `Move ${path} aside (its data is lost to the tool), or remove it with \`mpp uninstall --purge ${packageName}\`.`,
        cause: e,
        detail: { package: packageName, path },
      });
    }
    if (sqliteFailure(e) === 'busy') {
      throw new MppError('MPP_E_IO', `The key-value store of ${packageName} stayed locked by another MPP process.`, {
        hint: 'Wait for the other MPP command to finish, then try again.',
        cause: e,
        detail: { package: packageName, path },
      });
    }
    throw new MppError('MPP_E_IO', `The key-value store of ${packageName} could not be opened: ${(e as Error).message}`, {
      hint: 'Check that the MPP home folder is writable and the disk is not full.',
      cause: e,
      detail: { package: packageName, path },
    });
  }
}

function prepareStatements(db: Database, packageName: string, path: string) {
  try {
    return {
      get: db.prepare('SELECT value FROM kv WHERE key = ?'),
      size: db.prepare('SELECT length(value) AS n FROM kv WHERE key = ?'),
      // node:sqlite binds an empty Uint8Array over a zero-length ArrayBuffer (what
      // structured clone yields for the bridge's empty values) as NULL, not x''.
      put: db.prepare("INSERT INTO kv (key, value) VALUES (?, coalesce(?, x'')) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      del: db.prepare('DELETE FROM kv WHERE key = ?'),
      usage: db.prepare('SELECT bytes, keys FROM usage WHERE id = 0'),
      account: db.prepare('UPDATE usage SET bytes = bytes + ?, keys = keys + ? WHERE id = 0'),
      listAll: db.prepare('SELECT key FROM kv ORDER BY key LIMIT ?'),
      listFrom: db.prepare('SELECT key FROM kv WHERE key >= ? ORDER BY key LIMIT ?'),
      listRange: db.prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
    };
  } catch (e) {
    // A file of our schema version whose tables are missing or altered.
    db.close();
    throw new MppError('MPP_E_KV_CORRUPT', `The key-value store of ${packageName} does not have the expected tables.`, { cause: e, detail: { package: packageName, path } });
  }
}

/**
 * Opens (creating) the store of `packageName` under `home` with `quota`. The
 * quota is the grant's, not stored in the file: a lower quota later only
 * blocks writes that would grow usage, existing data stays readable.
 */
export function openKvStore(home: string, packageName: string, quota: KvQuota): KvStore {
  checkPackageName(packageName);
  const limits = checkQuota(quota);
  const path = kvDatabasePath(home, packageName);
  const db = openChecked(path, packageName);

  const q = prepareStatements(db, packageName, path);
  let open = true;

  const live = () => {
    if (!open) throw new HostServiceError('not-available', 'the key-value store is closed');
  };
  const readUsage = (): KvUsage => {
    const row = q.usage.get() as { bytes: number; keys: number } | undefined;
    if (!row) throw new MppError('MPP_E_KV_CORRUPT', `The key-value store of ${packageName} lost its usage record.`, { detail: { package: packageName, path } });
    return { bytes: row.bytes, keys: row.keys };
  };

  return {
    async get(key) {
      live();
      const row = q.get.get(encodeText('key', key)) as { value: Uint8Array } | undefined;
      return row?.value;
    },

    async set(key, value) {
      live();
      const k = encodeText('key', key);
      if (!(value instanceof Uint8Array)) throw new HostServiceError('invalid-argument', 'a value is a list of bytes');
      if (k.length + value.byteLength > MAX_ROW_BYTES) {
        throw new HostServiceError('quota-exceeded', `one key and value are at most ${MAX_ROW_BYTES} bytes`);
      }
      // BEGIN IMMEDIATE: the usage read, the check and both writes happen under
      // the write lock, so a writer in another process cannot interleave.
      transaction(db, () => {
        const old = q.size.get(k) as { n: number } | undefined;
        const dBytes = value.byteLength - (old ? old.n : -k.length);
        const dKeys = old ? 0 : 1;
        const now = readUsage();
        // Only growth is refused: after a quota cut, a tool can still shrink its data.
        if (dBytes > 0 && now.bytes + dBytes > limits.maxBytes) {
          throw new HostServiceError('quota-exceeded', `the store would hold ${now.bytes + dBytes} bytes; the quota is ${limits.maxBytes}`);
        }
        if (dKeys > 0 && now.keys + dKeys > limits.maxKeys) {
          throw new HostServiceError('quota-exceeded', `the store would hold ${now.keys + dKeys} keys; the quota is ${limits.maxKeys}`);
        }
        q.put.run(k, value);
        if (dBytes !== 0 || dKeys !== 0) q.account.run(dBytes, dKeys);
      });
    },

    async delete(key) {
      live();
      const k = encodeText('key', key);
      return transaction(db, () => {
        const old = q.size.get(k) as { n: number } | undefined;
        if (!old) return false;
        q.del.run(k);
        q.account.run(-(k.length + old.n), -1);
        return true;
      });
    },

    async listKeys(prefix, limit) {
      live();
      const p = encodeText('prefix', prefix);
      if (!Number.isSafeInteger(limit) || limit < 0) throw new HostServiceError('invalid-argument', `a limit is a whole number >= 0, got ${limit}`);
      const n = Math.min(limit, MAX_LIST_LIMIT);
      if (n === 0) return [];
      const end = prefixEnd(p);
      const rows = (p.length === 0 ? q.listAll.all(n) : end ? q.listRange.all(p, end, n) : q.listFrom.all(p, n)) as { key: Uint8Array }[];
      return rows.map((r) => Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength).toString('utf8'));
    },

    usage() {
      live();
      return readUsage();
    },

    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}

/**
 * Removes a package's store: the database and its WAL, shared-memory and
 * rollback-journal files, then the scope folder if it is left empty. Close
 * every store of the package first (a process holding it open would keep
 * writing to the unlinked file). Returns whether there was anything to remove.
 */
export function deleteKvData(home: string, packageName: string): boolean {
  checkPackageName(packageName);
  const path = kvDatabasePath(home, packageName);
  let found = false;
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(file)) found = true;
    rmSync(file, { force: true });
  }
  try {
    rmdirSync(dirname(path));
  } catch {
    // not empty (other packages of the scope) or already gone
  }
  return found;
}
