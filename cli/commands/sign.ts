import { readUserFile } from '../files.ts';
import { writeFileAtomic } from '../../runtime/store/atomic.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import type { SignatureRole } from '../../runtime/trust/envelope.ts';
import type { RegisterCommand } from '../context.ts';
import { defaultKeyPath, readSigningKey } from '../keys.ts';
import { usage } from '../output.ts';

export const registerSign: RegisterCommand = (program, run) => {
  program
    .command('sign')
    .description('Add a signature to a package (replacing an earlier one by the same key).')
    .argument('<file>', 'the .mpp package')
    .option('-k, --key <file>', 'private key (PKCS#8 PEM)', defaultKeyPath())
    .option('--role <role>', 'author, or registry for a registry countersignature', 'author')
    .option('-o, --out <file>', 'write the signed package here instead of in place')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { key: string; role: string; out?: string; json?: boolean }) =>
      run(async ({ out }) => {
        if (opts.role !== 'author' && opts.role !== 'registry') throw usage(`--role must be author or registry, not ${JSON.stringify(opts.role)}.`);
        const key = readSigningKey(opts.key);
        const signed = signPackage(readUserFile(file, 'package'), key, opts.role as SignatureRole);
        const target = opts.out ?? file;
        writeFileAtomic(target, signed);
        out.result(`Signed ${target} as ${opts.role} with ${fingerprint(key.publicKey.keyid)}.`, { file: target, role: opts.role, keyid: key.publicKey.keyid });
      }, opts),
    );
};
