/**
 * Fetching a registry's signed index and deciding whether to believe it:
 *
 *   fetch (bounded) -> signature by the pinned key -> schema -> not expired
 *   (freeze) -> version not lower than the last seen, and the same version
 *   only with the same bytes (rollback) -> every version seen before still
 *   listed with the same file (rollback, immutability) -> remembered
 *
 * What was believed is kept in $MPP_HOME/registry.db per registry key, so
 * that a later answer can be compared with it and installs can fall back to
 * cached downloads while the registry is down.
 */
import { MppError, isMppError } from '../../errors.ts';
import { homePaths } from '../../home.ts';
import { sha256Hex } from '../../hash.ts';
import { openWithSchema, transaction, type Database } from '../../state/sqlite.ts';
import { openIndex, type RegistryIndex } from '../documents.ts';
import { pinnedKey, type RegistryEntry } from './config.ts';
import { transfer, type TransferTiming } from './http.ts';

const MAX_INDEX_BYTES = 32 * 1024 * 1024;

export interface BelievedIndex {
  readonly registry: RegistryEntry;
  readonly index: RegistryIndex;
  /** False when read from the last one seen, because the registry could not be reached. */
  readonly fresh: boolean;
  /** Why the registry could not be reached, when not fresh. */
  readonly unavailable?: MppError;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS seen_index (registry TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, envelope BLOB NOT NULL, fetched_at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS seen_versions (registry TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (registry, name, version)) STRICT;
`;

function openState(home: string): Database {
  return openWithSchema(homePaths(home).registryState, 'registry state', SCHEMA, { code: 'MPP_E_REGISTRY_CONFIG_CORRUPT' });
}

export async function fetchIndex(home: string, registry: RegistryEntry, opts: TransferTiming = {}, now = new Date()): Promise<BelievedIndex> {
  const res = await transfer(`${registry.url}/v1/index`, { ...opts, maxBytes: MAX_INDEX_BYTES });
  return believe(home, registry, res.body, now);
}

/** Every check of a fetched index, then remembering it. */
function believe(home: string, registry: RegistryEntry, bytes: Buffer, now = new Date()): BelievedIndex {
  const index = openIndex(bytes, pinnedKey(registry));
  if (Date.parse(index.expires) <= now.getTime()) {
    throw new MppError('MPP_E_REGISTRY_EXPIRED', `The index of registry "${registry.name}" expired at ${index.expires}; a registry serving an expired index may be hiding newer versions (freeze).`, {
      detail: { registry: registry.name, expires: index.expires, version: index.version },
    });
  }
  const sha256 = sha256Hex(bytes);
  const db = openState(home);
  try {
    transaction(db, () => {
      const last = db.prepare('SELECT version, sha256 FROM seen_index WHERE registry = ?').get(registry.keyid) as { version: number; sha256: string } | undefined;
      if (last && (index.version < last.version || (index.version === last.version && sha256 !== last.sha256))) {
        throw rollback(registry, `it is version ${index.version}${index.version === last.version ? ' with other content than' : ', older than'} version ${last.version} seen before`, { seen: last.version, got: index.version });
      }
      const seen = db.prepare('SELECT name, version, sha256 FROM seen_versions WHERE registry = ?').all(registry.keyid) as { name: string; version: string; sha256: string }[];
      for (const s of seen) {
        const entry = index.packages[s.name]?.versions[s.version];
        if (!entry) throw rollback(registry, `it no longer lists ${s.name}@${s.version}, which it listed before`, { name: s.name, version: s.version });
        if (entry.sha256 !== s.sha256) throw rollback(registry, `it lists ${s.name}@${s.version} with another file than before (versions are immutable)`, { name: s.name, version: s.version });
      }
      db.prepare('INSERT INTO seen_index (registry, version, sha256, envelope, fetched_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(registry) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, envelope = excluded.envelope, fetched_at = excluded.fetched_at')
        .run(registry.keyid, index.version, sha256, bytes, now.toISOString());
      const insert = db.prepare('INSERT OR IGNORE INTO seen_versions (registry, name, version, sha256) VALUES (?, ?, ?, ?)');
      for (const [name, pkg] of Object.entries(index.packages)) for (const [version, v] of Object.entries(pkg.versions)) insert.run(registry.keyid, name, version, v.sha256);
    });
  } finally {
    db.close();
  }
  return { registry, index, fresh: true };
}

/**
 * The last index believed from `registry`, signature checked again (the
 * state file is not trusted more than the network), expiry not: it is what
 * was true when last seen, used only to match cached downloads.
 */
export function lastSeenIndex(home: string, registry: RegistryEntry): BelievedIndex | undefined {
  const db = openState(home);
  let row: { envelope: Uint8Array } | undefined;
  try {
    row = db.prepare('SELECT envelope FROM seen_index WHERE registry = ?').get(registry.keyid) as { envelope: Uint8Array } | undefined;
  } finally {
    db.close();
  }
  return row ? { registry, index: openIndex(row.envelope, pinnedKey(registry)), fresh: false } : undefined;
}

/** Whether a refusal only means "not reachable now" (then the next registry, or the cache, may answer). */
export function isUnavailable(e: unknown): boolean {
  return isMppError(e) && (e.code === 'MPP_E_REGISTRY_UNREACHABLE' || e.code === 'MPP_E_REGISTRY_TIMEOUT');
}

function rollback(registry: RegistryEntry, why: string, detail: Record<string, unknown>): MppError {
  return new MppError('MPP_E_REGISTRY_ROLLBACK', `The index of registry "${registry.name}" is refused: ${why} (rollback).`, { detail: { registry: registry.name, ...detail } });
}
