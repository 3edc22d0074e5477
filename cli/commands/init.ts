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
        const next = [`cd ${dir}`, 'npm test              # build, then run the tool in the sandbox', 'mpp keygen            # once: your signing key', 'mpp sign dist/*.mpp   # sign the package to share it'];
        out.result(`Created ${dir}.\nNext:\n${next.map((l) => `  ${l}`).join('\n')}`, { dir, name, next });
      }, opts),
    );
};
