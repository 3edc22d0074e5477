import { resolve } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { installDevelopmentBuild, type DevelopmentConsent } from '../../runtime/dev/install.ts';
import { withAuditLog } from '../../runtime/audit/trail.ts';
import { isEngine } from '../../runtime/build/componentize.ts';
import type { CliContext, RegisterCommand } from '../context.ts';
import { usage } from '../output.ts';
import { cliCaller, cliToolHost } from '../tool-host.ts';

interface DevOptions {
  tool?: string;
  input?: string;
  engine?: string;
  workspace?: string;
  yes?: boolean;
  json?: boolean;
}

export const registerDev: RegisterCommand = (program, run) => {
  program
    .command('dev')
    .description('Build the tool project as a development package, install it (signed with your own key, trusted for this package only) and optionally run one tool.')
    .argument('[dir]', 'the tool project folder', '.')
    .option('-t, --tool <tool>', 'run this tool after installing')
    .option('-i, --input <json>', 'the input JSON object for --tool', '{}')
    .option('--engine <engine>', 'JavaScript engine inside the component: quickjs or spidermonkey')
    .option('--workspace <dir>', 'the folder ${workspace} stands for when the tool runs (default: the project folder)')
    .option('-y, --yes', 'agree to create your signing key if there is none and to trust it for development builds of this package')
    .option('--json', 'print the result as JSON')
    .action((dir: string, opts: DevOptions) =>
      run(async (ctx) => {
        if (opts.engine !== undefined && !isEngine(opts.engine)) throw usage(`--engine must be quickjs or spidermonkey, not ${JSON.stringify(opts.engine)}.`);
        const home = mppHome();
        const projectDir = resolve(dir);
        const dev = await withAuditLog(home, (audit) =>
          installDevelopmentBuild(home, {
            projectDir,
            consent: terminalDevelopmentConsent(ctx, Boolean(opts.yes)),
            audit,
            onProgress: (m) => ctx.out.progress(m),
            ...(opts.engine && isEngine(opts.engine) ? { engine: opts.engine } : {}),
          }),
        );
        const { name, version } = dev.installed;
        const installedText = `Installed ${name}@${version} (development) in ${dev.build.timings.total} ms${dev.build.cached ? '' : ' (engine component built; the next builds reuse it)'}.`;
        const summary = { name, version, change: dev.installed.change, file: dev.file, digest: dev.installed.digest, development: true, timings: dev.build.timings };
        if (!opts.tool) {
          ctx.out.result(`${installedText}\nRun a tool with \`mpp run ${name} <tool>\`, or \`mpp dev --tool <tool>\`.`, summary);
          return;
        }
        ctx.out.progress(installedText);
        const result = await cliToolHost(ctx, home).call({
          target: { installed: name },
          tool: opts.tool,
          input: opts.input!,
          caller: cliCaller(undefined),
          workspace: resolve(opts.workspace ?? projectDir),
        });
        for (const notice of result.notices) ctx.out.warn(notice);
        ctx.out.result(JSON.stringify(result.output, null, 2), { ...summary, output: result.output, durationMs: result.durationMs, redactions: result.redactions });
      }, opts),
    );
};

/** Asks at a terminal; `yes` is the answer given up front. Without a terminal and without --yes, nothing is agreed. */
function terminalDevelopmentConsent(ctx: CliContext, yes: boolean): DevelopmentConsent {
  const human = ctx.interactive && !ctx.out.json;
  const confirm = async (question: string): Promise<boolean> => yes || (human && /^y(es)?$/i.test(await ctx.ask(question)));
  return {
    createKey: (path) => confirm(`There is no signing key at ${path}. Create one for your development builds? [y/N] `),
    trustKey: (req) => {
      if (human && !yes) {
        process.stderr.write(`Development builds of ${req.packageName} are signed with your key ${req.fingerprint}.\nTrusting it here accepts it for development builds of ${req.packageName} only, never for anything else it signs.\n`);
      }
      return confirm(`Trust your key for development builds of ${req.packageName}? [y/N] `);
    },
  };
}
