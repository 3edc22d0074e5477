/**
 * wasi:filesystem for one tool instance, built from its grant.
 *
 * Replaces the shim's filesystem entirely (the shim resolves paths in JS and
 * then opens path strings, which races). Policy enforced here; how a path
 * stays beneath its grant root is the strategy's job (fs-strategy.ts):
 * - Only the granted directories are reachable, each walked from its root.
 * - No symlink or hard-link creation (`symlink-at`, `link-at` are refused):
 *   a link a tool leaves behind would point other programs, and other tools,
 *   outside the grant.
 * - Read-only grants refuse every mutation with `read-only`, and their files
 *   are opened O_RDONLY, so a bug here cannot turn into a write.
 * - Only regular files and directories can be opened (opened O_NONBLOCK, then
 *   checked): a FIFO or device in a grant could block the worker thread in a
 *   syscall where `terminate()` cannot reach it.
 * - Host allocations per call are bounded (CHUNK), and so is the number of
 *   fds an instance may hold.
 */
import {
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
  type Dirent,
} from 'node:fs';
import { FsError, NO_LINKS, READ_ONLY, toFsError } from './fs-errors.ts';
import type { FdRegistry } from './fd-table.ts';
import type { LockMode } from './fs-lock.ts';
import type { DirRef, FsStrategy } from './fs-strategy.ts';
import { CHUNK, FileInputStream, FileOutputStream, type SharedFd } from './streams.ts';

// Windows defines none of O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK: 0 there (fs-platform-win32.ts).
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC } = constants;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const symbolDispose: symbol = Symbol.dispose ?? Symbol.for('dispose');

type DescriptorType =
  | 'unknown' | 'block-device' | 'character-device' | 'directory' | 'fifo' | 'symbolic-link' | 'regular-file' | 'socket';

interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  fileIntegritySync?: boolean;
  dataIntegritySync?: boolean;
  requestedWriteSync?: boolean;
  mutateDirectory?: boolean;
}
interface PathFlags {
  symlinkFollow?: boolean;
}
interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}
interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}
type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };

function typeOf(s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): DescriptorType {
  if (s.isFile()) return 'regular-file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symbolic-link';
  if (s.isFIFO()) return 'fifo';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character-device';
  if (s.isBlockDevice()) return 'block-device';
  return 'unknown';
}

