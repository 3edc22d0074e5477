/**
 * How a tool's paths become host file operations: the seam between the
 * wasi:filesystem policy (fs.ts) and the mechanism that keeps every
 * operation beneath its grant root.
 *
 * - `linux-fd` (fs-at.ts): a walk from held directory fds through
 *   /proc/self/fd; no lock needed, no process can race it out.
 * - `portable` (fs-portable.ts): a walk over path strings from the root's
 *   real path, checking every component with lstat, under a cross-process
 *   lock (fs-lock.ts) that keeps MPP tools' renames out of other tools'
 *   walks; the platform's raw calls live in fs-platform-*.ts.
 *
 * The host picks one per sandbox (../fs-strategy.ts) and the worker builds it
 * from WorkerInit.fs.
 */
import type { FdRegistry } from './fd-table.ts';
import type { LockMode } from './fs-lock.ts';

export type FsStrategyName = 'linux-fd' | 'portable';

/** What names one directory whatever path reaches it. */
export interface FileId {
  readonly dev: bigint;
  readonly ino: bigint;
}

export function sameFile(a: FileId, b: FileId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

declare const dirBrand: unique symbol;
/** A directory a walk may start from or stand in; what it holds is the strategy's business. */
export type DirRef = { readonly [dirBrand]: true };

export interface Resolved {
  /** The directory holding `leaf`. */
  readonly parent: DirRef;
  /** One path component; '.' when the path names the directory itself. */
  readonly leaf: string;
  /** The path ended with '/': the leaf must be a directory. */
  readonly mustBeDir: boolean;
  /** Releases what the walk holds. Always call it. */
  release(): void;
}

export interface FsStrategy {
  readonly name: FsStrategyName;
  /** Opens a grant root (already a real path): its fd and the ref walks start from. */
  openRoot(hostPath: string, fds: FdRegistry): { fd: number; dir: DirRef };
  /** The ref of a directory just opened as `fd` at (parent, leaf). */
  dirAt(parent: DirRef, leaf: string, fd: number): DirRef;
  /**
   * Walks `path` beneath `base`, expanding symbolic links in JS, never above
   * `base`; the final component is expanded only when `followFinal` is set.
   */
  resolve(base: DirRef, path: string, followFinal: boolean, fds: FdRegistry): Resolved;
  /** The host path through which the call acts on exactly `leaf` of `dir` ('.' = dir). */
  path(dir: DirRef, leaf: string): string;
  /** Opens `leaf` of `parent` without following a link; throws `loop` when it is (or became) one. */
  open(parent: DirRef, leaf: string, flags: number, mode: number, fds: FdRegistry): number;
  /** Runs one file operation (walk and call) so that no other tool's rename lands inside it. */
  guarded<T>(mode: LockMode, op: () => T): T;
}
