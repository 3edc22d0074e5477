import type { Database } from '../../state/sqlite.ts';
import { transaction } from '../../state/sqlite.ts';
import type { PrivateKey } from '../../trust/keys.ts';
import { INDEX_KIND, INDEX_PAYLOAD_TYPE, signDocument, type IndexPackage, type IndexVersion, type RegistryIndex } from '../documents.ts';
import { allVersions } from './publish.ts';
import { bumpIndexVersion, indexVersion } from './store.ts';
import { parseJson } from '../../format/strict-json.ts';

/**
 * The signed index, re-signed when the registry changes and when half its
 * lifetime has passed. A re-signing also takes a new version number: two
 * different documents never carry the same version, so a client can compare
 * versions alone (and refuse an equal version with other content).
 */
export class IndexSigner {
  private cached: { version: number; issuedAt: number; bytes: Buffer } | undefined;
  private readonly db: Database;
  private readonly key: PrivateKey;
  private readonly ttlMs: number;

  constructor(db: Database, key: PrivateKey, ttlMs: number) {
    this.db = db;
    this.key = key;
    this.ttlMs = ttlMs;
  }

  current(now = Date.now()): Buffer {
    let version = indexVersion(this.db);
    const stale = !this.cached || now - this.cached.issuedAt > this.ttlMs / 2;
    if (this.cached && this.cached.version === version && !stale) return this.cached.bytes;
    // Every newly signed document takes a new version (after a restart too: a client that saw the
    // old document under this number would rightly call the new one a rollback), unless a publish just took one.
    if (!this.cached || this.cached.version === version) version = transaction(this.db, () => bumpIndexVersion(this.db));
    const doc = buildIndex(this.db, version, now, this.ttlMs);
    this.cached = { version, issuedAt: now, bytes: signDocument(this.key, INDEX_PAYLOAD_TYPE, doc) };
    return this.cached.bytes;
  }
}

function buildIndex(db: Database, version: number, now: number, ttlMs: number): RegistryIndex {
  const packages: Record<string, { keys: string[]; rotations: string[]; versions: Record<string, IndexVersion> }> = {};
  const names = db.prepare('SELECT name, keys FROM names ORDER BY name').all() as { name: string; keys: string }[];
  const statements = new Map((db.prepare('SELECT from_key, statement FROM rotations').all() as { from_key: string; statement: string }[]).map((r) => [r.from_key, r.statement]));
  for (const n of names) {
    const keys = parseJson(n.keys) as string[];
    packages[n.name] = { keys, rotations: keys.slice(0, -1).map((k) => statements.get(k)!), versions: {} };
  }
  for (const v of allVersions(db)) {
    packages[v.name]!.versions[v.version] = { sha256: v.sha256, size: v.size, digest: v.digest, publisher: v.publisher, yanked: v.yanked === 1, publishedAt: v.published_at };
  }
  return {
    _type: INDEX_KIND,
    version,
    issuedAt: new Date(now).toISOString(),
    expires: new Date(now + ttlMs).toISOString(),
    packages: packages as Record<string, IndexPackage>,
  };
}
