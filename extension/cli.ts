/**
 * The `mpp` command line the editor uses for what it does not ship (the
 * build needs the componentizer): the one named in `mpp.cliPath`, else an
 * `mpp` on PATH. Never fetched: no package named `mpp` on a registry is ours.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { MppError } from '../runtime/errors.ts';

export interface CliCommand {
  /** What to execute, and the arguments before the command's own. */
  readonly file: string;
  readonly prefix: readonly string[];
  /** For a terminal: the command line that runs it. */
  readonly shellText: string;
}

export const INSTALL_CLI_HINT =
  'Install the MPP command line so that `mpp` is on PATH (from a checkout of MPP: `npm ci && npm run build && npm link`), or set "mpp.cliPath" to its path (e.g. /path/to/mpp/dist/cli.js).';

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function quote(s: string): string {
  return process.platform === 'win32' ? `"${s.replace(/"/g, '""')}"` : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `setting` (mpp.cliPath) when given, else `mpp` on `PATH`; MPP_E_CLI_NOT_FOUND says how to install it. */
export function findCli(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): CliCommand {
  const named = setting?.trim();
  if (named) {
    if (!isAbsolute(named)) throw new MppError('MPP_E_CLI_NOT_FOUND', `"mpp.cliPath" must be an absolute path, not ${JSON.stringify(named)}.`, { hint: INSTALL_CLI_HINT });
    // A script (dist/cli.js) runs under this editor's Node, so its shebang's `node` need not be on PATH.
    if (/\.(c|m)?js$/.test(named)) {
      try {
        if (statSync(named).isFile()) return { file: process.execPath, prefix: [named], shellText: `${quote(process.execPath)} ${quote(named)}` };
      } catch {
        // reported below
      }
    } else if (executable(named)) return { file: named, prefix: [], shellText: quote(named) };
    throw new MppError('MPP_E_CLI_NOT_FOUND', `"mpp.cliPath" names ${named}, which is not an executable file or a .js script.`, { hint: INSTALL_CLI_HINT });
  }
  const names = process.platform === 'win32' ? ['mpp.cmd', 'mpp.exe'] : ['mpp'];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue; // A relative PATH entry would run whatever the workspace holds.
    for (const n of names) if (executable(join(dir, n))) return { file: join(dir, n), prefix: [], shellText: quote(join(dir, n)) };
  }
  throw new MppError('MPP_E_CLI_NOT_FOUND', 'The MPP command line (`mpp`) was not found on PATH, and "mpp.cliPath" is not set.', { hint: INSTALL_CLI_HINT });
}

/** Runs `mpp <args> --json` and returns its parsed result; a coded failure of the CLI becomes that MppError. */
export function runCliJson(cli: CliCommand, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(cli.file, [...cli.prefix, ...args, '--json'], { cwd: opts.cwd, env: opts.env, maxBuffer: 16 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      let parsed: { ok?: boolean; error?: { code?: string; message?: string; hint?: string } } & Record<string, unknown>;
      try {
        parsed = JSON.parse(stdout) as typeof parsed;
      } catch {
        reject(new MppError('MPP_E_CLI_FAILED', `\`mpp ${args[0]}\` failed without a result${error ? ` (${error.message.split('\n')[0]})` : ''}: ${stderr.trim().slice(-2000) || 'no output'}`, { hint: INSTALL_CLI_HINT }));
        return;
      }
      if (parsed.ok === true) return resolve(parsed);
      const e = parsed.error ?? {};
      reject(new MppError('MPP_E_CLI_FAILED', `\`mpp ${args[0]}\` failed: ${e.message ?? 'no message'}${e.code ? ` (${e.code})` : ''}`, { ...(e.hint ? { hint: e.hint } : {}), detail: { cliCode: e.code ?? null } }));
    });
  });
}
