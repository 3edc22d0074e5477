import { MppError, isMppError } from '../runtime/errors.ts';
import { fingerprint, publicKeyFromSpki } from '../runtime/trust/keys.ts';
import { examinePackage, verifyPackage, type VerifiedPackage } from '../runtime/trust/gatekeeper.ts';
import { TrustStore, addTrustedKey, type TrustView } from '../runtime/trust/store.ts';
import type { AuditLog } from '../runtime/audit/log.ts';
import type { CliContext } from './context.ts';
import { recordDone } from '../runtime/audit/trail.ts';

/**
 * The gatekeeper with trust on first use, as every command that accepts a
 * package file applies it: a package signed by an unknown key is refused,
 * unless a human at a terminal says yes to that key. With `trust` given (e.g.
 * `--key`), that view decides alone and nobody is asked.
 * `command` is what to run again after answering no (`mpp verify`).
 * A refusal is audited as a failed `verify` (with its code, and `file`, the
 * package file's absolute path, when the bytes came from one), a key trusted
 * on the way as a `trust` event; passing is for the caller to record.
 */
export async function verifyTrustingOnFirstUse(
  ctx: CliContext,
  bytes: Uint8Array,
  home: string,
  opts: { command: string; trust?: TrustView; audit: AuditLog; file?: string },
): Promise<VerifiedPackage> {
  try {
    try {
      return verifyPackage(bytes, opts.trust ?? TrustStore.load(home));
    } catch (e) {
      if (!(isMppError(e) && e.code === 'MPP_E_UNTRUSTED_KEY' && !opts.trust && (await askToTrust(ctx, bytes, home, opts.command, opts.audit)))) throw e;
      return verifyPackage(bytes, TrustStore.load(home));
    }
  } catch (e) {
    if (isMppError(e) && e.code !== 'MPP_E_AUDIT_UNAVAILABLE' && e.code !== 'MPP_E_AUDIT_TAMPERED') {
      // The refusal is the answer either way; a refusal that could not be recorded is said so on stderr.
      try {
        opts.audit.append({ type: 'verify', outcome: 'fail', code: e.code, ...(opts.file !== undefined ? { file: opts.file } : {}) });
      } catch (auditError) {
        ctx.out.warn(`the refusal could not be recorded in the audit log: ${(auditError as Error).message}`);
      }
    }
    throw e;
  }
}

/**
 * Trust on first use, never silently: show the key and the name the package
 * claims, and trust only on an explicit "yes" from a terminal.
 */
async function askToTrust(ctx: CliContext, bytes: Uint8Array, home: string, command: string, audit: AuditLog): Promise<boolean> {
  if (!ctx.interactive || ctx.out.json) return false;
  const pkg = examinePackage(bytes);
  const author = pkg.signatures.find((s) => s.role === 'author');
  if (!author) return false;
  const claimed = pkg.manifest.publisher.name;
  process.stderr.write(
    `${pkg.manifest.name}@${pkg.manifest.version} is signed by a key this host has never trusted:\n` +
      `  publisher (as the package claims): ${claimed}\n  key id:      ${author.key.keyid}\n  fingerprint: ${fingerprint(author.key.keyid)}\n` +
      'Compare the fingerprint with one the publisher gave you through another channel.\n',
  );
  const answer = await ctx.ask(`Trust this key as "${claimed}"? [y/N] `);
  if (!/^y(es)?$/i.test(answer)) {
    throw new MppError('MPP_E_UNTRUSTED_KEY', `You did not trust key ${fingerprint(author.key.keyid)}; the package is refused.`, {
      hint: `Run \`${command}\` again and answer yes if you trust the publisher.`,
    });
  }
  await addTrustedKey(home, publicKeyFromSpki(author.key.spki), claimed);
  recordDone(audit, { type: 'trust', action: 'add', keyid: author.key.keyid, name: claimed }, `Key ${fingerprint(author.key.keyid)} was trusted`);
  return true;
}
