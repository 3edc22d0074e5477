/**
 * The local install store:
 *
 *   install:   verify -> transpile into the component cache -> store the blob
 *              -> commit the row (one IMMEDIATE transaction) -> reclaim
 *   load:      row -> blob -> hash == recorded -> verify again -> digest == recorded
 *   uninstall: delete the row -> reclaim -> (purge) KV data
 *
 * Crash safety: blobs and cache entries appear atomically (rename) and are
 * written before the row that names them, and the row is the commit point, so
 * a kill at any moment leaves the old install or the new one; what a killed
 * install wrote before its commit is an orphan, removed by the next reclaim.
 * Concurrency: SQLite's write lock orders commits and reclaims, and an install
 * re-checks its blob under that lock, so a reclaim in another process cannot
 * remove a blob between its write and the commit naming it.
 */
import { existsSync } from 'node:fs';
import semver from 'semver';
import { MppError } from '../errors.ts';
import { homePaths, kvDatabasePath } from '../home.ts';
import { transpileComponent } from '../sandbox/prepare.ts';
import { deleteKvData } from '../state/kv.ts';
import { guardDatabase, type Database } from '../state/sqlite.ts';
import { assertVerified, verifyPackage, type VerifiedPackage } from '../trust/gatekeeper.ts';
import { entrySha256 } from '../trust/digest.ts';
import { COMPONENT_ENTRY } from '../format/layout.ts';
import { PACKAGE_NAME_RE } from '../format/manifest.ts';
import type { TrustView } from '../trust/store.ts';
import { sha256Hex } from '../hash.ts';
import { hasBlob, putBlob, readBlob } from './blobs.ts';
import { allRecords, deleteRecord, getRecord, getSummary, indexExists, indexTransaction, openIndex, putRecord, type InstalledRecord, type RecordSummary } from './installed-index.ts';
import { oweRecord } from './audit-owed.ts';
import { installEvent } from '../audit/events.ts';
import { reclaim } from './reclaim.ts';
import { GrantStore } from '../state/grants.ts';
import { loadOrgPolicy } from '../policy/org-policy.ts';
import { refuseInstall, type InstallSource } from '../policy/org-rules.ts';

export type { InstalledRecord } from './installed-index.ts';

export type InstallChange = 'installed' | 'unchanged' | 'upgraded' | 'downgraded' | 'replaced';

export interface InstallResult extends InstalledRecord {
  /** `unchanged`: this very file was installed already; `replaced`: same version and content, other signatures. */
  readonly change: InstallChange;
  readonly previousVersion?: string;
  /** The audit record this change owes (audit-owed.ts), settled by recordInstall. */
  readonly owedRecord?: number;
}

export type InstallOptions = (
  | { readonly trust: TrustView }
  /** The result of verifying exactly these bytes (a caller that verified first, e.g. to ask about a new key): not done again. */
  | { readonly verified: VerifiedPackage }
) & {
  readonly onProgress?: (message: string) => void;
  /** Runs once every check passed (the component prepared, the blob stored), right before the commit: e.g. trusting the keys held for this install. */
  readonly beforeCommit?: () => Promise<void>;
  /** Where the bytes came from, for the organisation policy's `sources` rules (default: a file). */
  readonly source?: InstallSource;
};

export interface LoadedPackage {
  readonly record: InstalledRecord;
  readonly pkg: VerifiedPackage;
  readonly bytes: Uint8Array;
}

export interface UninstallResult {
  /** The version that was removed; undefined when only leftover KV data was purged. */
  readonly version: string | undefined;
  /** Whether KV data existed and was deleted. */
  readonly purged: boolean;
  /** The audit record the removal owes, settled by recordUninstall. */
  readonly owedRecord?: number;
}


