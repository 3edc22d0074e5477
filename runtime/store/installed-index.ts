/**
 * The index of installed packages: one row per package name in the
 * `installed_packages` table of `homePaths(home).db`. A row is the commit
 * point of an install: a package is installed exactly when its row exists,
 * and a row only ever names a blob that was on disk when it was written.
 */
import { existsSync } from 'node:fs';
import { MppError } from '../errors.ts';
import { homePaths } from '../home.ts';
import { parseManifest, type Manifest } from '../format/manifest.ts';
import { guardDatabase, openWithSchema, transaction, type Database } from '../state/sqlite.ts';

export interface InstalledRecord {
  readonly name: string;
  readonly version: string;
  /** SHA-256 of the .mpp file as stored: names its blob. */
  readonly fileSha256: string;
  /** The package digest the author signed (spec/signing.md). */
  readonly digest: string;
  /** SHA-256 of tool.wasm: the key of its transpiled form in the component cache. */
  readonly componentSha256: string;
  /** The trusted author key the package was accepted on, and the name it had in the trust store then. */
  readonly publisher: { readonly keyid: string; readonly name: string | undefined };
  /** ISO 8601. */
  readonly installedAt: string;
  readonly manifest: Manifest;
  /** A development package (spec/format.md): listed and audited as one. */
  readonly development: boolean;
}

interface Row {
  name: string;
  version: string;
  file_sha256: string;
  digest: string;
  component_sha256: string;
  publisher_keyid: string;
  publisher_name: string | null;
  installed_at: string;
  manifest: string;
  development: number;
}

// STRICT: SQLite refuses values of the wrong type instead of coercing them.
const SCHEMA = `CREATE TABLE IF NOT EXISTS installed_packages (
  name TEXT PRIMARY KEY NOT NULL,
  version TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  digest TEXT NOT NULL,
  component_sha256 TEXT NOT NULL,
  publisher_keyid TEXT NOT NULL,
  publisher_name TEXT,
  installed_at TEXT NOT NULL,
  manifest TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS development_installs (
  name TEXT PRIMARY KEY NOT NULL,
  file_sha256 TEXT NOT NULL
) STRICT`;

/** A row's development flag: the package's development_installs row names the very file installed (added beside the original table, so older indexes need no migration). */
const SELECT_RECORDS = `SELECT p.*, (d.file_sha256 IS NOT NULL) AS development FROM installed_packages p
  LEFT JOIN development_installs d ON d.name = p.name AND d.file_sha256 = p.file_sha256`;

/** Opens the index, creating the table on first use. Close it when done. */
export function openIndex(home: string): Database {
  return openWithSchema(homePaths(home).db, 'install index', SCHEMA);
}

/** Whether an index exists at all: read-only commands must not create one. */
export function indexExists(home: string): boolean {
  return existsSync(homePaths(home).db);
}

export function getRecord(db: Database, name: string): InstalledRecord | undefined {
  const row = db.prepare(`${SELECT_RECORDS} WHERE p.name = ?`).get(name) as Row | undefined;
  return row ? toRecord(row) : undefined;
}

export function allRecords(db: Database): InstalledRecord[] {
  return (db.prepare(`${SELECT_RECORDS} ORDER BY p.name`).all() as unknown as Row[]).map(toRecord);
}

/** Blob and component names still in use: what reclaiming must keep. */
export function referenced(db: Database): { files: Set<string>; components: Set<string> } {
  const rows = db.prepare('SELECT file_sha256, component_sha256 FROM installed_packages').all() as unknown as Pick<Row, 'file_sha256' | 'component_sha256'>[];
  return { files: new Set(rows.map((r) => r.file_sha256)), components: new Set(rows.map((r) => r.component_sha256)) };
}

export interface InstalledDigest {
  readonly name: string;
  readonly digest: string;
  readonly installedAt: string;
}

/**
 * Each installed package's name, digest and install time, without parsing a
 * manifest: a cheap signature of what is installed, for hosts that poll
 * (through the index they hold open, kept-packages.ts).
 */
export function digestsIn(db: Database): InstalledDigest[] {
  return db.prepare('SELECT name, digest, installed_at AS installedAt FROM installed_packages ORDER BY name').all() as unknown as InstalledDigest[];
}

/** Inserts or replaces the row of `record.name`. Call inside a transaction. */
export function putRecord(db: Database, record: InstalledRecord, manifestText: string): void {
  db.prepare(
    `INSERT OR REPLACE INTO installed_packages
       (name, version, file_sha256, digest, component_sha256, publisher_keyid, publisher_name, installed_at, manifest)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    record.name,
    record.version,
    record.fileSha256,
    record.digest,
    record.componentSha256,
    record.publisher.keyid,
    record.publisher.name ?? null,
    record.installedAt,
    manifestText,
  );
  db.prepare('DELETE FROM development_installs WHERE name = ?').run(record.name);
  if (record.development) db.prepare('INSERT INTO development_installs (name, file_sha256) VALUES (?, ?)').run(record.name, record.fileSha256);
}

/** What an install compares against, read without parsing the row's manifest. */
export interface RecordSummary {
  readonly version: string;
  readonly fileSha256: string;
  readonly digest: string;
}

/**
 * The raw version and hashes of `name`'s row. Install and uninstall use this,
 * not getRecord, so that a damaged row can still be replaced or removed.
 */
export function getSummary(db: Database, name: string): RecordSummary | undefined {
  const row = db.prepare('SELECT version, file_sha256, digest FROM installed_packages WHERE name = ?').get(name) as Pick<Row, 'version' | 'file_sha256' | 'digest'> | undefined;
  return row ? { version: row.version, fileSha256: row.file_sha256, digest: row.digest } : undefined;
}

/** Deletes the row of `name`; returns the version it held, if any. Call inside a transaction. */
export function deleteRecord(db: Database, name: string): string | undefined {
  const old = getSummary(db, name);
  if (old) db.prepare('DELETE FROM installed_packages WHERE name = ?').run(name);
  db.prepare('DELETE FROM development_installs WHERE name = ?').run(name);
  return old?.version;
}

/** A transaction whose SQLite failures become coded errors. */
export function indexTransaction<T>(home: string, db: Database, fn: () => T): T {
  return guardDatabase(homePaths(home).db, 'install index', () => transaction(db, fn));
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A row is data on disk like any other: checked before any of it names a file. */
function toRecord(row: Row): InstalledRecord {
  const damaged = (why: string, cause?: unknown): never => {
    throw new MppError('MPP_E_STORE_CORRUPT', `The install index row for ${row.name} is damaged: ${why}.`, {
      hint: `Reinstall the package from its .mpp file, or run \`mpp uninstall ${row.name}\`.`,
      detail: { name: row.name },
      cause,
    });
  };
  let manifest: Manifest;
  try {
    manifest = parseManifest(Buffer.from(row.manifest, 'utf8'));
  } catch (e) {
    return damaged('its manifest does not parse', e);
  }
  if (manifest.name !== row.name || manifest.version !== row.version) damaged('its manifest names another package or version');
  for (const hash of [row.file_sha256, row.digest, row.component_sha256, row.publisher_keyid]) {
    if (!SHA256_HEX.test(hash)) damaged('a hash or key id is malformed');
  }
  return Object.freeze({
    name: row.name,
    version: row.version,
    fileSha256: row.file_sha256,
    digest: row.digest,
    componentSha256: row.component_sha256,
    publisher: Object.freeze({ keyid: row.publisher_keyid, name: row.publisher_name ?? undefined }),
    installedAt: row.installed_at,
    manifest,
    development: row.development === 1,
  });
}
