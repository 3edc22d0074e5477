/**
 * Installing a package by name from the configured registries:
 *
 *   route -> signed index (signed-index.ts) -> resolve the range (yanked never)
 *   -> not lower than installed (rollback) -> download bounded by the index's
 *   size, SHA-256 checked against it (mix-and-match, endless data) -> name
 *   binding: the index's publisher key follows from the name's first key and
 *   from the installed version's key by signed rotations -> the gatekeeper
 *   (signatures, trust, revocations) -> the package is the one the index
 *   names (wrong package) -> the install store
 *
 * While every registry is down, a download cached earlier is used if it is
 * what the last signed index seen says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { loadOrgPolicy } from '../../policy/org-policy.ts';
import { refuseSource } from '../../policy/org-rules.ts';
import type { AuditLog } from '../../audit/log.ts';
import type { VerifyEvent } from '../../audit/events.ts';
import { recordInstall, recordRefusal } from '../../audit/trail.ts';
import { MppError, isMppError } from '../../errors.ts';
import { sha256Hex } from '../../hash.ts';
import { homePaths } from '../../home.ts';
import { writeFileAtomic } from '../../store/atomic.ts';
import { installPackage, listInstalled, type InstallResult } from '../../store/packages.ts';
import type { VerifiedPackage } from '../../trust/gatekeeper.ts';
import { PendingTrust } from '../../trust/first-use.ts';
import { TrustStore } from '../../trust/store.ts';
import { checkAcceptedOn, checkContinuity } from '../continuity.ts';
import type { IndexPackage, IndexVersion } from '../documents.ts';
import { loadRegistries, route, type RegistryEntry } from './config.ts';
import { transfer, type Progress, type TransferTiming } from './http.ts';
import { fetchIndex, isUnavailable, lastSeenIndex, type BelievedIndex } from './signed-index.ts';

export interface RegistryInstallOptions {
  readonly range?: string;
  readonly allowDowngrade?: boolean;
  readonly transfer?: TransferTiming;
  readonly onProgress?: (message: string) => void;
  readonly onTransfer?: Progress;
  /**
   * The gatekeeper over `trust` (this host's trust store with the keys held
   * for this install), with trust on first use where a person can be asked
   * (runtime/trust/first-use.ts).
   */
  readonly verify: (bytes: Uint8Array, trust: PendingTrust) => Promise<VerifiedPackage>;
  /** Where keys trusted on the way and refusals are recorded. */
  readonly audit: AuditLog;
  /** Indexes already fetched and checked in this operation, by registry name (one fetch per registry when updating many). */
  readonly indexes?: Map<string, BelievedIndex>;
}

export interface RegistryInstallResult extends InstallResult {
  readonly registry: string;
  /** The file came from the download cache. */
  readonly fromCache: boolean;
  /** Every registry was down: chosen from the last signed index seen. */
  readonly offline: boolean;
  /** The publisher's new key, trusted (once the install passed every check) because the installed version's trusted key signed the rotation to it. */
  readonly trustedByRotation?: string;
}

export interface Resolved {
  readonly believed: BelievedIndex;
  readonly name: string;
  readonly version: string;
  readonly entry: IndexVersion;
  readonly pkg: IndexPackage;
}

export async function installFromRegistry(home: string, name: string, opts: RegistryInstallOptions): Promise<RegistryInstallResult> {
  return withRefusalsRecorded(opts.audit, { package: name }, async () => {
    const progress = opts.onProgress ?? (() => {});
    const installed = listInstalled(home).find((r) => r.name === name);
    const found = await findPackage(home, name, opts, opts.indexes);
    const resolved = resolve(found, name, opts.range ?? '*');
    const { version, entry, believed, pkg } = resolved;
    const registry = believed.registry;
    const source = { kind: 'registry', name: registry.name, keyid: registry.keyid } as const;
    // Before anything is downloaded or trusted: the organisation may not allow this registry.
    refuseSource(loadOrgPolicy(), name, source);
    const trust = new PendingTrust(TrustStore.load(home));
    const candidate = { name, version, publisher: entry.publisher, rotations: pkg.rotations, boundKey: pkg.keys[0]!, source: `Registry "${registry.name}"` };
    const trustedByRotation = checkContinuity(candidate, installed, trust, Boolean(opts.allowDowngrade));

    let bytes = cachedDownload(home, entry);
    const fromCache = bytes !== undefined;
    if (!bytes) {
      if (!believed.fresh) {
        throw new MppError(believed.unavailable?.code ?? 'MPP_E_REGISTRY_UNREACHABLE', `No registry for ${name} can be reached (${believed.unavailable?.message ?? 'offline'}), and ${name}@${version} was never downloaded on this host.`, { detail: { name, version } });
      }
      progress(`downloading ${name}@${version} from ${registry.name}…`);
      bytes = await download(registry, entry, opts);
      writeFileAtomic(join(homePaths(home).downloads, `${entry.sha256}.mpp`), bytes, 0o600);
    }

    const verified = await opts.verify(bytes, trust);
    checkIsIndexed(verified, resolved);
    checkAcceptedOn(verified, candidate);
    const result = await installPackage(home, bytes, { verified, onProgress: progress, source, beforeCommit: () => trust.commit(home, opts.audit) });
    return Object.freeze({ ...result, registry: registry.name, fromCache, offline: !believed.fresh, ...(trustedByRotation ? { trustedByRotation } : {}) });
  });
}

