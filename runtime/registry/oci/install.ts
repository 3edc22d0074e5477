import { MppError } from '../../errors.ts';
import { loadOrgPolicy } from '../../policy/org-policy.ts';
import { refuseSource } from '../../policy/org-rules.ts';
import { installPackage, listInstalled } from '../../store/packages.ts';
import { refuseDowngrade, type RegistryInstallOptions, type RegistryInstallResult } from '../client/install.ts';
import { pullPackage, type OciRef } from './client.ts';

/**
 * Installing from an OCI registry: pull (digest-checked) -> the gatekeeper,
 * exactly as for the MPP registry -> the artifact's annotations, when
 * present, must name the package it holds -> never a lower version than
 * installed -> the install store. OCI registries sign nothing: trust rests
 * on the package's own signatures and, with @sha256:, on the pinned digest.
 */
export async function installFromOci(home: string, ref: OciRef, opts: Omit<RegistryInstallOptions, 'range'>): Promise<RegistryInstallResult & { manifestDigest: string }> {
  // Before anything is pulled: the organisation may not allow OCI sources at all.
  refuseSource(loadOrgPolicy(), ref.repository, { kind: 'oci' });
  opts.onProgress?.(`pulling ${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`} from ${ref.host}…`);
  const pulled = await pullPackage(ref, { ...opts.transfer, ...(opts.onTransfer ? { onProgress: opts.onTransfer } : {}) });
  const verified = await opts.verify(pulled.bytes);
  const { name, version } = verified.manifest;
  const claimedName = pulled.annotations['dev.mpp.package.name'];
  const claimedVersion = pulled.annotations['dev.mpp.package.version'];
  if ((claimedName !== undefined && claimedName !== name) || (claimedVersion !== undefined && claimedVersion !== version)) {
    throw new MppError('MPP_E_REGISTRY_MISMATCH', `The OCI artifact says it is ${claimedName}@${claimedVersion}, but holds ${name}@${version}.`, { detail: { claimed: `${claimedName}@${claimedVersion}`, actual: `${name}@${version}` } });
  }
  refuseDowngrade(listInstalled(home).find((r) => r.name === name), version, Boolean(opts.allowDowngrade), ref.host);
  const result = await installPackage(home, pulled.bytes, { verified, source: { kind: 'oci' }, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  return Object.freeze({ ...result, registry: ref.host, fromCache: false, offline: false, manifestDigest: pulled.manifestDigest });
}