export async function installPackage(home: string, bytes: Uint8Array, opts: InstallOptions): Promise<InstallResult> {
  const progress = opts.onProgress ?? (() => {});
  progress('verifying…');
  const pkg = 'verified' in opts ? opts.verified : verifyPackage(bytes, opts.trust);
  assertVerified(pkg);
  // Stored entries are views into the bytes they were read from: a package verified from other bytes is a caller's bug.
  if (pkg.entries.component.data.buffer !== bytes.buffer) throw new MppError('MPP_E_INTERNAL', 'installPackage was given a package verified from other bytes.');
  const { name, version } = pkg.manifest;
  // Before anything is prepared or stored: a package the organisation does not allow leaves nothing behind.
  refuseInstall(loadOrgPolicy(), { name, version, publisherKeyid: pkg.publisher.keyid }, opts.source ?? { kind: 'file' });

  // Before anything is stored: a component this host cannot run is refused
  // without leaving a blob, and an installed package starts without jco.
  progress('preparing the component (the first time takes a few seconds)…');
  const component = await transpileComponent(pkg.entries.component.data, homePaths(home).componentCache, entrySha256(pkg.digest, COMPONENT_ENTRY));

  progress('storing…');
  const fileSha256 = sha256Hex(bytes);
  putBlob(home, bytes, fileSha256);

  const record: InstalledRecord = Object.freeze({
    name,
    version,
    fileSha256,
    digest: pkg.digest.sha256,
    componentSha256: component.digest,
    publisher: pkg.publisher,
    installedAt: new Date().toISOString(),
    manifest: pkg.manifest,
    development: pkg.development,
  });
  const manifestText = Buffer.from(pkg.entries.manifest.data).toString('utf8');

  // The commit point. Returns what changed; throws, changing nothing, on a conflict.
  const commit = (db: Database): InstallResult =>
    indexTransaction(home, db, () => {
      const old = getSummary(db, name);
      if (old?.fileSha256 === fileSha256) return { ...(getRecord(db, name) ?? record), change: 'unchanged' as const };
      // Versions are immutable, except that a development build replaces whatever its author installed under its version.
      if (old && old.version === version && old.digest !== record.digest && !record.development) throw versionConflict(old, record);
      // Under the write lock no reclaim can run: if a reclaim in another
      // process removed our blob before we got the lock, write it again now.
      if (!hasBlob(home, fileSha256)) putBlob(home, bytes, fileSha256);
      putRecord(db, record, manifestText);
      // A damaged row's version may not even parse: then this simply replaces it.
      const change = !old ? 'installed' : old.version === version ? 'replaced' : !semver.valid(old.version) ? 'replaced' : semver.gt(version, old.version) ? 'upgraded' : 'downgraded';
      // Owed in the commit itself: a process killed before it appends the record leaves it to the next one.
      const owedRecord = oweRecord(db, installEvent(record, change));
      return { ...record, change, ...(old ? { previousVersion: old.version } : {}), owedRecord };
    });

  await opts.beforeCommit?.();
  progress('recording…');
  const db = openIndex(home);
  try {
    let result: InstallResult;
    try {
      result = commit(db);
    } catch (e) {
      reclaimQuietly(home, db); // drops the blob stored above unless a row needs it
      throw e;
    }
    reclaimQuietly(home, db);
    return Object.freeze(result);
  } finally {
    db.close();
  }
}

/** Every installed package, sorted by name. Creates nothing when nothing was ever installed. */
export function listInstalled(home: string): InstalledRecord[] {
  if (!indexExists(home)) return [];
  const db = openIndex(home);
  try {
    return allRecords(db);
  } finally {
    db.close();
  }
}

/**
 * The installed package `name`, verified again as if it were new (zero
 * trust: the trust store may have changed, the blob may have been edited),
 * and checked to be the very package that was installed.
 */
export function loadInstalled(home: string, name: string, trust: TrustView): LoadedPackage {
  checkName(name);
  if (!indexExists(home)) throw notInstalled(name);
  const db = openIndex(home);
  let record: InstalledRecord | undefined;
  let bytes: Buffer | null = null;
  try {
    // An upgrade in another process may replace the row and reclaim the old
    // blob between our two reads: read the row again before calling it missing.
    for (let attempt = 0; attempt < 3 && bytes === null; attempt++) {
      const current = getRecord(db, name);
      if (!current) throw notInstalled(name);
      if (record && current.fileSha256 === record.fileSha256) break;
      record = current;
      bytes = readBlob(home, record.fileSha256);
    }
  } finally {
    db.close();
  }
  if (!record) throw notInstalled(name);
  if (bytes === null) throw storeCorrupt(record, 'its file is missing from the store');
  const actual = sha256Hex(bytes);
  if (actual !== record.fileSha256) throw storeCorrupt(record, 'its file was changed on disk after it was installed', { expected: record.fileSha256, actual });
  const pkg = verifyPackage(bytes, trust);
  if (pkg.digest.sha256 !== record.digest || pkg.manifest.name !== record.name || pkg.manifest.version !== record.version) {
    throw storeCorrupt(record, 'its file holds another package than the one recorded', { expected: record.digest, actual: pkg.digest.sha256 });
  }
  return Object.freeze({ record, pkg, bytes });
}

