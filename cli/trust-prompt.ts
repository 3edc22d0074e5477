import { MppError, isMppError } from '../runtime/errors.ts';
import { fingerprint, publicKeyFromSpki } from '../runtime/trust/keys.ts';
import { examinePackage, verifyPackage, type VerifiedPackage } from '../runtime/trust/gatekeeper.ts';
import { TrustStore, addTrustedKey, type TrustView } from '../runtime/trust/store.ts';
import type { CliContext } from './context.ts';

/**
 * The gatekeeper with trust on first use, as every command that accepts a
 * package file applies it: a package signed by an unknown key is refused,
 * unless a human at a terminal says yes to that key. With `trust` given (e.g.
 * `--key`), that view decides alone and nobody is asked.
 * `command` is what to run again after answering no (`mpp verify`).
 */
export async function verifyTrustingOnFirstUse(ctx: CliContext, bytes: Uint8Array, home: string, opts: { command: string; trust?: TrustView }): Promise<VerifiedPackage> {
  try {
    return verifyPackage(bytes, opts.trust ?? TrustStore.load(home));
  } catch (e) {
    if (!(isMppError(e) && e.code === 'MPP_E_UNTRUSTED_KEY' && !opts.trust && (await askToTrust(ctx, bytes, home, opts.command)))) throw e;
    return verifyPackage(bytes, TrustStore.load(home));
  }
}

/**
 * Trust on first use, never silently: show the key and the name the package
 * claims, and trust only on an explicit "yes" from a terminal.
 */
async function askToTrust(ctx: CliContext, bytes: Uint8Array, home: string, command: string): Promise<boolean> {
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
  return true;
}
