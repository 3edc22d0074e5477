import { crc32, inflateRawSync } from 'node:zlib';
import { MppError } from '../errors.ts';
import { DEFAULT_LIMITS, entryLimit, type ArchiveLimits } from './layout.ts';
import { checkEntryName, foldName } from './names.ts';

/**
 * Reads a .mpp archive as hostile input. Everything is checked against the
 * central directory *and* the local headers before any data is inflated, so
 * two ZIP readers can never disagree about what the package holds:
 *  - the archive is exactly [local entries...][central directory][EOCD], with
 *    no prefix, gap, overlap, trailing data or archive comment;
 *  - only stored/deflated, unencrypted entries without data descriptors,
 *    regular files only, no ZIP64, only harmless extra fields;
 *  - every local header repeats its central record exactly;
 *  - names pass checkEntryName and are unique, also case-insensitively;
 *  - declared sizes and ratios are within limits before inflating, and the
 *    inflated data must have exactly the declared size and CRC-32.
 *
 * Stored entries are returned as views into `bytes` (no copy). Their CRC-32 is
 * checked like a deflated entry's: the signed SHA-256 digest would catch a
 * changed byte too, but a CRC that Python's zipfile or `unzip -t` refuse must
 * be refused here as well, with the same code (spec/format.md §5.2).
 *
 * Hand-written on purpose: ZIP libraries (fflate's unzip included) read either
 * the central directory or the local headers, not both, and tolerate the very
 * ambiguities this function exists to refuse.
 */
export interface ArchiveEntry {
  readonly name: string;
  readonly method: 0 | 8;
  readonly compressedSize: number;
  readonly data: Uint8Array;
}

export type Archive = ReadonlyMap<string, ArchiveEntry>;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
// Bits 1-2 only record which deflate level the writer used (Info-ZIP sets them).
const FLAG_DEFLATE_OPTIONS = 0x0006;
const ALLOWED_FLAGS = FLAG_UTF8 | FLAG_DEFLATE_OPTIONS;
// Extra fields that carry only timestamps or ownership: safe to ignore.
// Anything else (ZIP64, Info-ZIP Unicode Path 0x7075 that some readers use
// *instead of* the name, unknown blocks) is refused.
const HARMLESS_EXTRA_IDS = new Set([0x5455 /* extended timestamp */, 0x7875 /* unix uid/gid */, 0x000a /* NTFS times */]);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const DOS_DIRECTORY = 0x10;
const HOST_UNIX = 3;
const RATIO_CHECK_MIN_BYTES = 64 * 1024;

const corrupt = (message: string, detail?: Record<string, unknown>): never => {
  throw new MppError('MPP_E_CORRUPT_ARCHIVE', message, {
    hint: 'The file is damaged or not an MPP package: download or build it again.',
    ...(detail ? { detail } : {}),
  });
};
const unsafe = (message: string, detail?: Record<string, unknown>): never => {
  throw new MppError('MPP_E_UNSAFE_ARCHIVE', message, {
    hint: 'Do not install this file. Packages built by `mpp build` never contain this; it may have been crafted to attack ZIP readers.',
    ...(detail ? { detail } : {}),
  });
};
const tooLarge = (message: string, detail?: Record<string, unknown>): never => {
  throw new MppError('MPP_E_ARCHIVE_TOO_LARGE', message, {
    hint: 'The package exceeds the limits in spec/format.md; it may be a decompression bomb.',
    ...(detail ? { detail } : {}),
  });
};

