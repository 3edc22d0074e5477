/**
 * The `portable` strategy: what keeps a tool beneath its grant where Node
 * offers no openat (macOS, Windows; on Linux when chosen).
 *
 * A directory is a grant root (its real path, mapped by fs-names.ts) plus
 * the components walked from it. Every operation walks again from the root:
 * each component is checked as a name (fs-names.ts), then lstat'ed; a
 * symbolic link is expanded in JS (relative targets only, never above the
 * descriptor the walk started from), a directory is entered, anything else
 * ends the walk. The call then acts on the joined path. Opens additionally
 * pass the platform's flags (macOS: O_NOFOLLOW_ANY, so the kernel refuses a
 * link anywhere in the path) and compare the object opened with the object
 * the name holds afterwards (dev, ino), refusing with `loop` when they differ.
 *
 * Between the walk's lstat and the call, a component could be swapped for a
 * link. Against MPP tools this is closed by the lock: every operation runs
 * under it, namespace changes (create, mkdir, rmdir, unlink, rename)
 * exclusively, everything else shared, so no tool's rename lands inside
 * another tool's walk, in this process or another sharing the MPP home.
 * Against other programs of the user it is not closed (spec/sandbox.md §4).
 */
import { constants, fstatSync, lstatSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { FsError, OUTSIDE_GRANT, toFsError } from './fs-errors.ts';
import type { FdRegistry } from './fd-table.ts';
import { checkGuestPath, MAX_SYMLINKS, splitGuestPath } from './fs-at.ts';
import { FsLock } from './fs-lock.ts';
import { isAbsoluteTarget, joinHost, mapHostRoot, nameProblem, splitTarget } from './fs-names.ts';
import type { FsPlatform } from './fs-platform.ts';
import { sameFile, type DirRef, type FileId, type FsStrategy, type Resolved } from './fs-strategy.ts';

/** This strategy's DirRef: a mapped root and the link-free components beneath it. */
interface PathDir {
  readonly root: string;
  /** The root directory itself, whatever path reaches it. */
  readonly rootId: FileId;
  readonly rel: readonly string[];
}
const pathDir = (d: DirRef): PathDir => d as unknown as PathDir;
const ref = (root: string, rootId: FileId, rel: readonly string[]): DirRef => Object.freeze({ root, rootId, rel: Object.freeze([...rel]) }) as unknown as DirRef;

function statOf(path: string): BigIntStats {
  try {
    return statSync(path, { bigint: true });
  } catch (e) {
    throw toFsError(e);
  }
}

function lstatOrNull(path: string): BigIntStats | null {
  try {
    return lstatSync(path, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toFsError(e);
  }
}

export function portableStrategy(platform: FsPlatform, lockDir: string): FsStrategy {
  const lock = new FsLock(lockDir, { processStart: platform.processStart });
  const host = (root: string, rel: readonly string[]) => joinHost(root, rel, platform.rules);
  const checkName = (name: string) => {
    const problem = nameProblem(name, platform.rules);
    if (problem) throw new FsError(problem);
  };

  function resolve(base: DirRef, path: string, followFinal: boolean): Resolved {
    checkGuestPath(path);
    const { root, rootId, rel } = pathDir(base);
    // The root path must still reach the root opened (a tool with a write
    // grant on its parent could have moved it and put a link in its place).
    if (!sameFile(statOf(root), rootId)) throw new FsError('no-entry');
    // Then the descriptor's own chain: it was link-free when opened; a
    // directory replaced since then is gone for this descriptor.
    for (let i = 1; i <= rel.length; i++) {
      const st = lstatOrNull(host(root, rel.slice(0, i)));
      if (!st || !st.isDirectory()) throw new FsError('no-entry');
    }
    const mustBeDir = path.endsWith('/');
    const stack = [...rel];
    const floor = rel.length;
    let pending = splitGuestPath(path);
    let links = 0;
    const at = (leaf: string): Resolved => ({ parent: ref(root, rootId, stack), leaf, mustBeDir, release: () => {} });
    while (pending.length > 0) {
      const seg = pending.shift()!;
      if (seg === '..') {
        if (stack.length === floor) throw new FsError('not-permitted', OUTSIDE_GRANT('`..`'));
        stack.pop();
        continue;
      }
      checkName(seg);
      const last = pending.length === 0;
      if (last && !followFinal && !mustBeDir) return at(seg);
      const here = host(root, [...stack, seg]);
      const st = lstatOrNull(here);
      if (!st) {
        if (last) return at(seg);
        throw new FsError('no-entry');
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new FsError('loop');
        let target: string;
        try {
          target = readlinkSync(here);
        } catch (e) {
          throw toFsError(e);
        }
        // An absolute target (a junction's always is) leaves the tree: refuse, as the fd walk does.
        if (isAbsoluteTarget(target, platform.rules)) throw new FsError('not-permitted', OUTSIDE_GRANT('a symbolic link'));
        pending = [...splitTarget(target, platform.rules), ...pending];
        continue;
      }
      if (last) return at(seg);
      if (!st.isDirectory()) throw new FsError('not-directory');
      stack.push(seg);
    }
    return at('.');
  }

  return {
    name: 'portable',
    openRoot(hostPath, fds) {
      const root = mapHostRoot(hostPath, platform.rules);
      if (root === null) throw new FsError('not-permitted');
      // A real path (grant.ts): the platform's flags apply to it like to every other open.
      const fd = fds.open(root, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | platform.openFlags);
      try {
        const st = fstatSync(fd, { bigint: true });
        return { fd, dir: ref(root, { dev: st.dev, ino: st.ino }, []) };
      } catch (e) {
        fds.close(fd);
        throw e;
      }
    },
    dirAt: (parent, leaf, _fd) => {
      const p = pathDir(parent);
      return ref(p.root, p.rootId, leaf === '.' ? p.rel : [...p.rel, leaf]);
    },
    resolve: (base, path, followFinal) => resolve(base, path, followFinal),
    path: (dir, leaf) => {
      const p = pathDir(dir);
      return host(p.root, leaf === '.' ? p.rel : [...p.rel, leaf]);
    },
    open(parent, leaf, flags, mode, fds) {
      const p = pathDir(parent);
      const target = host(p.root, leaf === '.' ? p.rel : [...p.rel, leaf]);
      // The walk expanded every link it may follow; one here is not to be followed.
      if (lstatOrNull(target)?.isSymbolicLink()) throw new FsError('loop');
      const fd = fds.open(target, flags | platform.openFlags, mode);
      let same = false;
      try {
        const opened = fstatSync(fd, { bigint: true });
        const named = lstatOrNull(target);
        same = named !== null && !named.isSymbolicLink() && named.dev === opened.dev && named.ino === opened.ino;
      } finally {
        if (!same) fds.close(fd);
      }
      if (!same) throw new FsError('loop');
      return fd;
    },
    guarded: (mode, op) => lock.run(mode, op),
  };
}

