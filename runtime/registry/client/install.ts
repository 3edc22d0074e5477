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
import { recordInstall } from '../../audit/trail.ts';
import { MppError, isMppError } from '../../errors.ts';
import { sha256Hex } from '../../hash.ts';
import { homePaths } from '../../home.ts';
import { writeFileAtomic } from '../../store/atomic.ts';
import { installPackage, listInstalled, type InstallResult, type InstalledRecord } from '../../store/packages.ts';
import type { VerifiedPackage } from '../../trust/gatekeeper.ts';
import { fingerprint, publicKeyFromSpki } from '../../trust/keys.ts';
import { TrustStore, addTrustedKey } from '../../trust/store.ts';
import { openRotation, rotationLeadsTo, type IndexPackage, type IndexVersion } from '../documents.ts';
import { loadRegistries, route, type RegistryEntry } from './config.ts';
import { transfer, type Progress, type TransferOptions } from './http.ts';
import { fetchIndex, isUnavailable, lastSeenIndex, type BelievedIndex } from './signed-index.ts';

export interface RegistryInstallOptions {
  readonly range?: string;
  readonly allowDowngrade?: boolean;
  readonly transfer?: Pick<TransferOptions, 'timeoutMs' | 'idleTimeoutMs'>;
  readonly onProgress?: (message: string) => void;
  readonly onTransfer?: Progress;
  /** The gatekeeper with this host's trust (the CLI adds trust on first use at a terminal). */
  readonly verify: (bytes: Uint8Array) => Promise<VerifiedPackage>;
  /** Indexes already fetched and checked in this operation, by registry name (one fetch per registry when updating many). */
  readonly indexes?: Map<string, BelievedIndex>;
}

export interface RegistryInstallResult extends InstallResult {
  readonly registry: string;
  /** The file came from the download cache. */
  readonly fromCache: boolean;
  /** Every registry was down: chosen from the last signed index seen. */
  readonly offline: boolean;
  /** The publisher's new key, trusted because the installed version's trusted key signed the rotation to it. */
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
  const progress = opts.onProgress ?? (() => {});
  const installed = listInstalled(home).find((r) => r.name === name);
  const found = await findPackage(home, name, opts, opts.indexes);
  const resolved = resolve(found, name, opts.range ?? '*');
  const { version, entry, believed } = resolved;
  const registry = believed.registry;
  refuseDowngrade(installed, version, Boolean(opts.allowDowngrade), `Registry "${registry.name}"`);
  const source = { kind: 'registry', name: registry.name, keyid: registry.keyid } as const;
  refuseSource(loadOrgPolicy(), name, source);

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

  const trustedByRotation = await checkKeyContinuity(home, resolved, installed);
  const verified = await opts.verify(bytes);
  checkIsIndexed(verified, resolved);
  const result = await installPackage(home, bytes, { verified, onProgress: progress, source });
  return Object.freeze({ ...result, registry: registry.name, fromCache, offline: !believed.fresh, ...(trustedByRotation ? { trustedByRotation } : {}) });
}

/** Never a lower version than the installed one (a rollback or freeze), unless the user asks for it. */
export function refuseDowngrade(installed: InstalledRecord | undefined, version: string, allow: boolean, source: string): void {
  if (!installed || allow || !semver.valid(installed.version) || !semver.lt(version, installed.version)) return;
  throw new MppError('MPP_E_REGISTRY_DOWNGRADE', `${source} offers ${installed.name}@${version}, lower than the installed ${installed.version}.`, {
    detail: { name: installed.name, installed: installed.version, offered: version },
  });
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

/**
 * The index's publisher key must follow, by rotation statements this host
 * verifies itself, from the key the name was first bound to and from the key
 * the installed version was accepted on. When the installed key is trusted
 * and it rotated to the new key, the new key is trusted under the same name.
 */
async function checkKeyContinuity(home: string, r: Resolved, installed: InstalledRecord | undefined): Promise<string | undefined> {
  const { pkg, entry, name, version } = r;
  const mismatch = (from: string) => new MppError('MPP_E_REGISTRY_PUBLISHER_MISMATCH', `${name}@${version} is published with key ${fingerprint(entry.publisher)}, and no rotation signed by ${fingerprint(from)} leads to it.`, {
    detail: { name, version, from, publisher: entry.publisher },
  });
  if (!rotationLeadsTo(pkg.rotations, pkg.keys[0]!, entry.publisher)) throw mismatch(pkg.keys[0]!);
  if (!installed || installed.publisher.keyid === entry.publisher) return undefined;
  if (!rotationLeadsTo(pkg.rotations, installed.publisher.keyid, entry.publisher)) throw mismatch(installed.publisher.keyid);
  // A stolen key can sign a rotation to the thief's key: a hand-over by a revoked key is refused.
  const trust = TrustStore.load(home);
  const steps = pkg.rotations.map((s) => openRotation(Buffer.from(s, 'utf8')));
  for (let at = installed.publisher.keyid, step = steps.find((s) => s.from === at); step && at !== entry.publisher; at = step.to, step = steps.find((s) => s.from === at)) {
    if (trust.state(step.from) === 'revoked') {
      throw new MppError('MPP_E_REVOKED_KEY', `${name}@${version} is published with a key that revoked key ${fingerprint(step.from)} handed the name to.`, {
        hint: 'Do not install it. Get the publisher\'s current key through another channel and trust it explicitly if it is genuine.',
        detail: { name, version, revoked: step.from, publisher: entry.publisher },
      });
    }
  }
  if (trust.state(installed.publisher.keyid) !== 'trusted' || trust.state(entry.publisher) !== 'unknown') return undefined;
  const statement = steps.find((s) => s.to === entry.publisher)!;
  await addTrustedKey(home, publicKeyFromSpki(Buffer.from(statement.toPublicKey, 'base64')), trust.name(installed.publisher.keyid) ?? installed.manifest.publisher.name);
  return entry.publisher;
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
  if (pkg.publisher.keyid !== entry.publisher) {
    throw new MppError('MPP_E_REGISTRY_PUBLISHER_MISMATCH', `${name}@${version} was accepted here on key ${fingerprint(pkg.publisher.keyid)}, but the registry bound it to ${fingerprint(entry.publisher)}.`, {
      detail: { name, version, publisher: pkg.publisher.keyid, bound: entry.publisher },
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