/**
 * What the index holds for `name` now (its version and hashes), without
 * reading package bytes or parsing the row's manifest.
 */
export function installedSummary(home: string, name: string, held?: Database): RecordSummary {
  checkName(name);
  if (!indexExists(home)) throw notInstalled(name);
  const db = held ?? openIndex(home);
  try {
    const summary = guardDatabase(homePaths(home).db, 'install index', () => getSummary(db, name));
    if (!summary) throw notInstalled(name);
    return summary;
  } finally {
    if (!held) db.close();
  }
}

/**
 * Removes `name`. Its key-value data stays unless `purge`. Purging the data of
 * a package that is no longer installed is allowed, so a purge interrupted
 * after the row was deleted can be finished by running it again.
 */
export async function uninstallPackage(home: string, name: string, opts: { purge?: boolean } = {}): Promise<UninstallResult> {
  checkName(name);
  let removed: string | undefined;
  let owedRecord: number | undefined;
  if (indexExists(home)) {
    const db = openIndex(home);
    try {
      [removed, owedRecord] = indexTransaction(home, db, () => {
        const version = deleteRecord(db, name);
        return [version, version === undefined ? undefined : oweRecord(db, { type: 'uninstall', package: name, version, purge: Boolean(opts.purge) })] as const;
      });
      if (removed) reclaimQuietly(home, db);
    } finally {
      db.close();
    }
  }
  if (!removed && !(opts.purge && existsSync(kvDatabasePath(home, name)))) throw notInstalled(name);
  const purged = opts.purge ? deleteKvData(home, name) : false;
  // Permission decisions outlive a plain uninstall (a reinstall keeps them), like data; a purge forgets them.
  if (opts.purge && indexExists(home)) {
    const grants = GrantStore.open(home);
    try {
      grants.forget(name);
    } finally {
      grants.close();
    }
  }
  return Object.freeze({ version: removed, purged, ...(owedRecord !== undefined ? { owedRecord } : {}) });
}

/**
 * Cleanup after the commit point: its failure must not turn a done install
 * or uninstall into a reported failure, and the next reclaim retries it.
 */
function reclaimQuietly(home: string, db: Database): void {
  try {
    reclaim(home, db);
  } catch {
    // Orphans are harmless until then.
  }
}

/** Names reach file paths (KV data): only the manifest's name syntax gets that far. */
function checkName(name: string): void {
  if (typeof name !== 'string' || !PACKAGE_NAME_RE.test(name)) {
    throw new MppError('MPP_E_USAGE', `"${name}" is not a package name.`, {
      hint: 'Give the name as scope/name in lowercase, as `mpp list` shows it.',
      detail: { name },
    });
  }
}

function notInstalled(name: string): MppError {
  return new MppError('MPP_E_NOT_INSTALLED', `${name} is not installed.`, {
    hint: 'See what is installed with `mpp list`; install a package with `mpp install <file.mpp>`.',
    detail: { name },
  });
}

function storeCorrupt(record: InstalledRecord, why: string, detail: Record<string, unknown> = {}): MppError {
  return new MppError('MPP_E_STORE_CORRUPT', `The installed copy of ${record.name}@${record.version} is refused: ${why}.`, {
    hint: 'If you did not change it yourself, something else on this machine did. Reinstall the package from a file you trust (`mpp install <file.mpp>`).',
    detail: { name: record.name, version: record.version, ...detail },
  });
}

function versionConflict(old: RecordSummary, incoming: InstalledRecord): MppError {
  return new MppError('MPP_E_VERSION_CONFLICT', `${incoming.name}@${old.version} is already installed with other content (digest ${old.digest.slice(0, 12)}…, this file has ${incoming.digest.slice(0, 12)}…).`, {
    hint: 'A version names one content. Publishers: bump the version. To replace it anyway: `mpp uninstall` it first (its data is kept).',
    detail: { name: incoming.name, version: old.version, installed: old.digest, incoming: incoming.digest },
  });
}
