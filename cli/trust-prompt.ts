import type { AuditLog } from '../runtime/audit/log.ts';
import type { VerifyEvent } from '../runtime/audit/events.ts';
import { PendingTrust, verifyTrustingOnFirstUse, type AskToTrust, type FirstUseOptions } from '../runtime/trust/first-use.ts';
import type { VerifiedPackage } from '../runtime/trust/gatekeeper.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import { TrustStore, type TrustView } from '../runtime/trust/store.ts';
import type { CliContext } from './context.ts';

/**
 * The terminal's question for trust on first use (runtime/trust/first-use.ts):
 * show the key and the name the package claims; only a human at a terminal
 * can say yes, never under --json.
 */
function terminalQuestion(ctx: CliContext): AskToTrust | undefined {
  if (!ctx.interactive || ctx.out.json) return undefined;
  return async ({ pkg, key, claimedName }) => {
    process.stderr.write(
      `${pkg.manifest.name}@${pkg.manifest.version} is signed by a key this host has never trusted:\n` +
        `  publisher (as the package claims): ${claimedName}\n  key id:      ${key.keyid}\n  fingerprint: ${fingerprint(key.keyid)}\n` +
        'Compare the fingerprint with one the publisher gave you through another channel.\n',
    );
    return /^y(es)?$/i.test(await ctx.ask(`Trust this key as "${claimedName}"? [y/N] `));
  };
}

/** Trust on first use as the CLI applies it; `command` is what to run again after answering no. */
export function firstUse(ctx: CliContext, command: string, audit: AuditLog, source: Pick<VerifyEvent, 'file' | 'package'>, askable = true): FirstUseOptions {
  const ask = askable ? terminalQuestion(ctx) : undefined;
  return { ...(ask ? { ask } : {}), retry: command, audit, source, warn: (m) => ctx.out.warn(m) };
}

/**
 * A package file checked on its own (`mpp verify`, `mpp run <file>`): the
 * check is the whole operation, so a key said yes to is trusted once it
 * passed. With `trust` given (e.g. `--key`), that view decides alone and
 * nobody is asked.
 */
export async function verifyFile(ctx: CliContext, bytes: Uint8Array, home: string, opts: { command: string; trust?: TrustView; audit: AuditLog; file: string }): Promise<VerifiedPackage> {
  const pending = new PendingTrust(opts.trust ?? TrustStore.load(home));
  const verified = await verifyTrustingOnFirstUse(bytes, pending, firstUse(ctx, opts.command, opts.audit, { file: opts.file }, !opts.trust));
  await pending.commit(home, opts.audit);
  return verified;
}
