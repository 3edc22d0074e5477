import { resolve } from 'node:path';
import { initProject } from '../../runtime/build/init.ts';
import type { RegisterCommand } from '../context.ts';

export const registerInit: RegisterCommand = (program, run) => {
  program
    .command('init')
    .description('Create a new tool project (TypeScript source, manifest source, a test).')
    .argument('<name>', 'package name, scope/name (e.g. acme/file-search)')
    .option('-d, --dir <dir>', 'folder to create (default: the part of the name after the slash)')
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { dir?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const dir = resolve(opts.dir ?? name.split('/').pop() ?? name);
        await initProject(dir, name);
        out.result(`Created ${dir}.\nNext: cd ${dir} && mpp build && mpp sign dist/*.mpp`, { dir, name });
      }, opts),
    );
};
