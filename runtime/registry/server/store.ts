/**
 * The registry's storage in its folder (`mpp registry serve --dir`):
 *
 *   registry.db            SQLite: names, versions, rotations, tokens, the index version
 *   blobs/<sha256>.mpp     package files, content-addressed
 *   registry-key.pem       the key that signs the index (0600), and registry-key.pub.pem
 *
 * A publish streams its upload into a temporary file (fsync, rename into
 * place) and then commits the version row in one transaction: the row is the
 * commit point, so a kill at any moment leaves either nothing visible or the
 * whole version. Temporaries and blobs no row names are swept at start.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MppError } from '../../errors.ts';
import { openWithSchema, type Database } from '../../state/sqlite.ts';
import { namesIn } from '../../store/blobs.ts';
import { writeFileAtomic } from '../../store/atomic.ts';
import { generateKey, parsePrivateKeyPem, privateKeyToPem, publicKeyToPem, type PrivateKey } from '../../trust/keys.ts';
import { sha256Hex } from '../../hash.ts';

export interface RegistryPaths {
  readonly db: string;
  readonly blobs: string;
  readonly key: string;
  readonly publicKey: string;
}

export function registryPaths(dir: string): RegistryPaths {
  return Object.freeze({
    db: join(dir, 'registry.db'),
    blobs: join(dir, 'blobs'),
    key: join(dir, 'registry-key.pem'),
    publicKey: join(dir, 'registry-key.pub.pem'),
  });
}

export interface VersionRow {
  name: string;
  version: string;
  sha256: string;
  size: number;
  digest: string;
  publisher: string;
  publisher_name: string;
  description: string;
  manifest: string;
  signatures: string;
  yanked: number;
  published_at: string;
  downloads: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY NOT NULL, keys TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS versions (
  name TEXT NOT NULL REFERENCES names(name),
  version TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  digest TEXT NOT NULL,
  publisher TEXT NOT NULL,
  publisher_name TEXT NOT NULL,
  description TEXT NOT NULL,
  manifest TEXT NOT NULL,
  signatures TEXT NOT NULL,
  yanked INTEGER NOT NULL DEFAULT 0,
  published_at TEXT NOT NULL,
  downloads INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (name, version)
) STRICT;
CREATE INDEX IF NOT EXISTS versions_sha256 ON versions (sha256);
CREATE TABLE IF NOT EXISTS rotations (from_key TEXT PRIMARY KEY NOT NULL, to_key TEXT NOT NULL, statement TEXT NOT NULL, at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS yank_statements (name TEXT NOT NULL, version TEXT NOT NULL, issued_at TEXT NOT NULL, statement TEXT NOT NULL, PRIMARY KEY (name, version)) STRICT;
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;
`;

/** A damaged registry.db stops the server with a coded error naming the file (never as a bug of MPP). */
export function openRegistryDb(dir: string): Database {
  return openWithSchema(registryPaths(dir).db, 'registry database', SCHEMA, { code: 'MPP_E_REGISTRY_STORE_CORRUPT' });
}

/** The current index version; every change to what the index says increments it in the same transaction. */
export function indexVersion(db: Database): number {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'index_version'").get() as { value: number } | undefined;
  return row?.value ?? 0;
}

/** Call inside a transaction. */
export function bumpIndexVersion(db: Database): number {
  const next = indexVersion(db) + 1;
  db.prepare("INSERT INTO meta (key, value) VALUES ('index_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(next);
  return next;
}

/** The registry's signing key, created (0600) the first time the registry serves from `dir`. */
export function loadOrCreateRegistryKey(dir: string): PrivateKey {
  const paths = registryPaths(dir);
  if (existsSync(paths.key)) return parsePrivateKeyPem(readFileSync(paths.key, 'utf8'), paths.key);
  const key = generateKey();
  writeFileAtomic(paths.key, privateKeyToPem(key), 0o600);
  writeFileAtomic(paths.publicKey, publicKeyToPem(key.publicKey));
  return key;
}

/** Tokens are random, shown once, and stored only as their SHA-256. */
export function createToken(dir: string, label: string, now = new Date()): string {
  // A mistyped --dir must not quietly start an empty registry whose tokens the real one never accepts.
  if (!existsSync(registryPaths(dir).key)) {
    throw new MppError('MPP_E_USAGE', `${dir} is not a registry folder (it has no registry-key.pem).`, { hint: 'Start the registry once with `mpp registry serve --dir <dir>`, or pass the folder it serves from.' });
  }
  const token = `mpp_${randomBytes(32).toString('base64url')}`;
  const db = openRegistryDb(dir);
  try {
    db.prepare('INSERT INTO tokens (hash, label, created_at) VALUES (?, ?, ?)').run(sha256Hex(token), label, now.toISOString());
  } finally {
    db.close();
  }
  return token;
}

export function tokenLabel(db: Database, token: string): string | undefined {
  return (db.prepare('SELECT label FROM tokens WHERE hash = ?').get(sha256Hex(token)) as { label: string } | undefined)?.label;
}

const BLOB_RE = /^([0-9a-f]{64})\.mpp$/;

export function blobFile(dir: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RangeError(`expected a lowercase hex SHA-256, got ${JSON.stringify(sha256)}`);
  return join(registryPaths(dir).blobs, `${sha256}.mpp`);
}

/**
 * An upload being received: bytes go to a temporary file as they arrive
 * (hashed on the way), and are kept in memory for the gatekeeper, which needs
 * them whole. `finish` fsyncs and renames; `discard` removes the file.
 */
export class Upload {
  readonly chunks: Buffer[] = [];
  size = 0;
  private readonly hash = createHash('sha256');
  private readonly tmp: string;
  private fd: number | undefined;

  constructor(dir: string) {
    const blobs = registryPaths(dir).blobs;
    mkdirSync(blobs, { recursive: true });
    this.tmp = join(blobs, `.upload-${randomBytes(8).toString('hex')}.tmp`);
    this.fd = openSync(this.tmp, 'wx', 0o644);
  }

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.hash.update(chunk);
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd!, chunk, off);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  /** Makes the blob durable under its content address; the row committed after this is what makes it visible. */
  finish(dir: string, sha256: string): void {
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = undefined;
    renameSync(this.tmp, blobFile(dir, sha256));
    const dirFd = openSync(registryPaths(dir).blobs, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }
}

/**
 * At start, before any request: removes what killed publishes left behind
 * (temporary uploads, and blobs no version row names). Nothing else writes
 * to the folder then, so nothing in progress can be removed.
 */
export function sweepRegistry(dir: string, db: Database): void {
  const named = new Set((db.prepare('SELECT sha256 FROM versions').all() as { sha256: string }[]).map((r) => r.sha256));
  for (const name of namesIn(registryPaths(dir).blobs)) {
    const blob = BLOB_RE.exec(name);
    if (blob ? named.has(blob[1]!) : !name.startsWith('.upload-')) continue;
    rmSync(join(registryPaths(dir).blobs, name), { force: true });
  }
}
