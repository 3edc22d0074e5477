import { MppError } from '../../runtime/errors.ts';
import { mppHome } from '../../runtime/home.ts';
import { examinePackage } from '../../runtime/trust/gatekeeper.ts';
import { fingerprint, parsePublicKeyPem, type PublicKey } from '../../runtime/trust/keys.ts';
import { TrustStore, changeTrust } from '../../runtime/trust/store.ts';
import { withAuditLog } from '../../runtime/audit/trail.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { usage } from '../output.ts';

const KEYID_RE = /^[0-9a-f]{64}$/;

export const registerTrust: RegisterCommand = (program, run) => {
  const trust = program.command('trust').description('Manage the publisher keys this host trusts and the keys it has revoked.');

  trust
    .command('add')
    .description('Trust a publisher key, from a public key file or from the author signature of a package.')
    .argument('[keyfile]', 'public key (SPKI PEM)')
    .option('--from <file.mpp>', 'take the key from this package\'s author signature (shows it and asks first)')
    .requiredOption('-n, --name <name>', 'who the key belongs to, as you want it shown')
    .option('-y, --yes', 'do not ask (for scripts that already checked the fingerprint)')
    .option('--json', 'print the result as JSON')
    .action((keyfile: string | undefined, opts: { from?: string; name: string; yes?: boolean; json?: boolean }) =>
      run(async (ctx) => {
        if (Boolean(keyfile) === Boolean(opts.from)) throw usage('Give either a key file or --from <file.mpp>.');
        let key: PublicKey;
        if (keyfile) {
          key = parsePublicKeyPem(readUserFile(keyfile, 'public key').toString('utf8'), keyfile);
        } else {
          const pkg = examinePackage(readUserFile(opts.from!, 'package'));
          const author = pkg.signatures.find((s) => s.role === 'author');
          if (!author) throw new MppError('MPP_E_UNSIGNED', `${opts.from} has no author signature to take a key from.`, { hint: 'Ask the publisher for their public key file.' });
          key = author.key;
          if (!opts.yes) {
            if (!ctx.interactive || ctx.out.json) {
              throw new MppError('MPP_E_TRUST_NEEDS_CONFIRMATION', `Trusting ${fingerprint(key.keyid)} needs your confirmation, and no terminal is attached to ask.`, {
                hint: 'Run it in a terminal, or pass --yes after checking the fingerprint with the publisher.',
                detail: { keyid: key.keyid },
              });
            }
            process.stderr.write(`Key id:      ${key.keyid}\nFingerprint: ${fingerprint(key.keyid)}\n`);
            if (!/^y(es)?$/i.test(await ctx.ask(`Trust this key as "${opts.name}"? [y/N] `))) {
              throw new MppError('MPP_E_TRUST_NEEDS_CONFIRMATION', 'You did not confirm; nothing was changed.', { hint: 'Run the command again and answer yes to trust the key.' });
            }
          }
        }
        await withAuditLog(mppHome(), (audit) => changeTrust(mppHome(), audit, { action: 'add', key, name: opts.name, via: 'command' }));
        ctx.out.result(`Trusted ${fingerprint(key.keyid)} as "${opts.name}".`, { keyid: key.keyid, name: opts.name });
      }, opts),
    );

  trust
    .command('list')
    .description('List trusted and revoked keys.')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const records = TrustStore.load(mppHome()).records;
        const text = records.length === 0
          ? 'No keys are trusted yet. Add one with `mpp trust add`.'
          : records.map((r) => `${r.revoked ? 'REVOKED' : r.publisher === false ? 'dev-only' : 'trusted'}  ${fingerprint(r.keyid)}  ${r.name ?? ''}${r.revoked?.reason ? `  (${r.revoked.reason})` : ''}\n         ${r.keyid}${r.development?.length ? `\n         development builds of: ${r.development.join(', ')}` : ''}`).join('\n');
        out.result(text, { keys: records });
      }, opts),
    );

  trust
    .command('remove')
    .description('Forget a key (trusted or revoked).')
    .argument('<keyid>', 'the full key id (64 hex digits)')
    .option('--json', 'print the result as JSON')
    .action((keyid: string, opts: { json?: boolean }) =>
      run(async ({ out }) => {
        if (!KEYID_RE.test(keyid)) throw usage('A key id is 64 lowercase hex digits; see `mpp trust list`.');
        await withAuditLog(mppHome(), (audit) => changeTrust(mppHome(), audit, { action: 'remove', keyid }));
        out.result(`Removed ${fingerprint(keyid)}.`, { keyid });
      }, opts),
    );

  trust
    .command('revoke')
    .description('Revoke a key: every package it signed is refused from now on.')
    .argument('<key>', 'a key id (64 hex digits) or a public key file')
    .option('--reason <text>', 'why, kept in the trust store')
    .option('--json', 'print the result as JSON')
    .action((keyArg: string, opts: { reason?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const keyid = KEYID_RE.test(keyArg) ? keyArg : parsePublicKeyPem(readUserFile(keyArg, 'public key').toString('utf8'), keyArg).keyid;
        await withAuditLog(mppHome(), (audit) => changeTrust(mppHome(), audit, { action: 'revoke', keyid, ...(opts.reason ? { reason: opts.reason } : {}) }));
        out.result(`Revoked ${fingerprint(keyid)}. Packages signed by it will be refused.`, { keyid, reason: opts.reason });
      }, opts),
    );
};