interface CentralRecord {
  name: string;
  nameBytes: Uint8Array;
  flags: number;
  method: number;
  time: number;
  date: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export function readArchive(bytes: Uint8Array, limits: ArchiveLimits = DEFAULT_LIMITS): Archive {
  if (bytes.length > limits.maxArchiveBytes) {
    tooLarge(`The archive is ${bytes.length} bytes; the limit is ${limits.maxArchiveBytes}.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEocd(bytes, view);
  const records = readCentralDirectory(bytes, view, eocd, limits);
  checkLocalHeadersAndLayout(bytes, view, records, eocd.cdOffset);

  const entries = new Map<string, ArchiveEntry>();
  for (const r of records) {
    const dataStart = r.localOffset + LOCAL_SIZE + r.nameBytes.length + view.getUint16(r.localOffset + 28, true);
    const raw = bytes.subarray(dataStart, dataStart + r.compressedSize);
    const data = r.method === 0 ? checkCrc(raw, r) : inflateExactly(raw, r);
    entries.set(r.name, Object.freeze({ name: r.name, method: r.method as 0 | 8, compressedSize: r.compressedSize, data }));
  }
  return entries;
}

function findEocd(bytes: Uint8Array, view: DataView): { cdOffset: number; cdSize: number; count: number; eocdOffset: number } {
  if (bytes.length < EOCD_SIZE) corrupt(`The file is ${bytes.length} bytes, too short to be a ZIP archive.`);
  const at = bytes.length - EOCD_SIZE;
  if (view.getUint32(at, true) !== SIG_EOCD) {
    // Tell "not a ZIP" from "a ZIP with a comment or trailing bytes".
    const floor = Math.max(0, bytes.length - EOCD_SIZE - 0xffff);
    for (let i = at - 1; i >= floor; i--) {
      if (view.getUint32(i, true) === SIG_EOCD) {
        unsafe(`The archive has ${bytes.length - i - EOCD_SIZE} bytes after its central directory (a comment or appended data).`, { reason: 'trailing-data' });
      }
    }
    corrupt('No ZIP end-of-central-directory record was found: the file is not a ZIP archive or is truncated.');
  }
  const disk = view.getUint16(at + 4, true);
  const cdDisk = view.getUint16(at + 6, true);
  const countOnDisk = view.getUint16(at + 8, true);
  const count = view.getUint16(at + 10, true);
  const cdSize = view.getUint32(at + 12, true);
  const cdOffset = view.getUint32(at + 16, true);
  if (view.getUint16(at + 20, true) !== 0) unsafe('The end record declares an archive comment.', { reason: 'hidden-data' });
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff || (at >= 20 && view.getUint32(at - 20, true) === SIG_EOCD64_LOCATOR)) {
    unsafe('The archive uses ZIP64, which MPP packages never need.', { reason: 'zip64' });
  }
  if (disk !== 0 || cdDisk !== 0 || countOnDisk !== count) unsafe('The archive claims to span several disks.', { reason: 'multi-disk' });
  if (cdOffset + cdSize !== at) {
    if (cdOffset + cdSize > at) corrupt('The central directory runs past the end record: the archive is truncated or damaged.');
    unsafe(`There are ${at - cdOffset - cdSize} unaccounted bytes between the central directory and its end record.`, { reason: 'hidden-data' });
  }
  return { cdOffset, cdSize, count, eocdOffset: at };
}

function readCentralDirectory(
  bytes: Uint8Array,
  view: DataView,
  eocd: { cdOffset: number; cdSize: number; count: number },
  limits: ArchiveLimits,
): CentralRecord[] {
  if (eocd.count > limits.maxEntries) tooLarge(`The archive has ${eocd.count} entries; the limit is ${limits.maxEntries}.`);
  const records: CentralRecord[] = [];
  const seen = new Set<string>();
  let total = 0;
  let p = eocd.cdOffset;
  const end = eocd.cdOffset + eocd.cdSize;
  for (let i = 0; i < eocd.count; i++) {
    if (p + CENTRAL_SIZE > end) corrupt('The central directory is shorter than its entry count says.');
    if (view.getUint32(p, true) !== SIG_CENTRAL) corrupt(`Central directory record ${i} has a bad signature.`);
    const madeBy = view.getUint16(p + 4, true);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const time = view.getUint16(p + 12, true);
    const date = view.getUint16(p + 14, true);
    const crc = view.getUint32(p + 16, true);
    const compressedSize = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const diskStart = view.getUint16(p + 34, true);
    const externalAttrs = view.getUint32(p + 38, true);
    const localOffset = view.getUint32(p + 42, true);
    const recordEnd = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (recordEnd > end) corrupt(`Central directory record ${i} runs past the directory's end.`);
    const nameBytes = bytes.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    const name = decodeName(nameBytes, flags);
    const where = { entry: name };

    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) unsafe(`Entry ${name} is encrypted.`, { ...where, reason: 'encrypted' });
    if (flags & FLAG_DATA_DESCRIPTOR) unsafe(`Entry ${name} uses a data descriptor, so its sizes are not in its local header.`, { ...where, reason: 'data-descriptor' });
    if (flags & ~ALLOWED_FLAGS) unsafe(`Entry ${name} sets unsupported general-purpose flags 0x${flags.toString(16)}.`, { ...where, reason: 'flags' });
    if (method !== 0 && method !== 8) unsafe(`Entry ${name} uses compression method ${method}; only stored (0) and deflate (8) are allowed.`, { ...where, reason: 'method' });
    if (commentLen !== 0) unsafe(`Entry ${name} carries a comment.`, { ...where, reason: 'hidden-data' });
    if (diskStart !== 0) unsafe(`Entry ${name} claims to start on another disk.`, { ...where, reason: 'multi-disk' });
    checkExtraField(bytes.subarray(p + CENTRAL_SIZE + nameLen, p + CENTRAL_SIZE + nameLen + extraLen), name);
    if (madeBy >> 8 === HOST_UNIX) {
      const type = (externalAttrs >>> 16) & S_IFMT;
      if (type !== 0 && type !== S_IFREG) unsafe(`Entry ${name} is not a regular file (a symlink, directory or device).`, { ...where, reason: 'not-regular-file' });
    }
    if (externalAttrs & DOS_DIRECTORY) unsafe(`Entry ${name} is marked as a directory.`, { ...where, reason: 'not-regular-file' });
    checkEntryName(name);
    if (seen.has(name)) unsafe(`Entry ${name} appears twice.`, { ...where, reason: 'duplicate' });
    const folded = foldName(name);
    if (seen.has(`\0${folded}`)) unsafe(`Entry ${name} collides with another entry when case is ignored.`, { ...where, reason: 'duplicate' });
    seen.add(name);
    seen.add(`\0${folded}`);

    if (method === 0 && compressedSize !== size) corrupt(`Stored entry ${name} declares different compressed and uncompressed sizes.`, where);
    const limit = entryLimit(limits, name);
    if (size > limit) tooLarge(`Entry ${name} is ${size} bytes uncompressed; the limit is ${limit}.`, where);
    total += size;
    if (total > limits.maxTotalUncompressedBytes) tooLarge(`The entries add up to more than ${limits.maxTotalUncompressedBytes} bytes uncompressed.`);
    if (method === 8 && size > RATIO_CHECK_MIN_BYTES && size / Math.max(compressedSize, 1) > limits.maxCompressionRatio) {
      tooLarge(`Entry ${name} expands ${Math.round(size / Math.max(compressedSize, 1))}x; the limit is ${limits.maxCompressionRatio}x.`, where);
    }
    records.push({ name, nameBytes, flags, method, time, date, crc, compressedSize, size, localOffset });
    p = recordEnd;
  }
  if (p !== end) unsafe(`The central directory holds ${end - p} bytes beyond its ${eocd.count} records.`, { reason: 'hidden-data' });
  return records;
}

/**
 * Every local header must repeat its central record, and the entries must tile
 * the bytes before the central directory exactly: this refuses prefixed data
 * (polyglot files), gaps, and overlapping entries (overlap-based zip bombs).
 */
function checkLocalHeadersAndLayout(bytes: Uint8Array, view: DataView, records: CentralRecord[], cdOffset: number): void {
  const ordered = [...records].sort((a, b) => a.localOffset - b.localOffset);
  let expected = 0;
  for (const r of ordered) {
    const where = { entry: r.name };
    if (r.localOffset !== expected) {
      if (r.localOffset > expected) unsafe(`${r.localOffset - expected} bytes before entry ${r.name} belong to no entry (prefixed or hidden data).`, { ...where, reason: 'hidden-data' });
      unsafe(`Entry ${r.name} overlaps the entry before it.`, { ...where, reason: 'overlap' });
    }
    const p = r.localOffset;
    if (p + LOCAL_SIZE > cdOffset) corrupt(`The local header of ${r.name} runs into the central directory.`, where);
    if (view.getUint32(p, true) !== SIG_LOCAL) corrupt(`Entry ${r.name} has no local header where the central directory says.`, where);
    const mismatch = (field: string): never =>
      unsafe(`The local header of ${r.name} disagrees with the central directory about its ${field}.`, { ...where, reason: 'header-mismatch', field });
    if (view.getUint16(p + 6, true) !== r.flags) mismatch('flags');
    if (view.getUint16(p + 8, true) !== r.method) mismatch('compression method');
    if (view.getUint16(p + 10, true) !== r.time || view.getUint16(p + 12, true) !== r.date) mismatch('timestamp');
    if (view.getUint32(p + 14, true) !== r.crc) mismatch('CRC-32');
    if (view.getUint32(p + 18, true) !== r.compressedSize) mismatch('compressed size');
    if (view.getUint32(p + 22, true) !== r.size) mismatch('size');
    const nameLen = view.getUint16(p + 26, true);
    const extraLen = view.getUint16(p + 28, true);
    if (p + LOCAL_SIZE + nameLen + extraLen > cdOffset) corrupt(`The local header of ${r.name} runs into the central directory.`, where);
    const localName = bytes.subarray(p + LOCAL_SIZE, p + LOCAL_SIZE + nameLen);
    if (Buffer.compare(localName, r.nameBytes) !== 0) mismatch('name');
    checkExtraField(bytes.subarray(p + LOCAL_SIZE + nameLen, p + LOCAL_SIZE + nameLen + extraLen), r.name);
    expected = p + LOCAL_SIZE + nameLen + extraLen + r.compressedSize;
    if (expected > cdOffset) corrupt(`The data of ${r.name} runs into the central directory: the archive is truncated or damaged.`, where);
  }
  if (expected !== cdOffset) unsafe(`${cdOffset - expected} bytes after the last entry belong to no entry.`, { reason: 'hidden-data' });
}

function decodeName(nameBytes: Uint8Array, flags: number): string {
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(nameBytes);
  } catch {
    return unsafe('An entry name is not valid UTF-8.', { reason: 'name-encoding' });
  }
  // Without the UTF-8 flag, other readers decode names as CP437: only ASCII is unambiguous.
  if (!(flags & FLAG_UTF8) && /[^\x00-\x7f]/.test(name)) unsafe(`Entry name ${JSON.stringify(name)} is not ASCII and lacks the UTF-8 flag.`, { reason: 'name-encoding' });
  return name;
}

