/**
 * The host calls the portable filesystem strategy cannot write in portable
 * Node: one small module per platform, each with its assumptions listed
 * (and repeated in spec/sandbox.md §4, which CI cannot check on macOS or
 * Windows). This module only picks one.
 */
import { platform } from 'node:process';
import { darwinPlatform } from './fs-platform-darwin.ts';
import { posixPlatform } from './fs-platform-posix.ts';
import { win32Platform } from './fs-platform-win32.ts';
import type { NameRules } from './fs-names.ts';

export interface FsPlatform {
  readonly name: 'darwin' | 'win32' | 'posix';
  readonly rules: NameRules;
  /** Flags added to every open of a walked path (beyond O_NOFOLLOW on the leaf). */
  readonly openFlags: number;
  /** The kernel refuses a link in any component of an opened path, so an open cannot be raced out. */
  readonly opensRefuseEveryLink: boolean;
  /** What tells a running process from a later one with the same pid; null when unknown. */
  processStart(pid: number): string | null;
}

export function hostPlatform(): FsPlatform {
  if (platform === 'darwin') return darwinPlatform();
  if (platform === 'win32') return win32Platform;
  return posixPlatform;
}
