import { mppHome } from '../../runtime/home.ts';
import { listInstalled } from '../../runtime/store/packages.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import type { RegisterCommand } from '../context.ts';
import { formatTable } from '../output.ts';

export const registerList: RegisterCommand = (program, run) => {
  program
    .command('list')
    .description('List the installed packages.')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const records = listInstalled(mppHome());
        const text =
          records.length === 0
            ? 'No packages are installed. Install one with `mpp install <file.mpp>`.'
            : formatTable([
                ['NAME', 'VERSION', 'PUBLISHER', 'DIGEST'],
                ...records.map((r) => [r.name, r.version, r.publisher.name ?? fingerprint(r.publisher.keyid), `sha256:${r.digest.slice(0, 12)}`]),
              ]);
        out.result(text, {
          packages: records.map((r) => ({
            name: r.name,
            version: r.version,
            publisher: r.publisher,
            digest: r.digest,
            fileSha256: r.fileSha256,
            installedAt: r.installedAt,
            description: r.manifest.description,
          })),
        });
      }, opts),
    );
};
