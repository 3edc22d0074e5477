/**
 * What changes a registry: publish, yank, key rotation. Each is one SQLite
 * transaction that also increments the index version, so every signed index
 * describes exactly one committed state.
 *
 *   publish: examine (the gatekeeper without a trust store) -> an author
 *            signature -> name binding (first publish binds, later ones must
 *            be by the bound key or its rotation successor) -> immutable
 *            version -> blob durable -> row committed
 */
import semver from 'semver';
import { MppError } from '../../errors.ts';
import type { Database } from '../../state/sqlite.ts';
import { transaction } from '../../state/sqlite.ts';
import { refuseDevelopmentPackage } from '../../trust/development.ts';
import { examinePackage } from '../../trust/gatekeeper.ts';
import { fingerprint } from '../../trust/keys.ts';
import { decideTrust } from '../../trust/policy.ts';
import { openRotation } from '../documents.ts';
import { bumpIndexVersion, indexVersion, type Upload, type VersionRow } from './store.ts';
import { parseJson } from '../../format/strict-json.ts';

export interface Published {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  readonly digest: string;
  readonly publisher: string;
  readonly indexVersion: number;
  /** `unchanged`: this very file was published before. */
  readonly change: 'published' | 'unchanged';
}

export function publishUpload(dir: string, db: Database, upload: Upload): Published {
  const bytes = upload.bytes();
  const sha256 = upload.sha256();
  const pkg = examinePackage(bytes);
  refuseDevelopmentPackage(pkg, 'accept');
  const { name, version } = pkg.manifest;
  const authors = pkg.signatures.filter((s) => s.role === 'author');
  if (authors.length === 0) {
    throw new MppError('MPP_E_UNSIGNED', `${name}@${version} has no author signature; a registry only accepts signed packages.`, {
      hint: 'Sign it with `mpp sign <file.mpp> --key <key.pem>` and publish again.',
    });
  }
  return transaction(db, () => {
    const bound = boundKeys(db, name);
    const current = bound?.at(-1) ?? authors.find((a) => !rotatedAway(db, a.key.keyid))?.key.keyid;
    if (!current || !authors.some((a) => a.key.keyid === current)) throw publisherMismatch(name, current, authors.map((a) => a.key.keyid));
    // The registry's policy is the gatekeeper's, with the bound key as the one trusted key.
    decideTrust(pkg.signatures, { state: (k) => (k === current ? 'trusted' : 'unknown'), name: () => undefined });

    const existing = db.prepare('SELECT sha256 FROM versions WHERE name = ? AND version = ?').get(name, version) as { sha256: string } | undefined;
    const result = { name, version, sha256, size: bytes.length, digest: pkg.digest.sha256, publisher: current };
    if (existing) {
      if (existing.sha256 !== sha256) {
        throw new MppError('MPP_E_REGISTRY_VERSION_EXISTS', `${name}@${version} is already published with other content; versions are immutable.`, { detail: { name, version } });
      }
      return { ...result, indexVersion: indexVersion(db), change: 'unchanged' as const };
    }
    upload.finish(dir, sha256);
    const now = new Date().toISOString();
    if (!bound) db.prepare('INSERT INTO names (name, keys, created_at) VALUES (?, ?, ?)').run(name, JSON.stringify([current]), now);
    db.prepare(
      `INSERT INTO versions (name, version, sha256, size, digest, publisher, publisher_name, description, manifest, signatures, published_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(name, version, sha256, bytes.length, pkg.digest.sha256, current, pkg.manifest.publisher.name, pkg.manifest.description,
      Buffer.from(pkg.entries.manifest.data).toString('utf8'), JSON.stringify(pkg.signatures.map((s) => ({ keyid: s.key.keyid, role: s.role }))), now);
    return { ...result, indexVersion: bumpIndexVersion(db), change: 'published' as const };
  });
}

export function setYanked(db: Database, name: string, version: string, yanked: boolean): number {
  return transaction(db, () => {
    const changed = db.prepare('UPDATE versions SET yanked = ? WHERE name = ? AND version = ?').run(yanked ? 1 : 0, name, version).changes;
    if (changed === 0) throw new MppError('MPP_E_REGISTRY_NOT_FOUND', `The registry has no ${name}@${version}.`, { detail: { name, version } });
    return bumpIndexVersion(db);
  });
}

/**
 * Accepts a statement by key A that key B takes over A's names. A key
 * rotates once; B must be new to those names (no cycles).
 */
export function acceptRotation(db: Database, statement: Buffer): { from: string; to: string; names: string[]; indexVersion: number } {
  const r = openRotation(statement);
  return transaction(db, () => {
    if (rotatedAway(db, r.from)) {
      throw new MppError('MPP_E_REGISTRY_PUBLISHER_MISMATCH', `Key ${fingerprint(r.from)} has already been rotated to another key.`, {
        hint: 'A key hands its names over once. Rotate from the current key.',
      });
    }
    const rows = db.prepare('SELECT name, keys FROM names').all() as { name: string; keys: string }[];
    const names = rows.filter((row) => (parseJson(row.keys) as string[]).at(-1) === r.from);
    if (names.length === 0) throw new MppError('MPP_E_REGISTRY_NOT_FOUND', `No name on this registry is bound to ${fingerprint(r.from)}.`, { hint: 'Rotate from the key your packages are published with.' });
    for (const row of names) {
      const keys = parseJson(row.keys) as string[];
      if (keys.includes(r.to)) throw publisherMismatch(row.name, r.from, [r.to]);
      db.prepare('UPDATE names SET keys = ? WHERE name = ?').run(JSON.stringify([...keys, r.to]), row.name);
    }
    db.prepare('INSERT INTO rotations (from_key, to_key, statement, at) VALUES (?, ?, ?, ?)').run(r.from, r.to, statement.toString('utf8'), new Date().toISOString());
    return { from: r.from, to: r.to, names: names.map((n) => n.name), indexVersion: bumpIndexVersion(db) };
  });
}

export function boundKeys(db: Database, name: string): string[] | undefined {
  const row = db.prepare('SELECT keys FROM names WHERE name = ?').get(name) as { keys: string } | undefined;
  return row ? (parseJson(row.keys) as string[]) : undefined;
}

/** A key that handed its names to another may be compromised: it binds no new name. */
function rotatedAway(db: Database, keyid: string): boolean {
  return db.prepare('SELECT 1 FROM rotations WHERE from_key = ?').get(keyid) !== undefined;
}

/** Every version of every name, newest first within a name. */
export function allVersions(db: Database): VersionRow[] {
  const rows = db.prepare('SELECT * FROM versions').all() as unknown as VersionRow[];
  return rows.sort((a, b) => (a.name === b.name ? semver.rcompare(a.version, b.version) : a.name < b.name ? -1 : 1));
}

function publisherMismatch(name: string, bound: string | undefined, offered: string[]): MppError {
  return new MppError('MPP_E_REGISTRY_PUBLISHER_MISMATCH', bound
    ? `${name} is bound to key ${fingerprint(bound)}, and this package is signed by ${offered.map(fingerprint).join(', ')}.`
    : `Every key that signed this package (${offered.map(fingerprint).join(', ')}) has been rotated away.`, {
    detail: { name, ...(bound ? { bound } : {}), offered },
  });
}
