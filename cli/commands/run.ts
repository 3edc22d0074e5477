import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { homePaths, mppHome } from '../../runtime/home.ts';
import { userGrant, type GrantRequest } from '../../runtime/policy/grant.ts';
import { effectiveLimits } from '../../runtime/policy/limits.ts';
import { invokeTool } from '../../runtime/run/invoke.ts';
import type { HostServices, LogRecord } from '../../runtime/sandbox/host-services.ts';
import { openKvStore } from '../../runtime/state/kv.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { printable, usage } from '../output.ts';
import { loadPackageForRun } from '../load-package.ts';

interface RunOptions {
  input?: string;
  inputFile?: string;
  allowRead: string[];
  allowWrite: string[];
  allowNet: string[];
  allowEnv: string[];
  allowKv?: boolean;
  allowAll?: boolean;
  workspace?: string;
  timeout?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export const registerRun: RegisterCommand = (program, run) => {
  program
    .command('run')
    .description('Run one tool of a package in the sandbox, with only the capabilities you allow (deny by default).')
    .argument('<package>', 'an installed package name (scope/name) or a .mpp file')
    .argument('<tool>', 'the tool to call')
    .option('-i, --input <json>', 'the input JSON object', '{}')
    .option('--input-file <file>', 'read the input JSON from a file')
    .option('--allow-read <dir>', 'allow reading this folder (inside one the package declares); repeatable', collect, [])
    .option('--allow-write <dir>', 'allow reading and writing this folder (inside one declared read-write); repeatable', collect, [])
    .option('--allow-net <origin>', 'allow requests to scheme://host[:port] (one the package declares); repeatable', collect, [])
    .option('--allow-env <var>', 'pass this environment variable (one the package declares); repeatable', collect, [])
    .option('--allow-kv', 'allow the package its key-value store, with its declared quota')
    .option('--allow-all', 'allow everything the package declares')
    .option('--workspace <dir>', 'the folder ${workspace} stands for (default: the current folder)')
    .option('--timeout <ms>', 'lower the time limit of the call')
    .option('--json', 'print {"ok":true,"output":...} or the error as JSON')
    .action((pkgArg: string, toolName: string, opts: RunOptions) =>
      run(async (ctx) => {
        const home = mppHome();
        if (opts.timeout !== undefined && !/^[1-9][0-9]*$/.test(opts.timeout)) throw usage('--timeout takes a whole number of milliseconds.');
        const input = opts.inputFile ? readUserFile(opts.inputFile, 'input file').toString('utf8') : opts.input!;
        const pkg = await loadPackageForRun(ctx, home, pkgArg);

        const request: GrantRequest = {
          workspace: resolve(opts.workspace ?? process.cwd()),
          home: homedir(),
          mppHome: home,
          read: opts.allowRead,
          write: opts.allowWrite,
          net: opts.allowNet,
          env: opts.allowEnv,
          kv: Boolean(opts.allowKv),
          all: Boolean(opts.allowAll),
        };
        const { grant, kv } = userGrant(pkg.manifest, request);
        const limits = effectiveLimits(pkg.manifest, opts.timeout ? { timeoutMs: Number(opts.timeout) } : {});
        const store = kv ? openKvStore(home, pkg.manifest.name, kv) : undefined;
        const services: HostServices = { log: logLine, ...(store ? { kv: store } : {}) };
        try {
          const output = await invokeTool({ pkg, tool: toolName, input, grant: { ...grant, limits }, services, cacheDir: homePaths(home).componentCache });
          ctx.out.result(JSON.stringify(output, null, 2), { output });
        } finally {
          store?.close();
        }
      }, opts),
    );
};

/** Tool log lines go to stderr, marked with their source, never mixed into the result. */
function logLine(r: LogRecord): void {
  process.stderr.write(`[${r.source}] ${r.level}: ${printable(r.message)}\n`);
}
