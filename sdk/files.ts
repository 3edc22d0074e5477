/**
 * Files under the folders the user granted, by their guest paths
 * (`/workspace/...`, `/home/...`), on wasi:filesystem. Every refusal is a
 * ToolRefusal (errors.ts): a path no granted folder contains is
 * `not-granted` before the host is asked; `..` or a symbolic link that
 * leaves the grant is `outside-grant`; a write to a read-only grant is
 * `read-only`. Reads are bounded: a file larger than `maxBytes` is
 * `too-large`, never a surprise allocation.
 */
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';
import type { Descriptor, DescriptorType } from 'wasi:filesystem/types@0.2.12';
import { drop, u64 } from './engine.ts';
import { fsRefusal, ToolRefusal } from './errors.ts';
import { decodeUtf8, encodeUtf8 } from './utf8.ts';

/** What a read returns at most unless told otherwise: 16 MiB. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** The host moves at most 1 MiB per read or write call. */
const CHUNK = 1024 * 1024;

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface Entry {
  readonly name: string;
  readonly type: EntryType;
}

export interface Stat {
  readonly type: EntryType;
  readonly size: number;
  /** Last modification, when the host knows it. */
  readonly modified?: Date;
}

export interface GrantedFolder {
  /** The guest path, e.g. `/workspace`. */
  readonly path: string;
}

interface Located {
  readonly root: Descriptor;
  /** The granted folder's guest path. */
  readonly guest: string;
  /** Relative to the granted folder, `.` for the folder itself. */
  readonly rel: string;
}

const FOLLOW = { symlinkFollow: true };

function typeOf(t: DescriptorType): EntryType {
  if (t === 'regular-file') return 'file';
  if (t === 'directory') return 'directory';
  if (t === 'symbolic-link') return 'symlink';
  return 'other';
}

/** The granted folders, most specific first, so a grant nested in another wins. */
function roots(): [Descriptor, string][] {
  return getDirectories().sort((a, b) => b[1].length - a[1].length);
}

function locate(path: string): Located {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new ToolRefusal('invalid-argument', `${String(path)}: use an absolute guest path such as /workspace/notes.txt`, { target: String(path) });
  }
  const clean = path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') : path;
  for (const [root, guest] of roots()) {
    if (clean === guest) return { root, guest, rel: '.' };
    const prefix = guest.endsWith('/') ? guest : `${guest}/`;
    if (clean.startsWith(prefix)) return { root, guest, rel: clean.slice(prefix.length) || '.' };
  }
  throw new ToolRefusal('not-granted', `${path}: no granted folder contains this path`, { target: path });
}

function attempt<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fsRefusal(e, path);
  }
}

function withFile<T>(path: string, flags: { read?: boolean; write?: boolean }, open: { create?: boolean; truncate?: boolean; directory?: boolean }, f: (d: Descriptor) => T): T {
  const { root, rel } = locate(path);
  return attempt(path, () => {
    const d = rel === '.' && open.directory ? undefined : root.openAt(FOLLOW, rel, open, flags);
    try {
      return f(d ?? root);
    } finally {
      if (d) drop(d);
    }
  });
}

function readAll(d: Descriptor, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const [bytes, eof] = d.read(u64(Math.min(CHUNK, length - got)), u64(offset + got));
    out.set(bytes, got);
    got += bytes.length;
    if (eof || bytes.length === 0) break;
  }
  return got === length ? out : out.subarray(0, got);
}

export interface ReadOptions {
  /** Refuse (`too-large`) a file larger than this; default 16 MiB. */
  readonly maxBytes?: number;
}

export interface RangeOptions {
  /** Where to start, in bytes (default 0). */
  readonly offset?: number;
  /** How many bytes at most (default: to the end, up to 16 MiB). */
  readonly length?: number;
}

/** The whole file, refused with `too-large` past `maxBytes`. */
export function readBytes(path: string, opts: ReadOptions = {}): Uint8Array {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  return withFile(path, { read: true }, {}, (d) => {
    const st = d.stat();
    if (typeOf(st.type) !== 'file') throw new ToolRefusal('is-a-directory', `${path}: not a file`, { target: path });
    const size = Number(st.size);
    if (size > max) throw new ToolRefusal('too-large', `${path}: ${size} bytes, more than the ${max} this read allows`, { target: path });
    return readAll(d, 0, size);
  });
}