function checkExtraField(extra: Uint8Array, name: string): void {
  const view = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  let p = 0;
  while (p < extra.length) {
    if (p + 4 > extra.length) unsafe(`Entry ${name} has a malformed extra field.`, { entry: name, reason: 'extra-field' });
    const id = view.getUint16(p, true);
    const len = view.getUint16(p + 2, true);
    if (!HARMLESS_EXTRA_IDS.has(id)) unsafe(`Entry ${name} carries extra field 0x${id.toString(16).padStart(4, '0')}, which MPP does not accept.`, { entry: name, reason: 'extra-field' });
    p += 4 + len;
  }
  if (p !== extra.length) unsafe(`Entry ${name} has a malformed extra field.`, { entry: name, reason: 'extra-field' });
}

function inflateExactly(raw: Uint8Array, r: CentralRecord): Uint8Array {
  let out: Buffer;
  let consumed: number;
  try {
    // maxOutputLength stops a bomb at declared size + 1; `info` reports input consumed.
    const res = inflateRawSync(raw, { maxOutputLength: r.size + 1, info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    out = res.buffer;
    consumed = res.engine.bytesWritten;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return tooLarge(`Entry ${r.name} inflates to more than its declared ${r.size} bytes.`, { entry: r.name });
    }
    return corrupt(`Entry ${r.name} does not inflate: ${(e as Error).message}.`, { entry: r.name });
  }
  if (out.length !== r.size) corrupt(`Entry ${r.name} inflates to ${out.length} bytes, not the declared ${r.size}.`, { entry: r.name });
  if (consumed !== raw.length) unsafe(`Entry ${r.name} has ${raw.length - consumed} bytes after its compressed stream.`, { entry: r.name, reason: 'hidden-data' });
  return checkCrc(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), r);
}

/** Every entry, stored or deflated: a CRC-32 other ZIP readers refuse must not pass here (format.md §5.2). */
function checkCrc(data: Uint8Array, r: CentralRecord): Uint8Array {
  if (crc32(data) >>> 0 !== r.crc) corrupt(`Entry ${r.name} fails its CRC-32 check.`, { entry: r.name });
  return data;
}
