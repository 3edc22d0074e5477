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
    .option('--dev', 'a development build: fast to rebuild, runs only where installed with `mpp dev`, never signed with `mpp sign` or published')
    .option('--json', 'print the result as JSON')
    .action((dir: string, opts: { out?: string; engine?: string; component?: string; dev?: boolean; json?: boolean }) =>
      run(async ({ out }) => {
        if (opts.engine !== undefined && opts.engine !== 'quickjs' && opts.engine !== 'spidermonkey') throw usage(`--engine must be quickjs or spidermonkey, not ${JSON.stringify(opts.engine)}.`);
        if (opts.engine !== undefined && opts.component !== undefined) throw usage('--engine chooses the engine of a JS build; a --component is packed as it is: give one of them.');
        if (opts.dev && opts.component !== undefined) throw usage('--dev makes a development build of a JS tool; a --component is packed as it is: give one of them.');
        const projectDir = resolve(dir);
        const result = await buildPackage({
          projectDir,
          ...(opts.engine ? { engine: opts.engine as 'quickjs' | 'spidermonkey' } : {}),
          ...(opts.component !== undefined ? { componentFile: resolve(opts.component) } : {}),
          development: Boolean(opts.dev),
          onProgress: (m) => out.progress(m),
        });
        const m = result.manifest as { name: string; version: string };
        const target = resolve(opts.out ?? join(projectDir, 'dist', `${basename(m.name)}-${m.version}${result.development ? '-dev' : ''}.mpp`));
        writeFileAtomic(target, result.archive);
        const next = result.development ? 'Install and run it with `mpp dev`.' : `Sign it with \`mpp sign ${target}\`.`;
        out.result(`Built ${target} (${formatBytes(result.archive.length)}, unsigned${result.development ? ', development build' : ''}). ${next}`, {
          file: target,
          name: m.name,
          version: m.version,
          bytes: result.archive.length,
          timings: result.timings,
          cached: result.cached,
          development: result.development,
        });
      }, opts),
    );
};
