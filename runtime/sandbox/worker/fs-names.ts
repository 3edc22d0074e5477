/**
 * Which guest names a platform's filesystem would take literally, and which
 * it would reinterpret: the portable strategy passes a name to the host only
 * when the host means by it exactly one entry of the directory it walks.
 *
 * Pure functions over node:path's posix/win32 flavours, so every platform's
 * rules are unit-tested on any machine (test/unit/sandbox/fs-names.test.ts).
 * A refused name is `not-permitted` when the host would reach another object
 * with it (a device, a stream, a fork, a parent), `invalid` when the host
 * cannot store it.
 */
import { posix, win32 } from 'node:path';
import type { FsErrorCode } from './fs-errors.ts';

export type NameRules = 'posix' | 'darwin' | 'win32';

/**
 * Code points HFS+ ignores when comparing names (the set git checks for
 * `.git` since CVE-2014-9390): `..named\u200cfork` names the fork there.
 */
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/gu;

/** CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the superscript-digit forms), with or without an extension. */
const WIN_DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|clock\$|(com|lpt)[0-9\u00b9\u00b2\u00b3])(\s*\..*)?$/iu;
// Characters Windows refuses in a name; ':' also selects an alternate data stream.
const WIN_FORBIDDEN = /[\u0000-\u001f<>:"|?*\\]/u;

/** The refusal for one path component, or null when the host takes it literally. */
export function nameProblem(name: string, rules: NameRules): FsErrorCode | null {
  if (name.length === 0 || name.includes('/') || name.includes('\0')) return 'invalid';
  if (rules === 'posix') return null;
  if (rules === 'darwin') {
    const folded = name.replace(HFS_IGNORABLE, '').normalize('NFD').toLowerCase();
    // `file/..namedfork/rsrc` is the resource fork of `file`; `.` / `..` spelt with ignorables is a parent.
    if (folded === '..namedfork' || folded === '.' || folded === '..') return name === '.' || name === '..' ? null : 'not-permitted';
    return null;
  }
  if (name === '.' || name === '..') return null;
  if (name.includes(':')) return 'not-permitted'; // alternate data stream, or a drive
  if (WIN_FORBIDDEN.test(name)) return name.includes('\\') ? 'not-permitted' : 'invalid';
  // Windows drops trailing dots and spaces: `secret.txt.` is `secret.txt`, `.. ` is `..`.
  if (/[. ]$/u.test(name)) return 'not-permitted';
  if (WIN_DEVICE.test(name)) return 'not-permitted';
  return null;
}

/** Splits a symlink target into components with the platform's separators. */
export function splitTarget(target: string, rules: NameRules): string[] {
  const parts = rules === 'win32' ? target.split(/[\\/]/u) : target.split('/');
  return parts.filter((s) => s !== '' && s !== '.');
}

/** A symlink target that does not start from the link's own directory. */
export function isAbsoluteTarget(target: string, rules: NameRules): boolean {
  if (rules !== 'win32') return target.startsWith('/');
  // `C:x` (drive-relative), `\x` (root of the current drive), `\\server`, `\??\C:` (junctions).
  return win32.isAbsolute(target) || /^[a-z]:/iu.test(target) || target.startsWith('\\') || target.startsWith('/');
}

/** The host path of `components` beneath a mapped root (components already checked). */
export function joinHost(root: string, components: readonly string[], rules: NameRules): string {
  return rules === 'win32' ? win32.join(root, ...components) : posix.join(root, ...components);
}

/**
 * A grant root as the portable strategy may walk from it, or null when it is
 * refused. Windows: a drive path (`C:\x`) or a UNC share (`\\server\share\x`),
 * also in their `\\?\` long forms, which are mapped to the plain forms;
 * device paths (`\\.\`, `\\?\GLOBALROOT`, volume GUIDs, pipes) are refused.
 * POSIX: an absolute path.
 */
export function mapHostRoot(hostPath: string, rules: NameRules): string | null {
  if (hostPath.includes('\0')) return null;
  if (rules !== 'win32') return posix.isAbsolute(hostPath) ? posix.normalize(hostPath) : null;
  let p = hostPath.replace(/\//gu, '\\');
  if (/^\\\\\?\\unc\\/iu.test(p)) p = '\\\\' + p.slice(8);
  else if (/^\\\\\?\\[a-z]:\\/iu.test(p)) p = p.slice(4);
  else if (p.startsWith('\\\\?\\') || p.startsWith('\\\\.\\') || p.startsWith('\\??\\')) return null;
  const drive = /^[a-z]:\\/iu.test(p);
  const unc = /^\\\\[^\\?.][^\\]*\\[^\\]+/u.test(p);
  if (!drive && !unc) return null;
  const parsed = win32.parse(p);
  const rest = p.slice(parsed.root.length).split('\\').filter((s) => s !== '');
  if (rest.some((s) => s === '.' || s === '..' || nameProblem(s, 'win32') !== null)) return null;
  return win32.join(parsed.root, ...rest);
}
