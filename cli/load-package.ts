import { readUserFile } from './files.ts';
import { verifyTrustingOnFirstUse } from './trust-prompt.ts';
import type { CliContext } from './context.ts';
import { loadInstalled } from '../runtime/store/packages.ts';
import { TrustStore } from '../runtime/trust/store.ts';
import type { VerifiedPackage } from '../runtime/trust/gatekeeper.ts';

/**
 * The package a command runs: a .mpp file goes through the gatekeeper (with
 * trust on first use at a terminal); an installed name is loaded from the store
 * and re-verified there (zero trust: on every load).
 */
export async function loadPackageForRun(ctx: CliContext, home: string, arg: string, isFile: boolean): Promise<VerifiedPackage> {
  if (isFile) return verifyTrustingOnFirstUse(ctx, readUserFile(arg, 'package'), home, { command: `mpp run ${arg}` });
  return loadInstalled(home, arg, TrustStore.load(home)).pkg;
}
