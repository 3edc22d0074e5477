import { mppHome } from '../../runtime/home.ts';
import { uninstallPackage } from '../../runtime/store/packages.ts';
import { recordUninstall, withAuditLog } from '../../runtime/audit/trail.ts';
import type { RegisterCommand } from '../context.ts';

export const registerUninstall: RegisterCommand = (program, run) => {
  program
    .command('uninstall')
    .description('Remove an installed package. Its stored data (key-value store) and your permission decisions are kept unless --purge.')
    .argument('<name>', 'the package name (scope/name), as `mpp list` shows it')
    .option('--purge', 'also delete the data the package stored and forget what you granted it')
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { purge?: boolean; json?: boolean }) =>
      run(async ({ out }) => {
        const home = mppHome();
        const purge = Boolean(opts.purge);
        const r = await withAuditLog(home, async (audit) => {
          const done = await uninstallPackage(home, name, { purge });
          recordUninstall(audit, name, done, purge);
          return done;
        });
        const removed = r.version ? `Uninstalled ${name}@${r.version}.` : `${name} was not installed.`;
        const data = opts.purge ? (r.purged ? ' Its stored data was deleted.' : ' It had no stored data.') : r.version ? ' Its stored data is kept (use --purge to delete it).' : '';
        out.result(removed + data, { name, version: r.version ?? null, purged: r.purged });
      }, opts),
    );
};
