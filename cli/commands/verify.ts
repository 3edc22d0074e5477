import { resolve } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { fingerprint, parsePublicKeyPem } from '../../runtime/trust/keys.ts';
import { TrustStore, singleKeyTrust } from '../../runtime/trust/store.ts';
import { recordDone, withAuditLog } from '../../runtime/audit/trail.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { verifyFile } from '../trust-prompt.ts';

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
        const trust = opts.key
          ? singleKeyTrust(parsePublicKeyPem(readUserFile(opts.key, 'public key').toString('utf8'), opts.key), 'given key', TrustStore.load(home))
          : undefined;
        const pkg = await withAuditLog(home, async (audit) => {
          const p = await verifyFile(ctx, bytes, home, { command: 'mpp verify', audit, file: resolve(file), ...(trust ? { trust } : {}) });
          const { name, version } = p.manifest;
          recordDone(audit, { type: 'verify', outcome: 'pass', package: name, version, digest: p.digest.sha256, file: resolve(file) }, `${name}@${version} verified`);
          return p;
        });
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
