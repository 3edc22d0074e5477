import { mppHome } from '../../runtime/home.ts';
import { checkOutdated } from '../../runtime/registry/client/install.ts';
import { listInstalled } from '../../runtime/store/packages.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import type { RegisterCommand } from '../context.ts';
import { formatTable, toMppError } from '../output.ts';
import { transferTiming } from '../transfer.ts';

export const registerList: RegisterCommand = (program, run) => {
  program
    .command('list')
    .description('List the installed packages.')
    .option('--outdated', 'only packages a registry has a newer version of')
    .option('--timeout <ms>', 'time limit for each registry (with --outdated)')
    .option('--json', 'print the result as JSON')
    .action((opts: { outdated?: boolean; timeout?: string; json?: boolean }) =>
      run(async ({ out }) => {
        if (opts.outdated) {
          const outdated = await checkOutdated(mppHome(), {
            transfer: transferTiming(opts.timeout),
            onUnavailable: (e, name) => out.warn(`cannot check ${name}: ${toMppError(e).message}`),
          });
          const text = outdated.length === 0 ? 'Every package from a registry is up to date.' : outdated.map((o) => `${o.name}  ${o.installed} -> ${o.latest}  (${o.registry})`).join('\n');
          out.result(text, { outdated });
          return;
        }
        const records = listInstalled(mppHome());
        const text =
          records.length === 0
            ? 'No packages are installed. Install one with `mpp install <file.mpp>`.'
            : formatTable([
                ['NAME', 'VERSION', 'PUBLISHER', 'DIGEST'],
                ...records.map((r) => [r.name, r.development ? `${r.version} (development)` : r.version, r.publisher.name ?? fingerprint(r.publisher.keyid), `sha256:${r.digest.slice(0, 12)}`]),
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
            development: r.development,
          })),
        });
      }, opts),
    );
};
