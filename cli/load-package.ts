import { isFile, readUserFile } from './files.ts';
import { verifyTrustingOnFirstUse } from './trust-prompt.ts';
import type { CliContext } from './context.ts';
import { withAuditLog } from './audit-trail.ts';
import { loadInstalled } from '../runtime/store/packages.ts';
import { TrustStore } from '../runtime/trust/store.ts';
import type { VerifiedPackage } from '../runtime/trust/gatekeeper.ts';

/**
 * The package a command runs: an existing file goes through the gatekeeper
 * (with trust on first use at a terminal); anything else is an installed name,
 * loaded from the store and re-verified there (zero trust: on every load).
 */
export async function loadPackageForRun(ctx: CliContext, home: string, arg: string): Promise<VerifiedPackage> {
  if (isFile(arg)) return withAuditLog(home, (audit) => verifyTrustingOnFirstUse(ctx, readUserFile(arg, 'package'), home, { command: `mpp run ${arg}`, audit, file: arg }));
  return loadInstalled(home, arg, TrustStore.load(home)).pkg;
}
