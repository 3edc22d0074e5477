import { mppHome } from '../../runtime/home.ts';
import { grantPermissions } from '../../runtime/governance/decisions.ts';
import { scopeLabel } from '../../runtime/state/grants.ts';
import type { RegisterCommand } from '../context.ts';
import { usage } from '../output.ts';
import { scopeOption } from '../scope.ts';
import { auditTo } from '../../runtime/audit/trail.ts';

export const registerGrant: RegisterCommand = (program, run) => {
  program
    .command('grant')
    .description('Grant an installed package capabilities it declares (ids from `mpp permissions`), or record a deny.')
    .argument('<package>', 'an installed package name (scope/name)')
    .argument('[capability...]', 'capability ids, e.g. fs:${workspace}/src:read net:https://api.example.com env:TOKEN kv')
    .option('--all', 'grant every capability it declares (wildcard hosts need concrete ids)')
    .option('--deny', 'record that it must not run in this scope')
    .option('--workspace <dir>', 'decide for this workspace folder (default: the current folder)')
    .option('--global', 'decide for every workspace')
    .option('--json', 'print the result as JSON')
    .action((name: string, capabilities: string[], opts: { all?: boolean; deny?: boolean; workspace?: string; global?: boolean; json?: boolean }) =>
      run(async ({ out }) => {
        if (opts.deny && (opts.all || capabilities.length > 0)) throw usage('--deny takes no capabilities.');
        if (!opts.deny && !opts.all && capabilities.length === 0) throw usage('Name capabilities to grant, or pass --all (or --deny). See `mpp permissions <package>`.');
        const home = mppHome();
        const record = grantPermissions(home, { package: name, capabilities: opts.all ? 'all' : capabilities, scope: scopeOption(opts), deny: Boolean(opts.deny), source: 'cli' }, auditTo(home));
        const text =
          record.decision === 'denied'
            ? `Denied ${name} (${scopeLabel(record.scope)}): it does not run there.`
            : `Granted ${name} (${scopeLabel(record.scope)}): ${record.capabilities.length === 0 ? 'nothing' : record.capabilities.join(', ')}.`;
        out.result(text, { grant: record });
      }, opts),
    );
};
