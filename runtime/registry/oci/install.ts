import { MppError } from '../../errors.ts';
import { PACKAGE_NAME_RE } from '../../format/manifest.ts';
import { loadOrgPolicy } from '../../policy/org-policy.ts';
import { refuseSource } from '../../policy/org-rules.ts';
import { installPackage, listInstalled } from '../../store/packages.ts';
import { PendingTrust } from '../../trust/first-use.ts';
import { examinePackage } from '../../trust/gatekeeper.ts';
import { TrustStore } from '../../trust/store.ts';
import { withRefusalsRecorded, type RegistryInstallOptions, type RegistryInstallResult } from '../client/install.ts';
import { checkAcceptedOn, checkContinuity } from '../continuity.ts';
import { rotationLeadsTo } from '../documents.ts';
import { ANNOTATIONS, pullPackage, type OciRef, type Pulled } from './client.ts';

/**
 * Installing from an OCI registry: pull (digest-checked) -> the artifact's
 * MPP annotations must be there and name the package it holds -> the same
 * continuity as the MPP registry path (continuity.ts: no downgrade, the
 * installed version's key or a rotation from it, carried in the artifact)
 * -> the gatekeeper -> accepted on that key -> the install store. OCI
 * registries sign nothing: trust rests on the package's own signatures,
 * the installed version's key and, with @sha256:, on the pinned digest.
 */
export async function installFromOci(home: string, ref: OciRef, opts: Omit<RegistryInstallOptions, 'range'>): Promise<RegistryInstallResult & { manifestDigest: string }> {
  // Before anything is pulled: the organisation may not allow OCI sources at all.
  refuseSource(loadOrgPolicy(), ref.repository, { kind: 'oci' });
  opts.onProgress?.(`pulling ${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`} from ${ref.host}…`);
  const pulled = await pullPackage(ref, { ...opts.transfer, ...(opts.onTransfer ? { onProgress: opts.onTransfer } : {}) });
  const { name, version } = claimedPackage(pulled, ref);
  return withRefusalsRecorded(opts.audit, { package: name }, async () => {
    const examined = examinePackage(pulled.bytes);
    if (examined.manifest.name !== name || examined.manifest.version !== version) {
      throw new MppError('MPP_E_REGISTRY_MISMATCH', `The OCI artifact says it is ${name}@${version}, but holds ${examined.manifest.name}@${examined.manifest.version}.`, { detail: { claimed: `${name}@${version}`, actual: `${examined.manifest.name}@${examined.manifest.version}` } });
    }
    const installed = listInstalled(home).find((r) => r.name === name);
    const trust = new PendingTrust(TrustStore.load(home));
    const authors = examined.signatures.filter((s) => s.role === 'author').map((s) => s.key.keyid);
    // Over an installed package, the publisher is the installed key, or an author key a rotation from it leads to.
    const continued = installed && (authors.find((k) => k === installed.publisher.keyid) ?? authors.find((k) => rotationLeadsTo(pulled.rotations, installed.publisher.keyid, k)));
    const candidate = { name, version, publisher: continued ?? authors[0] ?? '', rotations: pulled.rotations, source: ref.host };
    const trustedByRotation = installed && authors.length ? checkContinuity(candidate, installed, trust, Boolean(opts.allowDowngrade)) : undefined;
    const verified = await opts.verify(pulled.bytes, trust);
    if (installed) checkAcceptedOn(verified, candidate);
    const result = await installPackage(home, pulled.bytes, { verified, source: { kind: 'oci' }, beforeCommit: () => trust.commit(home, opts.audit), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    return Object.freeze({ ...result, registry: ref.host, fromCache: false, offline: false, manifestDigest: pulled.manifestDigest, ...(trustedByRotation ? { trustedByRotation } : {}) });
  });
}

/** The name binding OCI has: the artifact must say which package it is (a tag without MPP annotations is refused). */
function claimedPackage(pulled: Pulled, ref: OciRef): { name: string; version: string } {
  const name = pulled.annotations[ANNOTATIONS.name];
  const version = pulled.annotations[ANNOTATIONS.version];
  if (name === undefined || version === undefined || !PACKAGE_NAME_RE.test(name)) {
    throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host}/${ref.repository} serves an artifact without valid MPP annotations (${ANNOTATIONS.name}, ${ANNOTATIONS.version}) that say which package it is.`, {
      hint: 'Push it with `mpp publish <file.mpp> oci://…`, which writes them; do not install an artifact that does not say what it is.',
    });
  }
  return { name, version };
}
