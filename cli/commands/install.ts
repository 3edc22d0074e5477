import { resolve } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { installPackage, type InstallResult } from '../../runtime/store/packages.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import { recordDone, withAuditLog } from '../audit-trail.ts';
import type { RegisterCommand } from '../context.ts';
import { isFile, readUserFile } from '../files.ts';
import { usage } from '../output.ts';
import { verifyTrustingOnFirstUse } from '../trust-prompt.ts';

export const registerInstall: RegisterCommand = (program, run) => {
  program
    .command('install')
    .description('Verify a package and install it into the local store (a new version replaces the installed one). Asks before trusting a new key.')
    .argument('<file>', 'the .mpp package file')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { json?: boolean }) =>
      run(async (ctx) => {
        if (!isFile(file)) {
          throw usage(`"${file}" is not a package file. \`mpp install\` takes the path of a .mpp file; installing by name from a registry is not available yet.`);
        }
        const bytes = readUserFile(file, 'package');
        const home = mppHome();
        const result = await withAuditLog(home, async (audit) => {
          // Verified once, asking about an unknown key up front, before any work.
          const verified = await verifyTrustingOnFirstUse(ctx, bytes, home, { command: 'mpp install', audit, file });
          const r = await installPackage(home, bytes, { verified, onProgress: (m) => ctx.out.progress(m) });
          const publisher = { keyid: r.publisher.keyid, ...(r.publisher.name !== undefined ? { name: r.publisher.name } : {}) };
          recordDone(audit, { type: 'install', package: r.name, version: r.version, digest: r.digest, publisher, change: r.change, source: resolve(file) }, `${r.name}@${r.version} was installed`);
          return r;
        });
        ctx.out.result(describe(result), {
          change: result.change,
          name: result.name,
          version: result.version,
          ...(result.previousVersion ? { previousVersion: result.previousVersion } : {}),
          digest: result.digest,
          fileSha256: result.fileSha256,
          publisher: result.publisher,
          installedAt: result.installedAt,
        });
      }, opts),
    );
};

function describe(r: InstallResult): string {
  const id = `${r.name}@${r.version}`;
  const who = `${r.publisher.name ?? 'unnamed key'} (${fingerprint(r.publisher.keyid)})`;
  const what = {
    installed: `Installed ${id}`,
    unchanged: `${id} is already installed; nothing changed`,
    upgraded: `Upgraded ${r.name} from ${r.previousVersion} to ${r.version}`,
    downgraded: `Downgraded ${r.name} from ${r.previousVersion} to ${r.version}`,
    replaced: `Reinstalled ${id} (same content, other signatures)`,
  }[r.change];
  return `${what}, signed by ${who}.\nDigest: sha256:${r.digest}`;
}
