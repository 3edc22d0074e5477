import { MppError } from '../errors.ts';
import type { Archive, ArchiveEntry } from './read.ts';
import { COMPONENT_ENTRY, DEVELOPMENT_SOURCE_ENTRY, MANIFEST_ENTRY, REQUIRED_ENTRIES, isAllowedEntry, isSignatureEntry } from './layout.ts';

export interface PackageEntries {
  readonly manifest: ArchiveEntry;
  readonly component: ArchiveEntry;
  /** The bundled source of a development package (its marker); absent in every other package. */
  readonly development: ArchiveEntry | undefined;
  /** Every entry covered by the digest (all but signatures). */
  readonly content: readonly ArchiveEntry[];
  readonly signatures: readonly ArchiveEntry[];
}

/** Checks that the archive holds exactly the entries spec/format.md allows. */
export function checkLayout(archive: Archive): PackageEntries {
  for (const name of archive.keys()) {
    if (!isAllowedEntry(name)) {
      throw new MppError('MPP_E_EXTRA_ENTRY', `The package holds "${name}", which the format does not allow.`, {
        hint: 'Packages hold only manifest.json, tool.wasm, README.md, icon.png, signatures/*.json and, in a development package, tool.dev.js. Rebuild it with `mpp build`.',
        detail: { entry: name },
      });
    }
  }
  for (const name of REQUIRED_ENTRIES) {
    if (!archive.has(name)) {
      throw new MppError('MPP_E_MISSING_ENTRY', `The package has no ${name}.`, {
        hint: 'The file is incomplete or was not made by `mpp build`.',
        detail: { entry: name },
      });
    }
  }
  const component = archive.get(COMPONENT_ENTRY)!;
  const all = [...archive.values()];
  return Object.freeze({
    manifest: archive.get(MANIFEST_ENTRY)!,
    component,
    development: archive.get(DEVELOPMENT_SOURCE_ENTRY),
    content: Object.freeze(all.filter((e) => !isSignatureEntry(e.name))),
    signatures: Object.freeze(all.filter((e) => isSignatureEntry(e.name))),
  });
}
