import { resolve } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import type { RegisterCommand } from '../context.ts';
import { isFile, readUserFile } from '../files.ts';
import { integerOption } from '../output.ts';
import { verifyFile } from '../trust-prompt.ts';
import { withAuditLog } from '../../runtime/audit/trail.ts';
import { cliCaller, cliToolHost } from '../tool-host.ts';

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
  credential?: string;
  grants?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export const registerRun: RegisterCommand = (program, run) => {
  program
    .command('run')
    .description('Run one tool of a package in the sandbox with what you granted it (`mpp grant`), or with --allow-* for this run only.')
    .argument('<package>', 'an installed package name (scope/name) or a .mpp file')
    .argument('<tool>', 'the tool to call')
    .option('-i, --input <json>', 'the input JSON object', '{}')
    .option('--input-file <file>', 'read the input JSON from a file')
    .option('--allow-read <dir>', 'for this run only: allow reading this folder (inside one the package declares); repeatable', collect, [])
    .option('--allow-write <dir>', 'for this run only: allow reading and writing this folder (inside one declared read-write); repeatable', collect, [])
    .option('--allow-net <origin>', 'for this run only: allow requests to scheme://host[:port] (one the package declares); repeatable', collect, [])
    .option('--allow-env <var>', 'for this run only: pass this environment variable (one the package declares); repeatable', collect, [])
    .option('--allow-kv', 'for this run only: allow the package its key-value store, with its declared quota')
    .option('--allow-all', 'for this run only: allow everything the package declares')
    .option('--no-grants', 'for this run only: grant nothing, whatever was granted before (deny by default, without asking)')
    .option('--workspace <dir>', 'the folder ${workspace} stands for (default: the current folder)')
    .option('--timeout <ms>', 'lower the time limit of the call')
    .option('--credential <file>', 'call as the agent of this credential (`mpp agent credential`); default: $MPP_AGENT_CREDENTIAL, else unverified')
    .option('--json', 'print {"ok":true,"output":...} or the error as JSON')
    .action((pkgArg: string, toolName: string, opts: RunOptions) =>
      run(async (ctx) => {
        const home = mppHome();
        const timeoutMs = opts.timeout === undefined ? undefined : integerOption(opts.timeout, '--timeout', 1);
        const input = opts.inputFile ? readUserFile(opts.inputFile, 'input file').toString('utf8') : opts.input!;
        const caller = cliCaller(opts.credential);
        const oneOff = opts.allowRead.length + opts.allowWrite.length + opts.allowNet.length + opts.allowEnv.length > 0 || opts.allowKv || opts.allowAll || opts.grants === false;
        const target = isFile(pkgArg)
          ? { verified: await withAuditLog(home, (audit) => verifyFile(ctx, readUserFile(pkgArg, 'package'), home, { command: `mpp run ${pkgArg}`, audit, file: resolve(pkgArg) })) }
          : { installed: pkgArg };
        const result = await cliToolHost(ctx, home).call({
          target,
          tool: toolName,
          input,
          caller,
          workspace: resolve(opts.workspace ?? process.cwd()),
          ...(oneOff
            ? { oneOffGrant: { read: opts.allowRead, write: opts.allowWrite, net: opts.allowNet, env: opts.allowEnv, kv: Boolean(opts.allowKv), all: Boolean(opts.allowAll) } }
            : {}),
          ...(timeoutMs ? { timeoutMs } : {}),
        });
        for (const notice of result.notices) ctx.out.warn(notice);
        ctx.out.result(JSON.stringify(result.output, null, 2), { output: result.output, agent: result.caller, durationMs: result.durationMs, redactions: result.redactions });
      }, opts),
    );
};
