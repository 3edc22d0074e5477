import { mppHome } from '../../runtime/home.ts';
import { revokePermissions } from '../../runtime/governance/decisions.ts';
import type { RegisterCommand } from '../context.ts';
import { usage } from '../output.ts';
import { scopeOption } from '../scope.ts';
import { auditTo } from '../../runtime/audit/trail.ts';

export const registerRevoke: RegisterCommand = (program, run) => {
  program
    .command('revoke')
    .description('Take back capabilities from a package; the next call runs without them, in every running host.')
    .argument('<package>', 'a package name (scope/name)')
    .argument('[capability...]', 'capability ids to take back')
    .option('--all', 'take back every capability')
    .option('--workspace <dir>', 'in this workspace folder (default: the current folder)')
    .option('--global', 'in the global decision')
    .option('--everywhere', 'in every scope')
    .option('--json', 'print the result as JSON')
    .action((name: string, capabilities: string[], opts: { all?: boolean; workspace?: string; global?: boolean; everywhere?: boolean; json?: boolean }) =>
      run(async ({ out }) => {
        if (Boolean(opts.all) === (capabilities.length > 0)) throw usage('Name capabilities to revoke, or pass --all (not both).');
        if (opts.everywhere && (opts.global || opts.workspace)) throw usage('--everywhere covers every scope: leave out --global and --workspace.');
        const home = mppHome();
        const before = revokePermissions(home, { package: name, capabilities: opts.all ? 'all' : capabilities, scope: opts.everywhere ? 'all' : scopeOption(opts) }, auditTo(home));
        out.result(`Revoked ${opts.all ? 'every capability' : capabilities.join(', ')} of ${name} in ${before.length} decision${before.length === 1 ? '' : 's'}.`, { revoked: opts.all ? 'all' : capabilities, decisions: before.length });
      }, opts),
    );
};
