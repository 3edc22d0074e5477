import { isMppError } from '../../runtime/errors.ts';
import { mppHome } from '../../runtime/home.ts';
import { installFromRegistry } from '../../runtime/registry/client/install.ts';
import { listInstalled } from '../../runtime/store/packages.ts';
import type { RegisterCommand } from '../context.ts';
import { toMppError } from '../output.ts';
import { recordInstall, withAuditLog } from '../../runtime/audit/trail.ts';
import { registryOptions, reportRegistry } from './install.ts';

export const registerUpdate: RegisterCommand = (program, run) => {
  program
    .command('update')
    .description('Install the newest unyanked version of one installed package, or of all those a registry has. Never a lower version, unless --allow-downgrade.')
    .argument('[name]', 'the package to update (default: every installed package)')
    .option('--allow-downgrade', 'allow a lower version than the installed one')
    .option('--timeout <ms>', 'time limit for each transfer')
    .option('--json', 'print the result as JSON')
    .action((name: string | undefined, opts: { allowDowngrade?: boolean; timeout?: string; json?: boolean }) =>
      run(async (ctx) => {
        const home = mppHome();
        await withAuditLog(home, async (audit) => {
        if (name) {
          const r = await installFromRegistry(home, name, registryOptions(ctx, home, name, opts, audit));
          recordInstall(audit, r, r.registry);
          reportRegistry(ctx, r);
          return;
        }
        const updated: { name: string; from: string; to: string }[] = [];
        const skipped: { name: string; code: string; message: string }[] = [];
        for (const record of listInstalled(home)) {
          try {
            const r = await installFromRegistry(home, record.name, registryOptions(ctx, home, record.name, opts, audit));
            recordInstall(audit, r, r.registry);
            if (r.change !== 'unchanged') updated.push({ name: r.name, from: record.version, to: r.version });
          } catch (e) {
            // One package that cannot be updated (installed from a file, a registry down) does not stop the others; refusals are reported.
            if (!isMppError(e) || e.code === 'MPP_E_INTERNAL') throw e;
            skipped.push({ name: record.name, code: e.code, message: toMppError(e).message });
          }
        }
        const lines = [
          ...updated.map((u) => `Updated ${u.name} ${u.from} -> ${u.to}`),
          ...skipped.map((s) => `Kept ${s.name}: ${s.code} ${s.message}`),
        ];
        ctx.out.result(lines.length ? lines.join('\n') : 'Everything is up to date.', { updated, skipped });
        });
      }, opts),
    );
};
