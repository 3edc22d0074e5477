import { zipSync, type Zippable } from 'fflate';
import { COMPONENT_ENTRY } from './layout.ts';
import { checkEntryName } from './names.ts';

/**
 * DOS epoch: every entry gets this timestamp so builds are reproducible.
 * fflate encodes DOS times from the *local* time fields, so the date is built
 * from local fields too: the bytes are then the same in every time zone.
 */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/**
 * Packs entries into a deterministic archive: entries sorted by name (UTF-8
 * byte order), fixed timestamps and attributes, `tool.wasm` stored (so hosts
 * hash and compile it without inflating), everything else deflated at level 9.
 * The same entries always give the same bytes.
 */
export function writeArchive(entries: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const names = [...entries.keys()].sort(compareUtf8);
  const zippable: Zippable = {};
  for (const name of names) {
    checkEntryName(name);
    const data = entries.get(name)!;
    zippable[name] = [data, { level: name === COMPONENT_ENTRY ? 0 : 9, mtime: FIXED_MTIME, os: 3, attrs: 0o100644 << 16 }];
  }
  return zipSync(zippable, { mtime: FIXED_MTIME });
}

export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
