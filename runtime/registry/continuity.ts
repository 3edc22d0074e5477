/**
 * What every install from a registry (an MPP registry or an OCI one) keeps
 * with what is installed, one check for both paths: never a lower version
 * (unless asked), and the publisher key follows by signed rotation
 * statements, verified here, from the key the name is bound to and from the
 * key the installed version was accepted on. A key handed over by the
 * installed version's trusted key is held in `trust`, trusted only once the
 * install passed every check.
 */
import semver from 'semver';
import { MppError } from '../errors.ts';
import type { InstalledRecord } from '../store/packages.ts';
import type { PendingTrust } from '../trust/first-use.ts';
import type { VerifiedPackage } from '../trust/gatekeeper.ts';
import { fingerprint, publicKeyFromSpki } from '../trust/keys.ts';
import { openRotation, rotationLeadsTo } from './documents.ts';

export interface Candidate {
  readonly name: string;
  readonly version: string;
  /** The key the new version is published with. */
  readonly publisher: string;
  /** Rotation statements offered with it (attacker-controlled until verified). */
  readonly rotations: readonly string[];
  /** The key the registry bound the name to first (an MPP registry's index; OCI has none). */
  readonly boundKey?: string;
  /** Who offers it, for messages ("Registry "main"", an OCI host). */
  readonly source: string;
}

/** Returns the new key held for trust by a rotation, if one was. */
export function checkContinuity(c: Candidate, installed: InstalledRecord | undefined, trust: PendingTrust, allowDowngrade: boolean): string | undefined {
  refuseDowngrade(installed, c.version, allowDowngrade, c.source);
  const { name, version, publisher, rotations } = c;
  const mismatch = (from: string) => new MppError('MPP_E_REGISTRY_PUBLISHER_MISMATCH', `${name}@${version} is published with key ${fingerprint(publisher)}, and no rotation signed by ${fingerprint(from)} leads to it.`, {
    detail: { name, version, from, publisher },
  });
  if (c.boundKey !== undefined && !rotationLeadsTo(rotations, c.boundKey, publisher)) throw mismatch(c.boundKey);
  if (!installed || installed.publisher.keyid === publisher) return undefined;
  if (!rotationLeadsTo(rotations, installed.publisher.keyid, publisher)) throw mismatch(installed.publisher.keyid);
  // A stolen key can sign a rotation to the thief's key: a hand-over by a revoked key is refused.
  const steps = rotations.map((s) => openRotation(Buffer.from(s, 'utf8')));
  for (let at = installed.publisher.keyid, step = steps.find((s) => s.from === at); step && at !== publisher; at = step.to, step = steps.find((s) => s.from === at)) {
    if (trust.state(step.from) === 'revoked') {
      throw new MppError('MPP_E_REVOKED_KEY', `${name}@${version} is published with a key that revoked key ${fingerprint(step.from)} handed the name to.`, {
        hint: 'Do not install it. Get the publisher\'s current key through another channel and trust it explicitly if it is genuine.',
        detail: { name, version, revoked: step.from, publisher },
      });
    }
  }
  if (trust.state(installed.publisher.keyid) !== 'trusted' || trust.state(publisher) !== 'unknown') return undefined;
  const statement = steps.find((s) => s.to === publisher)!;
  trust.hold({ key: publicKeyFromSpki(Buffer.from(statement.toPublicKey, 'base64')), name: trust.name(installed.publisher.keyid) ?? installed.manifest.publisher.name, via: 'rotation', from: statement.from });
  return publisher;
}

/** Never a lower version than the installed one (a rollback or freeze), unless the user asks for it. */
export function refuseDowngrade(installed: InstalledRecord | undefined, version: string, allow: boolean, source: string): void {
  if (!installed || allow || !semver.valid(installed.version) || !semver.lt(version, installed.version)) return;
  throw new MppError('MPP_E_REGISTRY_DOWNGRADE', `${source} offers ${installed.name}@${version}, lower than the installed ${installed.version}.`, {
    detail: { name: installed.name, installed: installed.version, offered: version },
  });
}

/** The gatekeeper must have accepted the package on the very key the continuity was checked for. */
export function checkAcceptedOn(pkg: VerifiedPackage, c: Pick<Candidate, 'name' | 'version' | 'publisher'>): void {
  if (pkg.publisher.keyid === c.publisher) return;
  throw new MppError('MPP_E_REGISTRY_PUBLISHER_MISMATCH', `${c.name}@${c.version} was accepted here on key ${fingerprint(pkg.publisher.keyid)}, but it is bound to ${fingerprint(c.publisher)}.`, {
    detail: { name: c.name, version: c.version, publisher: pkg.publisher.keyid, bound: c.publisher },
  });
}
