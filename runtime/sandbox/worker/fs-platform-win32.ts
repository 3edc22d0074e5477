/**
 * Windows. Assumptions (not testable in CI, listed in spec/sandbox.md §4):
 * - Node (libuv) opens every path following reparse points (symbolic links,
 *   junctions, mount points); there is no flag to refuse them, and
 *   O_NOFOLLOW / O_DIRECTORY / O_NONBLOCK are undefined (treated as 0).
 * - lstat reports symbolic links and junctions as symbolic links (libuv
 *   reads the reparse tag); the walk refuses to pass through them unless
 *   their target is relative and stays inside. Other reparse points (cloud
 *   files, deduplication, app execution aliases) look like ordinary files
 *   or folders to Node and are opened as such.
 * - fstat/lstat `ino` is the NTFS file index: opened object and named
 *   object are compared by it after every open.
 * - Names are case-insensitive and may be 8.3 short names; both resolve to
 *   an entry of the directory walked, so they are passed unchanged. Names
 *   Windows would reinterpret (streams, devices, trailing dots) are refused
 *   (fs-names.ts, 'win32').
 * - process.kill(pid, 0) tells whether a pid is live; there is no cheap
 *   start identity, so a reused pid fails closed (`busy`).
 */
import type { FsPlatform } from './fs-platform.ts';

export const win32Platform: FsPlatform = {
  name: 'win32',
  rules: 'win32',
  openFlags: 0,
  opensRefuseEveryLink: false,
  processStart: () => null,
};