/** Refusals that are no attack and no failure of a registry: a name no registry has, no registry configured, a bad range. */
const NOT_RECORDED = new Set(['MPP_E_REGISTRY_NOT_FOUND', 'MPP_E_REGISTRY_UNKNOWN', 'MPP_E_USAGE']);

/** Every other refusal of an install from a registry (MPP or OCI) is recorded as a failed `verify` of what was asked for. */
export async function withRefusalsRecorded<T>(audit: AuditLog, source: Pick<VerifyEvent, 'package'>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(isMppError(e) && NOT_RECORDED.has(e.code))) recordRefusal(audit, e, source);
    throw e;
  }
}

/**
 * The first routed registry whose signed index lists `name`. A registry that
 * cannot be reached is skipped; one that fails a security check stops the
 * search (fail closed: an attack is reported, not routed around).
 */
export async function findPackage(home: string, name: string, opts: Pick<RegistryInstallOptions, 'transfer'> = {}, fetched?: Map<string, BelievedIndex>): Promise<BelievedIndex> {
  const registries = route(loadRegistries(home), name);
  let down: MppError | undefined;
  for (const registry of registries) {
    try {
      const believed = fetched?.get(registry.name) ?? (await fetchIndex(home, registry, opts.transfer));
      fetched?.set(registry.name, believed);
      if (believed.index.packages[name]) return believed;
    } catch (e) {
      if (!isUnavailable(e)) throw e;
      down ??= e as MppError;
    }
  }
  if (down) {
    for (const registry of registries) {
      const last = lastSeenIndex(home, registry);
      if (last?.index.packages[name]) return { ...last, unavailable: down };
    }
    throw down;
  }
  throw new MppError('MPP_E_REGISTRY_NOT_FOUND', `No registry (${registries.map((r) => r.name).join(', ')}) has a package called ${name}.`, { detail: { name } });
}

export function resolve(believed: BelievedIndex, name: string, range: string): Resolved {
  const pkg = believed.index.packages[name]!;
  if (!semver.validRange(range)) throw new MppError('MPP_E_USAGE', `"${range}" is not a semantic version range.`, { hint: 'Use a version (1.2.3) or a range (^1.2, ~1.2.3, >=1 <2).' });
  const candidates = Object.keys(pkg.versions).filter((v) => !pkg.versions[v]!.yanked);
  const version = semver.maxSatisfying(candidates, range);
  if (!version) {
    const yanked = Object.keys(pkg.versions).filter((v) => pkg.versions[v]!.yanked && semver.satisfies(v, range));
    throw new MppError('MPP_E_REGISTRY_NOT_FOUND', `Registry "${believed.registry.name}" has no version of ${name} that satisfies ${range}${yanked.length ? ` (${yanked.join(', ')} yanked)` : ''}.`, {
      detail: { name, range, available: candidates },
    });
  }
  return { believed, name, version, entry: pkg.versions[version]!, pkg };
}

