/**
 * macOS. Assumptions (not testable in CI, listed in spec/sandbox.md §4):
 * - O_NOFOLLOW_ANY is 0x20000000 (sys/fcntl.h, macOS 11 / Darwin 20 and
 *   later); Node does not name it but passes the raw flag to open(2), which
 *   then fails with ELOOP if ANY component of the path is a symbolic link.
 *   Walks start from the grant root's real path (/tmp, /var are links).
 *   Before Darwin 20 the bit means nothing: it is not set, and opens get the
 *   same guarantee as on Windows.
 * - unlink, rename, mkdir, rmdir, utimes, readlink, readdir and lstat have
 *   no such flag: an earlier component swapped for a link between the walk
 *   and the call is followed. The lock closes that window against MPP tools.
 * - Volumes may be case-insensitive and normalisation-insensitive (APFS,
 *   HFS+): names are passed unchanged and the volume picks the entry; names
 *   are never compared by the walk, only checked (fs-names.ts, 'darwin').
 * - `..namedfork` reaches a file's resource fork: refused as a name.
 * - No cheap start identity for another pid: a reused pid keeps a dead
 *   holder's lock entry alive (fails closed: `busy`), never frees a live one.
 */
import { release } from 'node:os';
import type { FsPlatform } from './fs-platform.ts';

export const O_NOFOLLOW_ANY = 0x20000000;

export function darwinPlatform(): FsPlatform {
  const supported = Number.parseInt(release().split('.')[0] ?? '0', 10) >= 20;
  return {
    name: 'darwin',
    rules: 'darwin',
    openFlags: supported ? O_NOFOLLOW_ANY : 0,
    opensRefuseEveryLink: supported,
    processStart: () => null,
  };
}
