import { basename, join, resolve } from 'node:path';
import { formatBytes } from '../../runtime/format/describe.ts';
import { buildPackage } from '../../runtime/build/build.ts';
import { writeFileAtomic } from '../../runtime/store/atomic.ts';
import type { RegisterCommand } from '../context.ts';
import { usage } from '../output.ts';

export const registerBuild: RegisterCommand = (program, run) => {
  program
    .command('build')
    .description('Build the tool project into a deterministic, unsigned .mpp (bundle with esbuild, componentize, pack), or pack a prebuilt component with --component.')
    .argument('[dir]', 'the tool project folder', '.')
    .option('-o, --out <file>', 'where to write the package (default: dist/<name>-<version>.mpp in the project)')
    .option('--engine <engine>', 'JavaScript engine inside the component: quickjs or spidermonkey')
    .option('--component <file>', 'pack this prebuilt component (any language, targeting the mpp:tool world) instead of building src/index.ts')
    .option('--json', 'print the result as JSON')
    .action((dir: string, opts: { out?: string; engine?: string; component?: string; json?: boolean }) =>
      run(async ({ out }) => {
        if (opts.engine !== undefined && opts.engine !== 'quickjs' && opts.engine !== 'spidermonkey') throw usage(`--engine must be quickjs or spidermonkey, not ${JSON.stringify(opts.engine)}.`);
        if (opts.engine !== undefined && opts.component !== undefined) throw usage('--engine chooses the engine of a JS build; a --component is packed as it is: give one of them.');
        const projectDir = resolve(dir);
        const result = await buildPackage({
          projectDir,
          ...(opts.engine ? { engine: opts.engine as 'quickjs' | 'spidermonkey' } : {}),
          ...(opts.component !== undefined ? { componentFile: resolve(opts.component) } : {}),
          onProgress: (m) => out.progress(m),
        });
        const m = result.manifest as { name: string; version: string };
        const target = resolve(opts.out ?? join(projectDir, 'dist', `${basename(m.name)}-${m.version}.mpp`));
        writeFileAtomic(target, result.archive);
        out.result(`Built ${target} (${formatBytes(result.archive.length)}, unsigned). Sign it with \`mpp sign ${target}\`.`, {
          file: target,
          name: m.name,
          version: m.version,
          bytes: result.archive.length,
          timings: result.timings,
          cached: result.cached,
        });
      }, opts),
    );
};
