/**
 * Which filesystem strategy a sandbox uses (worker/fs-strategy.ts), decided
 * once on the host thread and handed to the worker in WorkerInit.fs.
 *
 * `linux-fd` wherever /proc/self/fd exists (Linux); `portable` elsewhere
 * (macOS, Windows), or on Linux when the host setting MPP_FS_STRATEGY=portable
 * asks for it (to run the portable strategy where CI can test it). A value
 * other than the two names is refused, never guessed.
 */
import { join } from 'node:path';
import { MppError } from '../errors.ts';
import { FD_WALK_AVAILABLE } from './worker/fs-at.ts';
import type { FsStrategyName } from './worker/fs-strategy.ts';

export type { FsStrategyName };

export const FS_STRATEGY_ENV = 'MPP_FS_STRATEGY';

export function chooseFsStrategy(setting: string | undefined = process.env[FS_STRATEGY_ENV], fdWalk = FD_WALK_AVAILABLE): FsStrategyName {
  if (setting === undefined || setting === '') return fdWalk ? 'linux-fd' : 'portable';
  if (setting === 'portable') return 'portable';
  if (setting === 'linux-fd') {
    if (fdWalk) return 'linux-fd';
    throw new MppError('MPP_E_GRANT_INVALID', `${FS_STRATEGY_ENV}=linux-fd needs /proc/self/fd (Linux); this system has none.`, {
      hint: `Unset ${FS_STRATEGY_ENV} (or set it to portable) on this system.`,
    });
  }
  throw new MppError('MPP_E_GRANT_INVALID', `${FS_STRATEGY_ENV} must be "linux-fd" or "portable", got ${JSON.stringify(setting)}.`, {
    hint: `Unset ${FS_STRATEGY_ENV}, or set it to one of the two strategy names.`,
  });
}

/**
 * The portable strategy's lock lives inside the sandbox cache: it is shared
 * by every host process of one MPP home, and no writable grant may overlap it
 * (host.ts refuses those), so no tool can fake or remove an entry.
 */
export function fsLockDirIn(cacheDir: string): string {
  return join(cacheDir, 'fs-locks');
}
