import { mppHome } from '../../runtime/home.ts';
import { MppError } from '../../runtime/errors.ts';
import { installFromRegistry, updateInstalled, type UpdateReport } from '../../runtime/registry/client/install.ts';
import type { RegisterCommand } from '../context.ts';
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
          // One package that cannot be updated (a registry down, a refusal) does not stop the others; a failing audit log does.
          const { updated, unlisted, kept } = await updateInstalled(home, 'all', (n) => registryOptions(ctx, home, n, opts, audit), audit);
          const lines = [
            ...updated.map((u) => `Updated ${u.name} ${u.from} -> ${u.to}`),
            ...kept.map((k) => `Not updated ${k.name}: ${k.code} ${k.message}`),
            ...(unlisted.length ? [`Not in any registry (installed from a file): ${unlisted.join(', ')}`] : []),
          ];
          // A package kept back (an attack refused, a registry down) must never look like success: exit 1, naming each.
          if (kept.length) {
            if (!ctx.out.json && lines.length) ctx.out.result(lines.join('\n'), {});
            throw updateIncomplete({ updated, unlisted, kept });
          }
          ctx.out.result(lines.length ? lines.join('\n') : 'Everything is up to date.', { updated, unlisted, kept });
        });
      }, opts),
    );
};

function updateIncomplete(report: UpdateReport): MppError {
  const { kept } = report;
  const which = kept.map((k) => `${k.name} (${k.code})`).join(', ');
  return new MppError('MPP_E_UPDATE_INCOMPLETE', `${kept.length} package${kept.length === 1 ? ' was' : 's were'} not updated: ${which}.`, { detail: { ...report } });
}
