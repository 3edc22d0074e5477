/**
 * What a .mpp archive may hold, and the limits a reader enforces before it
 * trusts a single byte. Normative text: spec/format.md.
 */
import { DEVELOPMENT_SOURCE_ENTRY } from './development.ts';

export const MANIFEST_ENTRY = 'manifest.json';
export const COMPONENT_ENTRY = 'tool.wasm';
export const README_ENTRY = 'README.md';
export const ICON_ENTRY = 'icon.png';
export const SIGNATURE_DIR = 'signatures/';
/** Present only in a development package: see development.ts. */
export { DEVELOPMENT_SOURCE_ENTRY };

/** `signatures/<64 lowercase hex key id>.json` */
export const SIGNATURE_ENTRY_RE = /^signatures\/[0-9a-f]{64}\.json$/;

export const REQUIRED_ENTRIES = [MANIFEST_ENTRY, COMPONENT_ENTRY] as const;
export const OPTIONAL_ENTRIES = [README_ENTRY, ICON_ENTRY, DEVELOPMENT_SOURCE_ENTRY] as const;

export function isSignatureEntry(name: string): boolean {
  return SIGNATURE_ENTRY_RE.test(name);
}

export function isAllowedEntry(name: string): boolean {
  return (
    (REQUIRED_ENTRIES as readonly string[]).includes(name) ||
    (OPTIONAL_ENTRIES as readonly string[]).includes(name) ||
    isSignatureEntry(name)
  );
}

const MiB = 1024 * 1024;

export interface ArchiveLimits {
  /** The whole .mpp file. */
  maxArchiveBytes: number;
  maxEntries: number;
  maxTotalUncompressedBytes: number;
  /** Uncompressed size limit per entry name; unlisted allowed names use `default`. */
  maxEntryBytes: Record<string, number> & { default: number };
  /** Uncompressed/compressed above this is a bomb (checked for deflated entries over 64 KiB). */
  maxCompressionRatio: number;
}

export const DEFAULT_LIMITS: ArchiveLimits = Object.freeze({
  maxArchiveBytes: 128 * MiB,
  maxEntries: 64,
  maxTotalUncompressedBytes: 128 * MiB,
  maxEntryBytes: Object.freeze({
    [MANIFEST_ENTRY]: 1 * MiB,
    [COMPONENT_ENTRY]: 96 * MiB,
    [README_ENTRY]: 1 * MiB,
    [ICON_ENTRY]: 1 * MiB,
    [DEVELOPMENT_SOURCE_ENTRY]: 16 * MiB,
    default: 64 * 1024, // signatures
  }),
  maxCompressionRatio: 100,
});

export function entryLimit(limits: ArchiveLimits, name: string): number {
  return limits.maxEntryBytes[name] ?? limits.maxEntryBytes.default;
}
