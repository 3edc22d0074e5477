/**
 * Verified packages a long-running host (`mpp mcp`, the editor) keeps in
 * memory between calls (spec/sandbox.md §5). Verifying the same immutable
 * bytes again on every call is not a load: a call runs from the bytes kept
 * here as long as the install index still names the very file they were read
 * from and the trust store is the one they were verified under. Anything else
 * (another file installed under the name, a key trusted, removed or revoked,
 * a new host) reads the bytes from disk again and verifies them again by hash
 * and signature (loadInstalled). No package file's metadata is taken as
 * evidence; the index file's inode only tells whether the held handle is
 * still the file at the index's path.
 */
import { COMPONENT_ENTRY } from '../format/layout.ts';
import { homePaths } from '../home.ts';
import { HeldHandle } from '../state/held-handle.ts';
import type { Database } from '../state/sqlite.ts';
import { digestsIn, openIndex, type InstalledDigest } from './installed-index.ts';
import { loadInstalled, installedSummary, type LoadedPackage } from './packages.ts';
import type { TrustStore } from '../trust/store.ts';

interface Kept {
  readonly fileSha256: string;
  readonly trust: string;
  readonly loaded: LoadedPackage;
}

export class KeptPackages {
  readonly #kept = new Map<string, Kept>();
  readonly #max: number;
  /** The install index, held open between calls: SQLite in WAL mode shows each read the last commit of any process. */
  readonly #index = new HeldHandle<Database>();

  /** `max`: packages kept at most (the least recently used is forgotten first). */
  constructor(max: number) {
    this.#max = max;
  }

  /** The installed package `name`, verified under `trust`: from memory when nothing it was verified against changed. */
  load(home: string, name: string, trust: TrustStore): LoadedPackage {
    const key = `${home}\0${name}`;
    // The row's file hash only, without parsing its manifest: a kept package whose file is still the one installed needs nothing else from the row.
    const record = installedSummary(home, name, this.#index.get(homePaths(home).db, () => openIndex(home), false));
    const trustState = JSON.stringify(trust.records);
    const kept = this.#kept.get(key);
    this.#kept.delete(key);
    if (kept && kept.fileSha256 === record.fileSha256 && kept.trust === trustState) {
      this.#kept.set(key, kept);
      return kept.loaded;
    }
    const loaded = loadInstalled(home, name, trust);
    this.#kept.set(key, { fileSha256: loaded.record.fileSha256, trust: trustState, loaded });
    while (this.#kept.size > this.#max) this.#kept.delete(this.#kept.keys().next().value as string);
    return loaded;
  }

  /** What is installed (name, digest, install time), read through the held index: none when there is no index. */
  digests(home: string): InstalledDigest[] {
    const db = this.#index.get(homePaths(home).db, () => openIndex(home), false);
    return db ? digestsIn(db) : [];
  }

  /** Forgets each kept package whose component has the SHA-256 `digest`: the next load reads and verifies it again. */
  forgetComponent(digest: string): void {
    for (const [key, kept] of [...this.#kept]) if (kept.loaded.pkg.digest.entries.some((e) => e.name === COMPONENT_ENTRY && e.sha256 === digest)) this.#kept.delete(key);
  }

  /** Forgets every kept package (the next load of each reads and verifies its bytes again) and closes the held index. */
  clear(): void {
    this.#kept.clear();
    this.#index.close();
  }
}
