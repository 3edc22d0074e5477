import { MppError } from '../errors.ts';
import type { ExaminedPackage } from './gatekeeper.ts';

/**
 * Development packages (spec/format.md) run only on their author's machine:
 * `mpp sign`, `mpp publish`, OCI push and a registry all refuse them, so a
 * build that was never pre-initialised and that trusts its author's key for
 * one package only can never travel as a release.
 */
export function refuseDevelopmentPackage(pkg: ExaminedPackage, action: 'sign' | 'publish' | 'accept'): void {
  if (!pkg.development) return;
  const id = `${pkg.manifest.name}@${pkg.manifest.version}`;
  const what = { sign: 'cannot be signed with `mpp sign`', publish: 'cannot be published', accept: 'is refused by this registry' }[action];
  throw new MppError('MPP_E_DEVELOPMENT_PACKAGE', `${id} is a development build and ${what}.`, {
    detail: { name: pkg.manifest.name, version: pkg.manifest.version },
  });
}
