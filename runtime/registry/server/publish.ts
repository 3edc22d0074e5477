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
import { openRotation, openYank } from '../documents.ts';
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

/**
 * Applies a signed yank statement: it must be signed by the key the name is
 * bound to now, and be newer than the last one accepted for that version
 * (a replayed statement cannot undo a later one) and not from the future.
 */
export function acceptYank(db: Database, statement: Buffer, path: { name: string; version: string; yanked: boolean }, now = new Date()): number {
  const y = openYank(statement);
  if (y.name !== path.name || y.version !== path.version || y.yanked !== path.yanked) {
    throw new MppError('MPP_E_USAGE', `The statement ${y.yanked ? 'yanks' : 'unyanks'} ${y.name}@${y.version}, not what the request path says.`, { hint: 'Post the statement to the path of the version it names.' });
  }
  return transaction(db, () => {
    const current = boundKeys(db, y.name)?.at(-1);
    if (!current || !db.prepare('SELECT 1 FROM versions WHERE name = ? AND version = ?').get(y.name, y.version)) {
      throw new MppError('MPP_E_REGISTRY_NOT_FOUND', `The registry has no ${y.name}@${y.version}.`, { detail: { name: y.name, version: y.version } });
    }
    if (y.keyid !== current) throw publisherMismatch(y.name, current, [y.keyid]);
    const last = db.prepare('SELECT issued_at FROM yank_statements WHERE name = ? AND version = ?').get(y.name, y.version) as { issued_at: string } | undefined;
    if ((last && Date.parse(y.issuedAt) <= Date.parse(last.issued_at)) || Date.parse(y.issuedAt) > now.getTime() + MAX_CLOCK_SKEW_MS) {
      throw new MppError('MPP_E_REGISTRY_BAD_SIGNATURE', `The yank statement for ${y.name}@${y.version} was issued at ${y.issuedAt}, ${last ? `not after the last one accepted (${last.issued_at}): a replay` : 'in the future'}.`, {
        hint: 'Sign a new statement now (`mpp registry yank`).',
      });
    }
    db.prepare('UPDATE versions SET yanked = ? WHERE name = ? AND version = ?').run(y.yanked ? 1 : 0, y.name, y.version);
    db.prepare('INSERT INTO yank_statements (name, version, issued_at, statement) VALUES (?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET issued_at = excluded.issued_at, statement = excluded.statement')
      .run(y.name, y.version, y.issuedAt, statement.toString('utf8'));
    return bumpIndexVersion(db);
  });
}

/** How far ahead of the registry's clock a statement may be dated. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

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
