/**
 * A deliberately permissive ZIP writer for crafting malformed archives in
 * conformance vectors: every header field can be set independently, including
 * ones a correct writer would never produce. Not used by MPP itself.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface CraftEntry {
  name: string;
  data: Uint8Array;
  method?: 0 | 8 | number;
  /** Raw compressed bytes to use instead of deflating `data`. */
  compressed?: Uint8Array;
  flags?: number;
  madeBy?: number;
  externalAttrs?: number;
  extra?: Uint8Array;
  comment?: Uint8Array;
  /** Overrides applied to the central record only. */
  central?: Partial<{ name: string; crc: number; size: number; compressedSize: number; flags: number; method: number; localOffset: number }>;
  /** Overrides applied to the local header only. */
  local?: Partial<{ name: string; crc: number; size: number; compressedSize: number; flags: number }>;
}

export interface CraftOptions {
  prefix?: Uint8Array;
  /** Bytes inserted after each entry's data (hidden data between entries). */
  gapAfter?: Record<string, Uint8Array>;
  eocdComment?: Uint8Array;
  trailing?: Uint8Array;
  eocdCount?: number;
}

export function craftZip(entries: CraftEntry[], opts: CraftOptions = {}): Uint8Array {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Uint8Array) => {
    parts.push(Buffer.from(b));
    offset += b.length;
  };
  if (opts.prefix) push(opts.prefix);
  const central: Buffer[] = [];
  for (const e of entries) {
    const method = e.method ?? 8;
    const body = e.compressed ?? (method === 8 ? deflateRawSync(e.data) : e.data);
    const crc = crc32(e.data) >>> 0;
    const nameBytes = Buffer.from(e.name, 'utf8');
    const extra = Buffer.from(e.extra ?? new Uint8Array(0));
    const flags = e.flags ?? (/[^\x00-\x7f]/.test(e.name) ? 0x0800 : 0);
    const l = e.local ?? {};
    const localName = l.name !== undefined ? Buffer.from(l.name, 'utf8') : nameBytes;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(l.flags ?? flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(l.crc ?? crc, 14);
    local.writeUInt32LE(l.compressedSize ?? body.length, 18);
    local.writeUInt32LE(l.size ?? e.data.length, 22);
    local.writeUInt16LE(localName.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const localOffset = offset;
    push(local);
    push(localName);
    push(extra);
    push(body);
    const gap = opts.gapAfter?.[e.name];
    if (gap) push(gap);

    const c = e.central ?? {};
    const centralName = c.name !== undefined ? Buffer.from(c.name, 'utf8') : nameBytes;
    const comment = Buffer.from(e.comment ?? new Uint8Array(0));
    const rec = Buffer.alloc(46);
    rec.writeUInt32LE(0x02014b50, 0);
    rec.writeUInt16LE(e.madeBy ?? (3 << 8) | 20, 4);
    rec.writeUInt16LE(20, 6);
    rec.writeUInt16LE(c.flags ?? flags, 8);
    rec.writeUInt16LE(c.method ?? method, 10);
    rec.writeUInt16LE(0, 12);
    rec.writeUInt16LE(0x21, 14);
    rec.writeUInt32LE(c.crc ?? crc, 16);
    rec.writeUInt32LE(c.compressedSize ?? body.length, 20);
    rec.writeUInt32LE(c.size ?? e.data.length, 24);
    rec.writeUInt16LE(centralName.length, 28);
    rec.writeUInt16LE(extra.length, 30);
    rec.writeUInt16LE(comment.length, 32);
    rec.writeUInt16LE(0, 34);
    rec.writeUInt16LE(0, 36);
    rec.writeUInt32LE((e.externalAttrs ?? (0o100644 << 16)) >>> 0, 38);
    rec.writeUInt32LE(c.localOffset ?? localOffset, 42);
    central.push(Buffer.concat([rec, centralName, extra, comment]));
  }
  const cdOffset = offset;
  const cd = Buffer.concat(central);
  push(cd);
  const comment = Buffer.from(opts.eocdComment ?? new Uint8Array(0));
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.eocdCount ?? entries.length, 8);
  eocd.writeUInt16LE(opts.eocdCount ?? entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  push(eocd);
  push(comment);
  if (opts.trailing) push(opts.trailing);
  return new Uint8Array(Buffer.concat(parts));
}
