/**
 * Linux and other POSIX systems, when the portable strategy is chosen there
 * (MPP_FS_STRATEGY=portable; on Linux the fd strategy is the default).
 * Assumptions: O_NOFOLLOW refuses a link in the last component only; a link
 * in an earlier component of a path string is followed by the kernel, so
 * only the walk's lstat checks and the lock stand between a swap and the
 * open. Linux: /proc/<pid>/stat field 22 is the process's start time, which
 * tells a live holder from a later process with a reused pid.
 */
import { readFileSync } from 'node:fs';
import type { FsPlatform } from './fs-platform.ts';

function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export const posixPlatform: FsPlatform = {
  name: 'posix',
  rules: 'posix',
  openFlags: 0,
  opensRefuseEveryLink: false,
  processStart: procStart,
};
