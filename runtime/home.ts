import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The MPP home folder: `$MPP_HOME`, else `$XDG_DATA_HOME/mpp`, else
 * `~/.local/share/mpp` (`%APPDATA%\mpp` on Windows). Everything MPP keeps
 * (trust store, installed packages, KV data, audit log) lives below it.
 */
export function mppHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MPP_HOME) return env.MPP_HOME;
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'mpp');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'mpp');
  return join(homedir(), '.local', 'share', 'mpp');
}
