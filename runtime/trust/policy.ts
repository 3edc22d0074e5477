import { MppError } from '../errors.ts';
import { fingerprint, publicKeyToPem } from './keys.ts';
import type { VerifiedSignature } from './envelope.ts';
import type { TrustView } from './store.ts';

export interface TrustDecision {
  /** The trusted author signature the package is accepted on. */
  readonly publisher: { readonly keyid: string; readonly name: string | undefined };
}

/**
 * Who is allowed: at least one author signature by a trusted key, and no
 * signature at all by a revoked key (a revoked key taints the package even if
 * another key also signed it: fail closed). Cryptography was checked before;
 * this is only policy.
 */
export function decideTrust(signatures: readonly VerifiedSignature[], trust: TrustView, development?: { readonly packageName: string }): TrustDecision {
  const authors = signatures.filter((s) => s.role === 'author');
  if (authors.length === 0) {
    throw new MppError('MPP_E_UNSIGNED', 'The package has no author signature.', {
      hint: 'Sign it with `mpp sign <file.mpp> --key <key.pem>`, or ask the publisher for a signed package.',
    });
  }
  const revoked = signatures.find((s) => trust.state(s.key.keyid) === 'revoked');
  if (revoked) {
    throw new MppError('MPP_E_REVOKED_KEY', `The package is signed by revoked key ${fingerprint(revoked.key.keyid)}.`, {
      hint: 'Do not use this package. Ask the publisher for a version signed with their current key.',
      detail: { keyid: revoked.key.keyid },
    });
  }
  if (development) return decideDevelopmentTrust(authors, trust, development.packageName);
  const trusted = authors.find((s) => trust.state(s.key.keyid) === 'trusted');
  if (!trusted) {
    throw new MppError('MPP_E_UNTRUSTED_KEY', `The package is signed by ${authors.map((s) => fingerprint(s.key.keyid)).join(', ')}, which this host does not trust.`, {
      hint: 'Check the fingerprint with the publisher, then run `mpp trust add --from <file.mpp> --name <publisher>` (or answer yes when asked).',
      detail: { keys: authors.map((s) => ({ keyid: s.key.keyid, publicKey: publicKeyToPem(s.key) })) },
    });
  }
  return Object.freeze({ publisher: Object.freeze({ keyid: trusted.key.keyid, name: trust.name(trusted.key.keyid) }) });
}

/**
 * A development package (spec/format.md) is accepted only on a key trusted
 * for development builds of exactly this package name: a publisher's trust
 * does not cover development builds, and a development trust covers nothing
 * else (TrustStore.state never calls such a key trusted).
 */
function decideDevelopmentTrust(authors: readonly VerifiedSignature[], trust: TrustView, packageName: string): TrustDecision {
  const trusted = authors.find((s) => trust.trustsForDevelopment?.(s.key.keyid, packageName) === true);
  if (!trusted) {
    // Its own code, so that no trust-on-first-use prompt (which answers MPP_E_UNTRUSTED_KEY) offers to trust the key as a publisher.
    throw new MppError('MPP_E_DEVELOPMENT_UNTRUSTED', `${packageName} is a development package signed by ${authors.map((s) => fingerprint(s.key.keyid)).join(', ')}, which this host does not trust for development builds of ${packageName}.`, {
      detail: { development: true, package: packageName, keys: authors.map((s) => ({ keyid: s.key.keyid, publicKey: publicKeyToPem(s.key) })) },
    });
  }
  return Object.freeze({ publisher: Object.freeze({ keyid: trusted.key.keyid, name: trust.name(trusted.key.keyid) }) });
}