function datetime(ns: bigint): Datetime {
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

function statRecord(s: BigIntStats) {
  return {
    type: typeOf(s),
    linkCount: s.nlink,
    size: s.size,
    dataAccessTimestamp: datetime(s.atimeNs),
    dataModificationTimestamp: datetime(s.mtimeNs),
    statusChangeTimestamp: datetime(s.ctimeNs),
  };
}

function metadataHashOf(s: BigIntStats) {
  // Same object and unchanged metadata -> same hash; a write or replacement
  // changes mtime, size or inode.
  return {
    upper: BigInt.asUintN(64, s.mtimeNs ^ (s.size << 20n)),
    lower: BigInt.asUintN(64, s.ino ^ (s.dev << 40n)),
  };
}

/** Seconds (fractional) for utimes, from a WASI new-timestamp and the current value. */
function timeArg(t: NewTimestamp, currentNs: bigint): number {
  if (t.tag === 'now') return Date.now() / 1000;
  const ns = t.tag === 'timestamp' ? t.val.seconds * 1_000_000_000n + BigInt(t.val.nanoseconds) : currentNs;
  return Number(ns) / 1e9;
}

class OpenFile implements SharedFd {
  readonly fd: number;
  #refs = 1;
  readonly #fds: FdRegistry;
  constructor(fd: number, fds: FdRegistry) {
    this.fd = fd;
    this.#fds = fds;
  }
  retain(): void {
    this.#refs++;
  }
  release(): void {
    if (--this.#refs === 0) this.#fds.close(this.fd);
  }
}

export interface FilesystemContext {
  readonly fds: FdRegistry;
  /** How paths become host operations (fs-strategy.ts). */
  readonly strategy: FsStrategy;
}

export class Descriptor {
  readonly #ctx: FilesystemContext;
  readonly #file: OpenFile;
  /** Where walks from this descriptor start; set for directories. */
  readonly #ref: DirRef | null;
  readonly #type: 'directory' | 'regular-file';
  /** The grant this descriptor came from allows writes. */
  readonly #mutable: boolean;
  readonly #read: boolean;
  readonly #write: boolean;
  readonly #preopen: boolean;
  #open = true;

  constructor(ctx: FilesystemContext, file: OpenFile, ref: DirRef | null, type: 'directory' | 'regular-file', mutable: boolean, read: boolean, write: boolean, preopen: boolean) {
    this.#ctx = ctx;
    this.#file = file;
    this.#ref = ref;
    this.#type = type;
    this.#mutable = mutable;
    this.#read = read;
    this.#write = write && mutable;
    this.#preopen = preopen;
  }

  get #dir(): DirRef {
    if (!this.#open) throw new FsError('bad-descriptor');
    if (this.#type !== 'directory' || !this.#ref) throw new FsError('not-directory');
    return this.#ref;
  }

  #fileFd(need: 'read' | 'write' | 'any'): number {
    if (!this.#open) throw new FsError('bad-descriptor');
    if (this.#type !== 'regular-file') throw new FsError('is-directory');
    if (need === 'read' && !this.#read) throw new FsError('bad-descriptor');
    if (need === 'write' && !this.#write) throw this.#mutable ? new FsError('bad-descriptor') : new FsError('read-only', READ_ONLY);
    return this.#file.fd;
  }

  #requireMutable(): void {
    if (!this.#mutable) throw new FsError('read-only', READ_ONLY);
  }

  readViaStream(offset: bigint): FileInputStream {
    this.#fileFd('read');
    return new FileInputStream(this.#file, offset);
  }

  writeViaStream(offset: bigint): FileOutputStream {
    this.#fileFd('write');
    return new FileOutputStream(this.#file, offset);
  }

  appendViaStream(): FileOutputStream {
    this.#fileFd('write');
    return new FileOutputStream(this.#file, null);
  }

  advise(): void {
    this.#fileFd('any');
  }

  syncData(): void {
    if (this.#type === 'directory') return;
    try {
      fdatasyncSync(this.#fileFd('any'));
    } catch (e) {
      throw toFsError(e);
    }
  }

  sync(): void {
    if (this.#type === 'directory') return;
    try {
      fsyncSync(this.#fileFd('any'));
    } catch (e) {
      throw toFsError(e);
    }
  }

  getFlags(): Required<DescriptorFlags> {
    return {
      read: this.#read,
      write: this.#write,
      fileIntegritySync: false,
      dataIntegritySync: false,
      requestedWriteSync: false,
      mutateDirectory: this.#type === 'directory' && this.#mutable,
    };
  }

  getType(): DescriptorType {
    if (!this.#open) throw new FsError('bad-descriptor');
    return this.#type;
  }

  setSize(size: bigint): void {
    const fd = this.#fileFd('write');
    try {
      ftruncateSync(fd, Number(size));
    } catch (e) {
      throw toFsError(e);
    }
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    this.#requireMutable();
    try {
      const s = fstatSync(this.#file.fd, { bigint: true });
      futimesSync(this.#file.fd, timeArg(atime, s.atimeNs), timeArg(mtime, s.mtimeNs));
    } catch (e) {
      throw toFsError(e);
    }
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const fd = this.#fileFd('read');
    const n = length > BigInt(CHUNK) ? CHUNK : Number(length);
    const buf = Buffer.alloc(n);
    try {
      const got = n === 0 ? 0 : readSync(fd, buf, 0, n, Number(offset));
      const eof = got < n || Number(offset) + got >= fstatSync(fd).size;
      return [new Uint8Array(buf.buffer, buf.byteOffset, got), eof];
    } catch (e) {
      throw toFsError(e);
    }
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    const fd = this.#fileFd('write');
    if (buffer.byteLength > CHUNK) throw new FsError('file-too-large');
    try {
      return BigInt(writeSync(fd, buffer, 0, buffer.byteLength, Number(offset)));
    } catch (e) {
      throw toFsError(e);
    }
  }

  readDirectory(): DirectoryEntryStream {
    const entries = this.#at('.', false, 'shared', (p, leaf): Dirent[] => readdirSync(this.#path(p, leaf), { withFileTypes: true }));
    return new DirectoryEntryStream(entries.map((d) => ({ type: typeOf(d), name: d.name })));
  }

  stat() {
    if (!this.#open) throw new FsError('bad-descriptor');
    try {
      return statRecord(fstatSync(this.#file.fd, { bigint: true }));
    } catch (e) {
      throw toFsError(e);
    }
  }

  /**
   * Every path operation goes through here: one file operation under the
   * strategy's guard (`exclusive` when it changes names), and the one place
   * where a host failure becomes the tool's error code.
   */
  #op<T>(mode: LockMode, op: () => T): T {
    try {
      return this.#ctx.strategy.guarded(mode, op);
    } catch (e) {
      throw toFsError(e);
    }
  }

  /** Runs `op` on the resolved (parent, leaf) and always releases what the walk holds. */
  #at<T>(path: string, follow: boolean, mode: LockMode, op: (parent: DirRef, leaf: string, mustBeDir: boolean) => T): T {
    const dir = this.#dir;
    return this.#op(mode, () => {
      const r = this.#ctx.strategy.resolve(dir, path, follow, this.#ctx.fds);
      try {
        return op(r.parent, r.leaf, r.mustBeDir);
      } finally {
        r.release();
      }
    });
  }

  #path(dir: DirRef, leaf: string): string {
    return this.#ctx.strategy.path(dir, leaf);
  }

  statAt(pathFlags: PathFlags, path: string) {
    return this.#at(path, !!pathFlags.symlinkFollow, 'shared', (p, leaf) => statRecord(lstatSync(this.#path(p, leaf), { bigint: true })));
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    this.#requireMutable();
    this.#at(path, !!pathFlags.symlinkFollow, 'shared', (p, leaf) => {
      const target = this.#path(p, leaf);
      const s = lstatSync(target, { bigint: true });
      // lutimes: never follows, the walk already expanded what may be followed.
      lutimesSync(target, timeArg(atime, s.atimeNs), timeArg(mtime, s.mtimeNs));
    });
  }

  linkAt(): void {
    // Hard links can join a file outside any grant to a name inside one (or
    // the reverse); refused regardless of the grant.
    throw new FsError('not-permitted', NO_LINKS);
  }

  symlinkAt(): void {
    // A tool-made symlink outlives the call and points other programs and
    // other tools' races out of the grant; refused regardless of the grant.
    throw new FsError('not-permitted', NO_LINKS);
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    const dir = this.#dir;
    if (flags.requestedWriteSync || flags.fileIntegritySync || flags.dataIntegritySync) throw new FsError('unsupported');
    const wantsWrite = !!(flags.write || openFlags.create || openFlags.truncate);
    if (wantsWrite && !this.#mutable) throw new FsError('read-only', READ_ONLY);
    if (openFlags.truncate && !flags.write) throw new FsError('invalid');
    const access = flags.write ? (flags.read ? O_RDWR : O_WRONLY) : O_RDONLY;
    const base =
      access | O_NOFOLLOW | O_NONBLOCK |
      (openFlags.create ? O_CREAT : 0) |
      (openFlags.exclusive ? O_EXCL : 0) |
      (openFlags.truncate ? O_TRUNC : 0) |
      (openFlags.directory ? O_DIRECTORY : 0);
    const follow = !!pathFlags.symlinkFollow;
    const { strategy, fds } = this.#ctx;
    for (let attempt = 0; ; attempt++) {
      let opened: { fd: number; ref: DirRef };
      try {
        opened = this.#op(openFlags.create ? 'exclusive' : 'shared', () => {
          const r = strategy.resolve(dir, path, follow, fds);
          try {
            if (r.leaf === '.' && openFlags.create && openFlags.exclusive) throw new FsError('exist');
            const fd = strategy.open(r.parent, r.leaf, base | (r.mustBeDir ? O_DIRECTORY : 0), 0o666, fds);
            return { fd, ref: strategy.dirAt(r.parent, r.leaf, fd) };
          } finally {
            r.release();
          }
        });
      } catch (e) {
        // `loop` with follow: the leaf became a symlink after the walk looked
        // at it; walk again (bounded). Without follow it is the answer.
        if ((e as FsError).payload === 'loop' && follow && attempt < 8) continue;
        throw e;
      }
      const fd = opened.fd;
      const file = new OpenFile(fd, this.#ctx.fds);
      let type: DescriptorType;
      try {
        type = typeOf(fstatSync(fd));
      } catch (e) {
        file.release();
        throw toFsError(e);
      }
      if (type !== 'regular-file' && type !== 'directory') {
        file.release();
        throw new FsError('unsupported');
      }
      if (type === 'directory' && flags.write) {
        file.release();
        throw new FsError('is-directory');
      }
      return new Descriptor(this.#ctx, file, type === 'directory' ? opened.ref : null, type, this.#mutable, !!flags.read || type === 'directory', !!flags.write, false);
    }
  }

  readlinkAt(path: string): string {
    return this.#at(path, false, 'shared', (p, leaf) => readlinkSync(this.#path(p, leaf)));
  }

  createDirectoryAt(path: string): void {
    this.#requireMutable();
    this.#at(path, false, 'exclusive', (p, leaf) => {
      if (leaf === '.') throw new FsError('exist');
      mkdirSync(this.#path(p, leaf), 0o777);
    });
  }

  removeDirectoryAt(path: string): void {
    this.#requireMutable();
    this.#at(path, false, 'exclusive', (p, leaf) => {
      if (leaf === '.') throw new FsError('invalid');
      rmdirSync(this.#path(p, leaf));
    });
  }

  unlinkFileAt(path: string): void {
    this.#requireMutable();
    this.#at(path, false, 'exclusive', (p, leaf, mustBeDir) => {
      if (leaf === '.') throw new FsError('is-directory');
      if (mustBeDir) {
        throw new FsError(lstatSync(this.#path(p, leaf)).isDirectory() ? 'is-directory' : 'not-directory');
      }
      unlinkSync(this.#path(p, leaf));
    });
  }

  renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    this.#requireMutable();
    if (!(newDescriptor instanceof Descriptor)) throw new FsError('bad-descriptor');
    newDescriptor.#requireMutable();
    const target = newDescriptor.#dir;
    this.#at(oldPath, false, 'exclusive', (p1, leaf1) => {
      const r2 = this.#ctx.strategy.resolve(target, newPath, false, this.#ctx.fds);
      try {
        if (leaf1 === '.' || r2.leaf === '.') throw new FsError('invalid');
        renameSync(this.#path(p1, leaf1), this.#path(r2.parent, r2.leaf));
      } finally {
        r2.release();
      }
    });
  }

  isSameObject(other: Descriptor): boolean {
    if (!(other instanceof Descriptor) || !this.#open || !other.#open) return false;
    try {
      const a = fstatSync(this.#file.fd, { bigint: true });
      const b = fstatSync(other.#file.fd, { bigint: true });
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  }

  metadataHash() {
    if (!this.#open) throw new FsError('bad-descriptor');
    try {
      return metadataHashOf(fstatSync(this.#file.fd, { bigint: true }));
    } catch (e) {
      throw toFsError(e);
    }
  }

  metadataHashAt(pathFlags: PathFlags, path: string) {
    return this.#at(path, !!pathFlags.symlinkFollow, 'shared', (p, leaf) => metadataHashOf(lstatSync(this.#path(p, leaf), { bigint: true })));
  }

  [symbolDispose](): void {
    // Preopens live as long as the instance: getDirectories may hand the
    // same descriptor out more than once, and dropping one handle must not
    // close it for the others.
    if (this.#open && !this.#preopen) {
      this.#open = false;
      this.#file.release();
    }
  }

  /** Creates the preopen descriptor for a granted directory (its fd and the strategy's ref). */
  static preopen(ctx: FilesystemContext, fd: number, ref: DirRef, writable: boolean): Descriptor {
    return new Descriptor(ctx, new OpenFile(fd, ctx.fds), ref, 'directory', writable, true, false, true);
  }
}

export class DirectoryEntryStream {
  #entries: { type: DescriptorType; name: string }[];
  constructor(entries: { type: DescriptorType; name: string }[]) {
    this.#entries = entries;
  }
  readDirectoryEntry(): { type: DescriptorType; name: string } | undefined {
    return this.#entries.shift();
  }
  [symbolDispose](): void {
    this.#entries = [];
  }
}

export function filesystemErrorCode(err: { payload?: unknown }): string | undefined {
  return typeof err?.payload === 'string' ? err.payload : undefined;
}

export interface Preopen {
  readonly fd: number;
  readonly dir: DirRef;
  readonly guestPath: string;
  readonly writable: boolean;
}

/** The `wasi:filesystem/types` and `wasi:filesystem/preopens` import objects. */
export function createFilesystemImports(ctx: FilesystemContext, preopens: readonly Preopen[]) {
  const descriptors = preopens.map((p) => [Descriptor.preopen(ctx, p.fd, p.dir, p.writable), p.guestPath] as [Descriptor, string]);
  return {
    types: { Descriptor, DirectoryEntryStream, filesystemErrorCode },
    preopens: { getDirectories: () => descriptors.slice() },
  };
}
