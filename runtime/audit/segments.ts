/**
 * The text form of audit records outside SQLite: one canonical JSON object
 * per line, `{"event":…,"hash":…,"prev":…,"seq":…,"time":…,"type":…}`. Used by
 * rotated archive segments (`<first>-<last>.jsonl`, 12-digit seq numbers),
 * the head file and `mpp audit export`, so each can be checked with the
 * same code, or by another implementation from audit.md alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MppError } from '../errors.ts';
import type { StoredRecord } from './chain.ts';
import { canonicalJson } from './hash.ts';
import { parseJson } from '../format/strict-json.ts';

export interface RecordFields {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly event: unknown;
  readonly prev: string;
  readonly hash: string;
}

const SEGMENT_RE = /^(\d{12})-(\d{12})\.jsonl$/;

export function segmentName(first: number, last: number): string {
  return `${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.jsonl`;
}

export function recordLine(r: RecordFields): string {
  return canonicalJson({ event: r.event, hash: r.hash, prev: r.prev, seq: r.seq, time: r.time, type: r.type }) + '\n';
}

/** Parses one line; a line that is not a JSON object becomes a record with no valid fields (the chain check reports it). */
export function parseRecordLine(line: string, where: string): StoredRecord {
  let value: unknown;
  try {
    value = parseJson(line);
  } catch {
    value = undefined;
  }
  const o = (value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  return { seq: o.seq, time: o.time, type: o.type, event: o.event, prev: o.prev, hash: o.hash, where };
}

/** The records of a JSONL text (a segment or an export), in file order. */
export function parseRecordLines(text: string, where: string): StoredRecord[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => parseRecordLine(line, where));
}

/** The archive segments in seq order; other files in the folder are not MPP's and are ignored. */
export function listSegments(dir: string): { readonly file: string; readonly first: number; readonly last: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw unreadable(dir, e);
  }
  return names
    .flatMap((file) => {
      const m = SEGMENT_RE.exec(file);
      return m ? [{ file, first: Number(m[1]), last: Number(m[2]) }] : [];
    })
    .sort((a, b) => a.first - b.first || a.last - b.last);
}

export function readSegments(dir: string): StoredRecord[] {
  return listSegments(dir).flatMap((s) => parseRecordLines(readText(join(dir, s.file)), s.file));
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw unreadable(path, e);
  }
}

function unreadable(path: string, e: unknown): MppError {
  return new MppError('MPP_E_IO', `Cannot read ${path}: ${(e as Error).message}.`, { cause: e });
}
