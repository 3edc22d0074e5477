import { sha256Hex } from '../hash.ts';
import { compareUtf8 } from '../format/write.ts';
import { isSignatureEntry } from '../format/layout.ts';

export const DIGEST_HEADER = 'mpp-package-digest-v1\n';

export interface EntryDigest {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

export interface PackageDigest {
  /** Lowercase hex SHA-256 of the canonical listing. */
  readonly sha256: string;
  readonly entries: readonly EntryDigest[];
}

/**
 * The canonical package digest (spec/signing.md): SHA-256 over
 *   "mpp-package-digest-v1\n" + for each non-signature entry, sorted by the
 *   UTF-8 bytes of its name: "<sha256 hex> <size> <name>\n"
 * Entry names cannot contain newlines (spec/format.md), so the listing is unambiguous.
 */
export function packageDigest(entries: Iterable<{ name: string; data: Uint8Array }>): PackageDigest {
  const listed: EntryDigest[] = [];
  for (const e of entries) {
    if (isSignatureEntry(e.name)) continue;
    listed.push({ name: e.name, size: e.data.length, sha256: sha256Hex(e.data) });
  }
  listed.sort((a, b) => compareUtf8(a.name, b.name));
  const text = DIGEST_HEADER + listed.map((e) => `${e.sha256} ${e.size} ${e.name}\n`).join('');
  return Object.freeze({ sha256: sha256Hex(text), entries: Object.freeze(listed) });
}

/** The SHA-256 the digest already computed for one entry (callers reuse it instead of hashing again). */
export function entrySha256(digest: PackageDigest, name: string): string {
  const entry = digest.entries.find((e) => e.name === name);
  if (!entry) throw new Error(`the package digest lists no ${name}`);
  return entry.sha256;
}
