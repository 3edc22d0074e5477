import { writeNewKey } from '../../runtime/dev/author-key.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import type { RegisterCommand } from '../context.ts';
import { defaultKeyPath, publicKeyPathFor } from '../keys.ts';

export const registerKeygen: RegisterCommand = (program, run) => {
  program
    .command('keygen')
    .description('Create an Ed25519 signing key pair (PKCS#8 and SPKI PEM).')
    .option('-o, --out <file>', 'private key file; the public key goes next to it as <name>.pub.pem', defaultKeyPath())
    .option('--force', 'overwrite existing key files')
    .option('--json', 'print the result as JSON')
    .action((opts: { out: string; force?: boolean; json?: boolean }) =>
      run(async ({ out }) => {
        const pubPath = publicKeyPathFor(opts.out);
        const key = writeNewKey(opts.out, Boolean(opts.force));
        out.result(
          `Private key: ${opts.out} (keep it secret)\nPublic key:  ${pubPath}\nKey id:      ${key.publicKey.keyid}\nFingerprint: ${fingerprint(key.publicKey.keyid)}`,
          { privateKey: opts.out, publicKey: pubPath, keyid: key.publicKey.keyid },
        );
      }, opts),
    );
};