/** The whole file as UTF-8 text (invalid sequences become U+FFFD). */
export function readText(path: string, opts: ReadOptions = {}): string {
  return decodeUtf8(readBytes(path, opts));
}

/** Part of a file: for large files, read what you need. */
export function readRange(path: string, opts: RangeOptions = {}): Uint8Array {
  const offset = opts.offset ?? 0;
  const length = opts.length ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new ToolRefusal('invalid-argument', `${path}: offset and length are whole numbers of bytes`, { target: path });
  }
  return withFile(path, { read: true }, {}, (d) => {
    const size = Number(d.stat().size);
    return readAll(d, offset, Math.max(0, Math.min(length, size - offset)));
  });
}

export interface WriteOptions {
  /** Add to the end instead of replacing the file. */
  readonly append?: boolean;
}

/** Creates or replaces the file (or appends to it). Needs a read-write grant. */
export function write(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const bytes = typeof data === 'string' ? encodeUtf8(data) : data;
  withFile(path, { write: true }, { create: true, truncate: !opts.append }, (d) => {
    let at = opts.append ? Number(d.stat().size) : 0;
    for (let i = 0; i < bytes.length; ) {
      const n = Number(d.write(bytes.subarray(i, i + CHUNK), u64(at)));
      if (!(n > 0)) throw new ToolRefusal('failed', `${path}: the host wrote nothing`, { target: path });
      i += n;
      at += n;
    }
  });
}

/** The entries of a folder, sorted by name. */
export function list(path: string): Entry[] {
  return withFile(path, { read: true }, { directory: true }, (d) => {
    const stream = d.readDirectory();
    const out: Entry[] = [];
    try {
      for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) out.push({ name: e.name, type: typeOf(e.type) });
    } finally {
      drop(stream);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  });
}

export function stat(path: string): Stat {
  const { root, rel } = locate(path);
  const st = attempt(path, () => (rel === '.' ? root.stat() : root.statAt(FOLLOW, rel)));
  const t = st.dataModificationTimestamp;
  const modified = t ? new Date(Number(t.seconds) * 1000 + Math.floor(t.nanoseconds / 1e6)) : undefined;
  return modified ? { type: typeOf(st.type), size: Number(st.size), modified } : { type: typeOf(st.type), size: Number(st.size) };
}

/** Whether the path exists; a path outside every grant is refused, not `false`. */
export function exists(path: string): boolean {
  try {
    stat(path);
    return true;
  } catch (e) {
    if (e instanceof ToolRefusal && e.code === 'not-found') return false;
    throw e;
  }
}

/** Makes a folder; `recursive` makes its missing parents too and accepts one that exists. */
export function mkdir(path: string, opts: { recursive?: boolean } = {}): void {
  const { root, guest, rel } = locate(path);
  if (rel === '.') {
    if (opts.recursive) return;
    throw new ToolRefusal('already-exists', `${path}: it already exists`, { target: path });
  }
  const parts = rel.split('/').filter((p) => p !== '');
  const steps = opts.recursive ? parts.map((_, i) => parts.slice(0, i + 1).join('/')) : [parts.join('/')];
  for (const step of steps) {
    try {
      root.createDirectoryAt(step);
    } catch (e) {
      const r = fsRefusal(e, path);
      if (opts.recursive && r instanceof ToolRefusal && r.code === 'already-exists' && stat(`${guest.replace(/\/$/, '')}/${step}`).type === 'directory') continue;
      throw r;
    }
  }
}

/** Removes a file, or a folder (`recursive` for one with contents). */
export function remove(path: string, opts: { recursive?: boolean } = {}): void {
  const { root, rel } = locate(path);
  if (rel === '.') throw new ToolRefusal('invalid-argument', `${path}: a granted folder itself cannot be removed`, { target: path });
  const st = attempt(path, () => root.statAt({}, rel));
  if (typeOf(st.type) !== 'directory') {
    attempt(path, () => root.unlinkFileAt(rel));
    return;
  }
  if (opts.recursive) for (const e of list(path)) remove(`${path.replace(/\/+$/, '')}/${e.name}`, opts);
  attempt(path, () => root.removeDirectoryAt(rel));
}

/** Moves a file or folder within one granted folder. */
export function rename(from: string, to: string): void {
  const a = locate(from);
  const b = locate(to);
  attempt(from, () => a.root.renameAt(a.rel, b.root, b.rel));
}

/** The granted folders, by guest path. */
export function granted(): GrantedFolder[] {
  return roots().map(([, path]) => ({ path }));
}
