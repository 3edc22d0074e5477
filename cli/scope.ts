import { resolve } from 'node:path';
import { GLOBAL_SCOPE, workspaceScope, type GrantScope } from '../runtime/state/grants.ts';
import { usage } from './output.ts';

/** The scope a permission command acts on: --global, or the workspace folder (default: the current folder). */
export function scopeOption(opts: { global?: boolean; workspace?: string }): GrantScope {
  if (opts.global && opts.workspace) throw usage('Give either --global or --workspace, not both.');
  return opts.global ? GLOBAL_SCOPE : workspaceScope(resolve(opts.workspace ?? process.cwd()));
}
