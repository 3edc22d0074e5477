import { MppError } from '../errors.ts';
import { DEFAULT_LIMITS, type ArchiveLimits } from '../format/layout.ts';
import { parseManifest, type Manifest } from '../format/manifest.ts';
import { checkLayout, type PackageEntries } from '../format/package.ts';
import { readArchive } from '../format/read.ts';
import { checkToolComponent } from '../format/world.ts';
import { packageDigest, type PackageDigest } from './digest.ts';
import { openEnvelope, type VerifiedSignature } from './envelope.ts';
import { fingerprint } from './keys.ts';
import { decideTrust, type TrustDecision } from './policy.ts';
import type { TrustView } from './store.ts';

/** A package whose structure, manifest and signature cryptography are sound; trust not yet decided. */
export interface ExaminedPackage {
  readonly entries: PackageEntries;
  readonly manifest: Manifest;
  readonly digest: PackageDigest;
  readonly signatures: readonly VerifiedSignature[];
  /** A development build (spec/format.md): trusted only on a key scoped to this package, never signed with `mpp sign` or published. */
  readonly development: boolean;
}

/** Named only here, so no other module can write a VerifiedPackage literal. */
declare const verifiedBrand: unique symbol;

/** The gatekeeper's output: the only kind of package the rest of MPP accepts. */
export interface VerifiedPackage extends ExaminedPackage, TrustDecision {
  readonly [verifiedBrand]: true;
}

/** The objects verifyPackage returned: a copy or a look-alike of one is not in it (checked at run time, whatever the types say). */
const issued = new WeakSet<object>();

/** For the stages that act on a package (install, invoke): refuses anything the gatekeeper did not return. */
export function assertVerified(pkg: VerifiedPackage): void {
  if (!issued.has(pkg)) {
    throw new MppError('MPP_E_INTERNAL', 'A package was used that the gatekeeper did not verify.', { hint: 'This is a bug in the code that called MPP: pass the object verifyPackage returned.' });
  }
}

/**
 * The gatekeeper: bytes in, a VerifiedPackage out, or an MppError with its code.
 * Runs on every load (zero trust), so each stage touches the bytes at most once.
 */
export function verifyPackage(bytes: Uint8Array, trust: TrustView, limits: ArchiveLimits = DEFAULT_LIMITS): VerifiedPackage {
  const examined = examinePackage(bytes, limits);
  const development = examined.development ? { packageName: examined.manifest.name } : undefined;
  const pkg = Object.freeze({ ...examined, ...decideTrust(examined.signatures, trust, development) }) as VerifiedPackage;
  issued.add(pkg);
  return pkg;
}

/** Every stage except the trust decision: parse -> layout -> manifest -> digest -> signatures -> world. */
export function examinePackage(bytes: Uint8Array, limits: ArchiveLimits = DEFAULT_LIMITS): ExaminedPackage {
  const archive = readArchive(bytes, limits);
  const entries = checkLayout(archive);
  const manifest = parseManifest(entries.manifest.data);
  const digest = packageDigest(entries.content);
  const signatures = entries.signatures.map((e) => bindSignature(openEnvelope(e.name, e.data), manifest, digest));
  // After the signatures, so a component altered after signing is reported as
  // such; reads only its top-level import and export sections (format.md §8).
  checkToolComponent(entries.component.data);
  return Object.freeze({ entries, manifest, digest, signatures: Object.freeze(signatures), development: entries.development !== undefined });
}

/** A valid signature over *another* package (or version) must not vouch for this one. */
function bindSignature(sig: VerifiedSignature, manifest: Manifest, digest: PackageDigest): VerifiedSignature {
  const who = fingerprint(sig.key.keyid);
  if (sig.package.name !== manifest.name || sig.package.version !== manifest.version) {
    throw new MppError('MPP_E_DIGEST_MISMATCH', `The signature by ${who} is for ${sig.package.name}@${sig.package.version}, but this package is ${manifest.name}@${manifest.version}.`, {
      hint: 'A signature was copied from another package. Do not use this file.',
      detail: { keyid: sig.key.keyid },
    });
  }
  if (sig.digest !== digest.sha256) {
    throw new MppError('MPP_E_DIGEST_MISMATCH', `The package content does not match what ${who} signed.`, {
      hint: 'The package was modified after signing. Do not use this file; get an intact copy from the publisher.',
      detail: { keyid: sig.key.keyid, signed: sig.digest, actual: digest.sha256 },
    });
  }
  return sig;
}
