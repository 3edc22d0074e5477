import { mppHome } from '../../runtime/home.ts';
import { permissionsOf } from '../../runtime/governance/decisions.ts';
import { scopeLabel } from '../../runtime/state/grants.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import type { RegisterCommand } from '../context.ts';
import { formatTable } from '../output.ts';
import { scopeOption } from '../scope.ts';

export const registerPermissions: RegisterCommand = (program, run) => {
  program
    .command('permissions')
    .description('Show what an installed package asks for and what you granted it, in plain words.')
    .argument('<package>', 'an installed package name (scope/name)')
    .option('--workspace <dir>', 'the workspace to show the decision for (default: the current folder)')
    .option('--global', 'show the global decision only')
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { workspace?: string; global?: boolean; json?: boolean }) =>
      run(async ({ out }) => {
        const view = permissionsOf(mppHome(), name, scopeOption(opts));
        const decided = view.effective
          ? `Decision in force: ${view.effective.decision} (${scopeLabel(view.effective.scope)}, ${view.effective.source}, ${view.effective.updatedAt}).`
          : view.capabilities.length === 0
            ? 'No decision recorded; it asks for nothing, so it runs.'
            : 'No decision recorded: it does not run until you grant (`mpp grant`) or answer at a terminal.';
        const rows = view.capabilities.map((c) => [c.id, c.state === 'granted' && view.effective?.decision === 'granted' ? 'granted' : c.state === 'new' ? 'not decided' : 'not granted', c.target ? `${c.text} (${c.target})` : c.text]);
        const text = [
          `${view.package} ${view.version}, publisher ${view.publisher.name ?? '(unnamed)'} ${fingerprint(view.publisher.keyid)}`,
          decided,
          view.capabilities.length === 0 ? 'It asks for no capabilities.' : formatTable([['CAPABILITY', 'STATE', 'MEANING'], ...rows]),
        ].join('\n');
        out.result(text, view);
      }, opts),
    );
};
