/**
 * Which filesystem strategy a sandbox uses (worker/fs-strategy.ts), decided
 * once on the host thread and handed to the worker in WorkerInit.fs.
 *
 * `linux-fd` wherever /proc/self/fd exists (Linux); `portable` elsewhere
 * (macOS, Windows), or on Linux when the host setting MPP_FS_STRATEGY=portable
 * asks for it (to run the portable strategy where CI can test it). A value
 * other than the two names is refused, never guessed.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MppError } from '../errors.ts';
import type { Grant } from './grant.ts';
import type { WorkerInit } from './protocol.ts';
import { FD_WALK_AVAILABLE } from './worker/fs-at.ts';
import { mapHostRoot } from './worker/fs-names.ts';
import { hostPlatform } from './worker/fs-platform.ts';
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
      detail: { reason: FS_PLATFORM_REFUSAL },
    });
  }
  throw new MppError('MPP_E_GRANT_INVALID', `${FS_STRATEGY_ENV} must be "linux-fd" or "portable", got ${JSON.stringify(setting)}.`, {
    hint: `Unset ${FS_STRATEGY_ENV}, or set it to one of the two strategy names.`,
    detail: { reason: FS_PLATFORM_REFUSAL },
  });
}

/** `detail.reason` of a folder grant this platform's strategy cannot honour (the editor tells the user). */
export const FS_PLATFORM_REFUSAL = 'fs-platform';

/**
 * Refuses, before any worker starts, a folder the portable strategy would
 * refuse to walk from (Windows device paths such as \\.\ or \\?\GLOBALROOT).
 */
function refuseUnwalkableRoots(grant: Grant, strategy: FsStrategyName): void {
  if (strategy !== 'portable') return;
  const rules = hostPlatform().rules;
  for (const g of grant.fs) {
    if (mapHostRoot(g.hostPath, rules) !== null) continue;
    throw new MppError('MPP_E_GRANT_INVALID', `The folder ${g.hostPath} cannot be granted on this platform: the sandbox walks only from a drive path or a network share (spec/sandbox.md §4.3).`, {
      hint: 'Grant the folder by its drive letter or \\\\server\\share path.',
      detail: { reason: FS_PLATFORM_REFUSAL, hostPath: g.hostPath },
    });
  }
}

/**
 * The filesystem part of a sandbox's WorkerInit. Without folder grants
 * nothing is walked: the setting is not consulted and no lock is taken.
 * The portable strategy's lock lives inside the sandbox cache: shared by
 * every host process of one MPP home, and no writable grant may overlap it
 * (host.ts refuses those), so no tool can fake or remove an entry.
 */
export function filesystemFor(grant: Grant, cacheDir: string, override?: FsStrategyName): WorkerInit['fs'] {
  const strategy = override ?? (grant.fs.length > 0 ? chooseFsStrategy() : 'portable');
  refuseUnwalkableRoots(grant, strategy);
  // Every instance opens its roots again: one moved away and replaced (by a
  // tool with a write grant on the parent) must not be opened instead.
  const roots = grant.fs.map((g) => {
    let st;
    try {
      st = statSync(g.hostPath, { bigint: true });
    } catch (cause) {
      // Checked when the grant was read; gone or unreadable since.
      throw new MppError('MPP_E_GRANT_INVALID', `The granted folder ${g.hostPath} can no longer be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}).`, {
        hint: 'Put the folder back, or grant an existing folder.',
        cause,
      });
    }
    return { dev: st.dev, ino: st.ino };
  });
  return { strategy, lockDir: join(resolve(cacheDir), 'fs-locks'), roots };
}
