/**
 * Checking a hash chain of audit records: the records of the archive
 * segments and the live table in seq order, the head file, and an optional
 * external anchor. The walk stops at the first break and says where it is
 * and what it looks like; everything before that record is intact.
 */
import { GENESIS_PREV, canonicalJson, recordHash } from './hash.ts';
import type { RecordFields } from './segments.ts';

export type ChainProblemKind =
  /** A record's content no longer matches its hash, or a record was replaced (its successor names another predecessor). */
  | 'edited'
  /** Records are missing from the middle of the chain. */
  | 'deleted'
  /** Records were added that MPP did not chain (or added after the head). */
  | 'inserted'
  /** A record sits at another position than the one it was chained at. */
  | 'reordered'
  /** The newest records are gone: the head names a record the log no longer has. */
  | 'truncated'
  /** The head file is missing, or names a record with another hash. */
  | 'head-mismatch'
  /** The record named by `--expect-head` is missing or has another hash. */
  | 'anchor-mismatch';

export interface ChainProblem {
  readonly seq: number;
  readonly kind: ChainProblemKind;
  readonly message: string;
  /** Where the record is: `live` or an archive segment's file name. */
  readonly where?: string;
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export interface ChainReport {
  readonly ok: boolean;
  /** Records checked and found intact (before the problem, if any). */
  readonly records: number;
  /** The last intact record. */
  readonly head: ChainHead | null;
  readonly problem?: ChainProblem;
}

/** A record as read from storage: nothing about it is trusted yet. */
export interface StoredRecord {
  readonly seq: unknown;
  readonly time: unknown;
  readonly type: unknown;
  /** The event as parsed; undefined when its text is not JSON. */
  readonly event: unknown;
  /** The event's stored text, when stored as text (SQLite): must be canonical. */
  readonly eventText?: string;
  readonly prev: unknown;
  readonly hash: unknown;
  readonly where: string;
}

export interface ChainAnchors {
  /** The head file's record: undefined when there is no head file. */
  readonly head?: StoredRecord | undefined;
  /** Whether a head file is required (the live log: yes; an export: no). */
  readonly headRequired?: boolean;
  /** An anchor kept elsewhere (`mpp audit head` output saved earlier). */
  readonly expect?: ChainHead | undefined;
}

interface Checked extends RecordFields {
  readonly where: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** How far from its position a displaced record's original seq is looked for (128 hashes, once, at the first break). */
const RENUMBER_PROBE = 64;

/** The seq a record with a wrong hash for its position was chained at, looked for near its position; undefined when its content changed. */
function originalSeq(r: Checked): number | undefined {
  for (let d = 1; d <= RENUMBER_PROBE; d++) {
    for (const seq of [r.seq + d, r.seq - d]) {
      if (seq >= 1 && recordHash({ ...r, seq }) === r.hash) return seq;
    }
  }
  return undefined;
}

/** A record whose fields have the right types and whose stored event text is canonical; undefined otherwise. */
export function checkedRecord(r: StoredRecord): Checked | undefined {
  const { seq, time, type, event, prev, hash } = r;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return undefined;
  if (typeof time !== 'string' || typeof type !== 'string' || typeof prev !== 'string' || typeof hash !== 'string') return undefined;
  if (!HEX64.test(prev) || !HEX64.test(hash) || event === null || typeof event !== 'object') return undefined;
  if ((event as { type?: unknown }).type !== type) return undefined;
  try {
    const text = canonicalJson(event);
    if (r.eventText !== undefined && text !== r.eventText) return undefined;
  } catch {
    return undefined;
  }
  return { seq: seq as number, time, type, event, prev, hash, where: r.where };
}

export function verifyChain(records: readonly StoredRecord[], anchors: ChainAnchors = {}): ChainReport {
  // Every well-formed record's hash, to tell where a displaced record came from.
  const seqOfHash = new Map<string, number>();
  for (const r of records) {
    const c = checkedRecord(r);
    if (c) seqOfHash.set(c.hash, c.seq);
  }
  const presentSeqs = new Set(records.map((r) => r.seq));
  const head = anchors.head === undefined ? undefined : checkedRecord(anchors.head);
  const hashAt = new Map<number, string>();
  let last: Checked | undefined;
  // Only what comes before the problem is intact (a replaced record is found one record later),
  // and only as far as something proves it: `provenBelow` bounds it where a consistent rewrite would leave no trace.
  const report = (problem: ChainProblem, provenBelow = problem.seq): ChainReport => {
    const intact = [...hashAt.keys()].filter((seq) => seq < Math.min(problem.seq, provenBelow));
    const headSeq = intact.at(-1);
    return { ok: false, records: intact.length, head: headSeq === undefined ? null : { seq: headSeq, hash: hashAt.get(headSeq)! }, problem };
  };

  for (const raw of records) {
    const expectedSeq = (last?.seq ?? 0) + 1;
    const r = checkedRecord(raw);
    if (!r) {
      const seq = Number.isSafeInteger(raw.seq) ? (raw.seq as number) : expectedSeq;
      return report({ seq, kind: 'edited', message: `Record ${seq} is malformed: a field was changed outside MPP.`, where: raw.where });
    }
    // The same record in an archive segment and the live table: a rotation was interrupted after writing its segment.
    if (last && r.seq <= last.seq) {
      if (hashAt.get(r.seq) === r.hash && recordHash(r) === r.hash) continue;
      return report({ seq: r.seq, kind: 'inserted', message: `A second, different record ${r.seq} exists (${r.where}).`, where: r.where });
    }
    if (r.seq > expectedSeq && presentSeqs.has(expectedSeq)) {
      return report({ seq: expectedSeq, kind: 'reordered', message: `Record ${expectedSeq} comes after record ${r.seq}: records were reordered.`, where: r.where });
    }
    if (r.seq > expectedSeq) {
      const range = r.seq - 1 === expectedSeq ? `Record ${expectedSeq} is` : `Records ${expectedSeq} to ${r.seq - 1} are`;
      return report({ seq: expectedSeq, kind: 'deleted', message: `${range} missing: the chain jumps from ${expectedSeq - 1} to ${r.seq}.`, where: r.where });
    }
    const expectedPrev = last?.hash ?? GENESIS_PREV;
    const linkedSeq = r.prev === GENESIS_PREV ? 0 : seqOfHash.get(r.prev);
    if (recordHash(r) !== r.hash) {
      // Intact content at another position: the seq it was chained at tells what happened.
      const original = originalSeq(r);
      if (original !== undefined && original < r.seq && r.prev === (original === 1 ? GENESIS_PREV : hashAt.get(original - 1))) {
        return report({ seq: original, kind: 'inserted', message: `Record ${r.seq} was chained as record ${original}: records were inserted before it.`, where: r.where });
      }
      if (original !== undefined && original > r.seq && linkedSeq === undefined) {
        return report({ seq: r.seq, kind: 'deleted', message: `Record ${r.seq} was chained as record ${original}: records before it were deleted and the rest renumbered.`, where: r.where });
      }
      if (original !== undefined) {
        return report({ seq: r.seq, kind: 'reordered', message: `Record ${r.seq} was chained as record ${original}: records were reordered.`, where: r.where });
      }
      return report({ seq: r.seq, kind: 'edited', message: `Record ${r.seq} was edited: its content does not match its hash.`, where: r.where });
    }
    if (r.prev !== expectedPrev) {
      if (linkedSeq !== undefined && linkedSeq < r.seq - 1) {
        return report({ seq: linkedSeq + 1, kind: 'inserted', message: `Record ${r.seq} follows record ${linkedSeq}: the records between were inserted.`, where: r.where });
      }
      if (linkedSeq !== undefined) return report({ seq: r.seq, kind: 'reordered', message: `Record ${r.seq} follows record ${linkedSeq}, a later one: records were reordered.`, where: r.where });
      if (head && r.seq > head.seq) {
        return report({ seq: r.seq, kind: 'inserted', message: `Record ${r.seq} was added after the head (${head.seq}) and is not chained to the log.`, where: r.where });
      }
      return report({ seq: r.seq - 1, kind: 'edited', message: `Record ${r.seq - 1} was replaced: record ${r.seq} was chained to a different one.`, where: r.where });
    }
    hashAt.set(r.seq, r.hash);
    last = r;
  }

  const lastSeq = last?.seq ?? 0;
  if (anchors.head !== undefined) {
    if (!head) return report({ seq: lastSeq, kind: 'head-mismatch', message: 'The head file is malformed.', where: 'head' });
    if (head.seq > lastSeq) {
      const range = head.seq - 1 === lastSeq ? `Record ${head.seq} is` : `Records ${lastSeq + 1} to ${head.seq} are`;
      const crash = head.seq - 1 === lastSeq && head.prev === (last?.hash ?? GENESIS_PREV) ? ' (or its append was interrupted by a crash; the next append restores it from the head file)' : '';
      return report({ seq: lastSeq + 1, kind: 'truncated', message: `${range} missing: the head names record ${head.seq}, the log ends at ${lastSeq}${crash}.`, where: 'head' });
    }
    if (hashAt.get(head.seq) !== head.hash || recordHash(head) !== head.hash) {
      // The head file holds its record's predecessor hash: what comes before is proven only when it still matches.
      const provenBelow = hashAt.get(head.seq - 1) === head.prev || (head.seq === 1 && head.prev === GENESIS_PREV) ? head.seq : 1;
      return report({ seq: head.seq, kind: 'head-mismatch', message: `Record ${head.seq} is not the record the head file names: the log was rewritten from there, or the head file was edited.`, where: 'head' }, provenBelow);
    }
    if (head.seq < lastSeq) {
      return report({ seq: head.seq + 1, kind: 'inserted', message: `Records ${head.seq + 1} to ${lastSeq} come after the head (${head.seq}): they were not appended by MPP.`, where: 'live' });
    }
  } else if (anchors.headRequired && last) {
    return report({ seq: lastSeq, kind: 'head-mismatch', message: 'The head file is missing although the log has records.', where: 'head' });
  }
  const expect = anchors.expect;
  if (expect) {
    // An anchor is one hash: when it does not match, a consistent rewrite may have started at any record up to it, so none is proven intact.
    if (expect.seq > lastSeq) return report({ seq: lastSeq + 1, kind: 'truncated', message: `The anchor names record ${expect.seq}, but the log ends at ${lastSeq}.` }, 1);
    if (hashAt.get(expect.seq) !== expect.hash) return report({ seq: expect.seq, kind: 'anchor-mismatch', message: `Record ${expect.seq} does not have the anchored hash: the log was rewritten at or before it.` }, 1);
  }
  return { ok: true, records: hashAt.size, head: last ? { seq: last.seq, hash: last.hash } : null };
}
