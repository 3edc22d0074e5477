import { MppError, isMppError } from '../../runtime/errors.ts';
import { mppHome } from '../../runtime/home.ts';
import { fingerprint, parsePublicKeyPem, publicKeyFromSpki } from '../../runtime/trust/keys.ts';
import { examinePackage, verifyPackage, type VerifiedPackage } from '../../runtime/trust/gatekeeper.ts';
import { TrustStore, addTrustedKey, singleKeyTrust, type TrustView } from '../../runtime/trust/store.ts';
import type { CliContext, RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';

export const registerVerify: RegisterCommand = (program, run) => {
  program
    .command('verify')
    .description('Check a package: archive safety, manifest, digest, signatures and trust. Asks before trusting a new key.')
    .argument('<file>', 'the .mpp package')
    .option('-k, --key <file>', 'trust only this public key (SPKI PEM) for this check; the trust store is not changed')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { key?: string; json?: boolean }) =>
      run(async (ctx) => {
        const bytes = readUserFile(file, 'package');
        const home = mppHome();
        const store = TrustStore.load(home);
        const trust: TrustView = opts.key ? singleKeyTrust(parsePublicKeyPem(readUserFile(opts.key, 'public key').toString('utf8'), opts.key), 'given key', store) : store;
        let pkg: VerifiedPackage;
        try {
          pkg = verifyPackage(bytes, trust);
        } catch (e) {
          if (!(isMppError(e) && e.code === 'MPP_E_UNTRUSTED_KEY' && !opts.key && (await askToTrust(ctx, bytes, home)))) throw e;
          pkg = verifyPackage(bytes, TrustStore.load(home));
        }
        const who = `${pkg.publisher.name ?? 'unnamed key'} (${fingerprint(pkg.publisher.keyid)})`;
        ctx.out.result(`Verified ${pkg.manifest.name}@${pkg.manifest.version}, signed by ${who}.\nDigest: sha256:${pkg.digest.sha256}`, {
          name: pkg.manifest.name,
          version: pkg.manifest.version,
          digest: pkg.digest.sha256,
          publisher: pkg.publisher,
          signatures: pkg.signatures.map((s) => ({ role: s.role, keyid: s.key.keyid })),
        });
      }, opts),
    );
};

/**
 * Trust on first use, never silently: show the key and the name the package
 * claims, and trust only on an explicit "yes" from a terminal.
 */
async function askToTrust(ctx: CliContext, bytes: Uint8Array, home: string): Promise<boolean> {
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
      hint: 'Run `mpp verify` again and answer yes if you trust the publisher.',
    });
  }
  await addTrustedKey(home, publicKeyFromSpki(author.key.spki), claimed);
  return true;
}