function cachedDownload(home: string, entry: IndexVersion): Buffer | undefined {
  try {
    const bytes = readFileSync(join(homePaths(home).downloads, `${entry.sha256}.mpp`));
    return bytes.length === entry.size && sha256Hex(bytes) === entry.sha256 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** The download may be at most the signed size, and must hash to the signed SHA-256. */
async function download(registry: RegistryEntry, entry: IndexVersion, opts: RegistryInstallOptions): Promise<Buffer> {
  const res = await transfer(`${registry.url}/v1/blobs/sha256/${entry.sha256}`, { ...opts.transfer, maxBytes: entry.size, ...(opts.onTransfer ? { onProgress: opts.onTransfer } : {}) });
  const actual = sha256Hex(res.body);
  if (res.body.length !== entry.size || actual !== entry.sha256) {
    throw new MppError('MPP_E_REGISTRY_MISMATCH', `Registry "${registry.name}" served a file that is not the one its signed index names (${res.body.length} bytes, sha256 ${actual.slice(0, 12)}…; expected ${entry.size} bytes, ${entry.sha256.slice(0, 12)}…).`, {
      detail: { registry: registry.name, expected: entry.sha256, actual, expectedSize: entry.size, size: res.body.length },
    });
  }
  return res.body;
}

/** Wrong or arbitrary package: the verified package must be exactly the one the signed index names. */
function checkIsIndexed(pkg: VerifiedPackage, r: Resolved): void {
  const { name, version, entry } = r;
  const got = `${pkg.manifest.name}@${pkg.manifest.version}`;
  if (pkg.manifest.name !== name || pkg.manifest.version !== version || pkg.digest.sha256 !== entry.digest) {
    throw new MppError('MPP_E_REGISTRY_MISMATCH', `The registry's file for ${name}@${version} holds ${got} with digest ${pkg.digest.sha256.slice(0, 12)}…, not what its index names.`, {
      detail: { name, version, got, digest: pkg.digest.sha256, expected: entry.digest },
    });
  }
}

export interface Outdated {
  readonly name: string;
  readonly installed: string;
  readonly latest: string;
  readonly registry: string;
}

/**
 * Each installed package a registry has a newer unyanked version of, with
 * the newest. Packages no registry has (installed from a file), or whose
 * installed version is as new or newer, are left out; an unreachable
 * registry is reported through `onUnavailable`.
 */
export async function checkOutdated(home: string, opts: Pick<RegistryInstallOptions, 'transfer'> & { onUnavailable?: (e: unknown, name: string) => void } = {}): Promise<Outdated[]> {
  const out: Outdated[] = [];
  // Each registry's index is fetched and checked once per check, not once per installed package.
  const fetched = new Map<string, BelievedIndex>();
  for (const record of listInstalled(home)) {
    let believed: BelievedIndex;
    try {
      believed = await findPackage(home, record.name, opts, fetched);
    } catch (e) {
      if (isMppError(e) && (e.code === 'MPP_E_REGISTRY_NOT_FOUND' || e.code === 'MPP_E_REGISTRY_UNKNOWN')) continue;
      if (isUnavailable(e)) {
        opts.onUnavailable?.(e, record.name);
        continue;
      }
      throw e;
    }
    const versions = believed.index.packages[record.name]!.versions;
    const latest = semver.maxSatisfying(Object.keys(versions).filter((v) => !versions[v]!.yanked), '*');
    // A version installed from a file may be newer than the registry's: that is no update.
    if (latest && semver.valid(record.version) && semver.gt(latest, record.version)) out.push({ name: record.name, installed: record.version, latest, registry: believed.registry.name });
  }
  return out;
}

/** Failures that stop an update of every package: the host failing, or an install its audit log cannot record. */
const STOPS_UPDATES = new Set(['MPP_E_INTERNAL', 'MPP_E_AUDIT_UNAVAILABLE', 'MPP_E_AUDIT_TAMPERED', 'MPP_E_AUDIT_EVENT_INVALID']);

export interface UpdateReport {
  readonly updated: { name: string; from: string; to: string }[];
  /** Packages no registry has (installed from a file), or none unyanked. */
  readonly unlisted: string[];
  /** Packages that could not be updated (a registry down, a refusal), with the reason. */
  readonly kept: { name: string; code: string; message: string }[];
}

/**
 * Installs the newest unyanked version of each installed package named (or
 * of every one), never a lower one, recording each install in `audit`.
 * Updating named packages fails at the first that cannot be updated;
 * updating all keeps going past a package that cannot be updated and
 * reports it, but stops on a failure of the host or of the audit log
 * (never an install without its record).
 */
export async function updateInstalled(home: string, names: readonly string[] | 'all', optionsFor: (name: string) => RegistryInstallOptions, audit: AuditLog): Promise<UpdateReport> {
  const report: UpdateReport = { updated: [], unlisted: [], kept: [] };
  const indexes = new Map<string, BelievedIndex>();
  for (const record of listInstalled(home).filter((r) => names === 'all' || names.includes(r.name))) {
    try {
      const r = await installFromRegistry(home, record.name, { ...optionsFor(record.name), indexes });
      recordInstall(audit, r, r.registry);
      if (r.change !== 'unchanged') report.updated.push({ name: r.name, from: record.version, to: r.version });
    } catch (e) {
      if (names !== 'all' || !isMppError(e) || STOPS_UPDATES.has(e.code)) throw e;
      if (e.code === 'MPP_E_REGISTRY_NOT_FOUND') report.unlisted.push(record.name);
      else report.kept.push({ name: record.name, code: e.code, message: e.message });
    }
  }
  return report;
}
