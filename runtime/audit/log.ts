/**
 * The audit log (spec/audit.md): append-only, hash-chained records in the
 * `audit_records` table of `homePaths(home).audit`, older records rotated
 * into JSONL segments under `auditArchive`, and the newest record copied to
 * the head file so that deleting the newest records is detectable too.
 *
 *   append:  validate -> BEGIN IMMEDIATE -> tail == head file? -> insert
 *            (the queued group, then this record) -> write head file -> COMMIT
 *   appendGrouped: validate -> queue; committed with the next append, or on
 *            its own 25 ms later (a call's outcome, after its result)
 *   verify:  under the write lock, read segments + table + head -> walk the chain
 *
 * Several processes (the CLI, the editor) append to one log: the IMMEDIATE
 * transaction serialises them, so seq grows by exactly one and each record
 * chains to the one committed before it. The head file is written under the
 * same lock, before COMMIT; if COMMIT fails the old head is put back, and if
 * the process dies in between, the next append finds the head one record
 * ahead of the table and restores that record from it.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MppError, isMppError } from '../errors.ts';
import { homePaths } from '../home.ts';
import { openDatabase, sqliteFailure, transaction, type Database } from '../state/sqlite.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { checkedRecord, verifyChain, type ChainHead, type ChainReport, type StoredRecord } from './chain.ts';
import { canonicalEvent, isAuditEvent, parseStoredEvent, type AuditEvent, type AuditEventType } from './events.ts';
import { GENESIS_PREV, recordHash } from './hash.ts';
import { loadOrgPolicy } from '../policy/org-policy.ts';
import { forwardedThrough } from './forward/cursor.ts';
import { listSegments, parseRecordLine, parseRecordLines, readSegments, readText, recordLine, segmentName } from './segments.ts';
import { parseJson } from '../format/strict-json.ts';

export type * from './events.ts';
export type { ChainHead, ChainProblem, ChainProblemKind, ChainReport } from './chain.ts';

export interface AuditRecord {
  readonly seq: number;
  /** ISO 8601, UTC, when the record was appended. */
  readonly time: string;
  readonly type: AuditEventType;
  readonly event: AuditEvent;
  readonly prev: string;
  readonly hash: string;
}

export interface AuditFilter {
  readonly type?: AuditEventType;
  /** `event.package`. */
  readonly package?: string;
  /** `event.agent.id`, or `event.agentId` of an `agent` event. */
  readonly agent?: string;
  /** ISO 8601 UTC bounds on `time`, inclusive (compared as text: give them as `Date.toISOString` writes them). */
  readonly since?: string;
  readonly until?: string;
  /** Only records with seq greater than this (to follow the log). */
  readonly afterSeq?: number;
  /** At most this many: the newest matching ones. */
  readonly limit?: number;
  /** At most this many: the oldest matching ones (to send records in order). Not with `limit`. */
  readonly first?: number;
}

export interface VerifyOptions {
  /** An anchor kept outside the MPP home: the record `seq` must exist and have this hash. */
  readonly expect?: ChainHead;
}

export interface RotateResult {
  /** Records moved into the new segment. */
  readonly archived: number;
  /** The segment's file name under `auditArchive`, or null when nothing was old enough. */
  readonly segment: string | null;
}

interface Row {
  seq: number;
  time: string;
  type: string;
  event: string;
  prev: string;
  hash: string;
}

// STRICT: SQLite refuses values of the wrong type instead of coercing them.
const SCHEMA = `CREATE TABLE IF NOT EXISTS audit_records (
  seq INTEGER PRIMARY KEY NOT NULL,
  time TEXT NOT NULL,
  type TEXT NOT NULL,
  event TEXT NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT`;

/** Whether this home has an audit log at all: read-only commands must not create one. */
export function auditLogExists(home: string): boolean {
  const p = homePaths(home);
  return existsSync(p.audit) || existsSync(p.auditHead) || listSegments(p.auditArchive).length > 0;
}

/**
 * Opens the audit log of `home`, creating it unless `readOnly`. A read-only
 * log of a home without one reads as empty and creates nothing. Close it.
 */
export function openAuditLog(home: string, opts: { readonly readOnly?: boolean } = {}): AuditLog {
  const path = homePaths(home).audit;
  if (opts.readOnly && !existsSync(path)) return new AuditLog(home, undefined, true);
  return guard(path, () => {
    const log = new AuditLog(home, openDatabase(path, SCHEMA), Boolean(opts.readOnly));
    // A log that cannot take a record refuses here, before the caller changes anything.
    if (!opts.readOnly) log.checkAppendable();
    return log;
  });
}

/** Opens, appends one event, closes: for callers that record one event now and then. */
export function recordAudit(home: string, event: AuditEvent): AuditRecord {
  const log = openAuditLog(home);
  try {
    return log.append(event);
  } finally {
    log.close();
  }
}

/** The head as `mpp audit head` prints it: null when nothing was ever appended. */
export function readAuditHead(home: string): ChainHead | null {
  const head = readHeadRecord(homePaths(home).auditHead);
  if (!head) return null;
  const c = checkedRecord(head);
  if (!c) throw tampered(0, 'head-mismatch', `The audit head file ${homePaths(home).auditHead} is malformed.`);
  return { seq: c.seq, hash: c.hash };
}

/** Checks the text of an exported log (`mpp audit export`) on its own: the chain from record 1, and `expect` if given. `where` names it in problems. */
export function verifyAuditExport(text: string, where: string, opts: VerifyOptions = {}): ChainReport {
  return verifyChain(parseRecordLines(text, where), { expect: opts.expect });
}

/** How long a queued outcome waits for the next durable append to share its commit (spec/audit.md §2.1). */
export const GROUP_COMMIT_WINDOW_MS = 25;

export class AuditLog {
  readonly #home: string;
  readonly #db: Database | undefined;
  readonly #readOnly: boolean;
  /** Records `appendGrouped` queued, not yet committed, oldest first. */
  readonly #grouped: { readonly text: string; readonly event: AuditEvent }[] = [];
  /** The commit of what is queued, GROUP_COMMIT_WINDOW_MS after the first of it; cleared once it runs or the log closes. */
  #flushTimer: NodeJS.Timeout | undefined;

  /** Use openAuditLog. */
  constructor(home: string, db: Database | undefined, readOnly: boolean) {
    this.#home = home;
    this.#db = db;
    this.#readOnly = readOnly;
  }

  /** The MPP home whose log this is. */
  get home(): string {
    return this.#home;
  }

  /**
   * Appends `event` durably and returns its record. Throws MPP_E_AUDIT_EVENT_INVALID
   * for an event the schema refuses, MPP_E_AUDIT_TAMPERED when the newest
   * record does not match the head file (nothing is appended to a log whose
   * end was cut or rewritten), MPP_E_AUDIT_UNAVAILABLE when it cannot write.
   * Records queued by `appendGrouped` are committed first, in the same
   * transaction: the log's order is the order of the calls. If that commit
   * fails they stay queued.
   */
  append(event: AuditEvent): AuditRecord {
    const queued = this.#grouped.length;
    const records = this.#commit([...this.#grouped, canonicalEvent(event)]);
    this.#grouped.splice(0, queued);
    return records.at(-1)!;
  }

  /**
   * Queues `event` for a group commit (spec/audit.md §2.1): it is committed,
   * with every record queued meanwhile, in one transaction GROUP_COMMIT_WINDOW_MS
   * later, or earlier by the next `append`, `flush` or `close`.
   * Only for records that may be lost in a crash because a durable record
   * already shows what happened (a call's outcome after its `started`).
   * The event is checked now (MPP_E_AUDIT_EVENT_INVALID). A commit that fails
   * keeps the records queued: the next `append` retries them and refuses.
   */
  appendGrouped(event: AuditEvent): void {
    this.#writable();
    this.#grouped.push(canonicalEvent(event));
    if (this.#flushTimer) return;
    // Not at once: a call that comes back to back commits this with its own `started`,
    // one durable write per call instead of two. Ref'd, so a process that ends on its
    // own still commits it; close commits it at once.
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      try {
        this.flush();
      } catch {
        // Kept queued; the next append commits them or refuses its own operation.
      }
    }, GROUP_COMMIT_WINDOW_MS);
  }

  /** Commits the records queued by `appendGrouped` now. */
  flush(): void {
    if (this.#grouped.length === 0) return;
    const batch = this.#grouped.slice();
    this.#commit(batch);
    this.#grouped.splice(0, batch.length);
  }

  /** One transaction: the records of `entries` in order, then the head file, then COMMIT (one durable write). */
  #commit(entries: readonly { readonly text: string; readonly event: AuditEvent }[]): AuditRecord[] {
    const db = this.#writable();
    const paths = homePaths(this.#home);
    let previousHead: string | undefined;
    let headWritten = false;
    try {
      return guard(paths.audit, () =>
        transaction(db, () => {
          previousHead = existsSync(paths.auditHead) ? readText(paths.auditHead) : undefined;
          let tail = this.#reconcile(db, lastRow(db), previousHead === undefined ? undefined : parseRecordLine(previousHead.trim(), 'head'));
          const records: AuditRecord[] = [];
          for (const { text, event: stored } of entries) {
            const fields = { seq: (tail?.seq ?? 0) + 1, time: new Date().toISOString(), type: stored.type, event: stored, prev: tail?.hash ?? GENESIS_PREV };
            const record: AuditRecord = Object.freeze({ ...fields, hash: recordHash(fields) });
            insert(db, record, text);
            records.push(record);
            tail = record;
          }
          writeFileAtomic(paths.auditHead, recordLine(records.at(-1)!));
          headWritten = true;
          return records;
        }),
      );
    } catch (e) {
      // Only COMMIT can fail after the head was written: put the old head back.
      if (headWritten) restoreHead(paths.auditHead, previousHead);
      throw isMppError(e) && e.code !== 'MPP_E_IO' ? e : unavailable(paths.audit, e);
    }
  }

  /**
   * Throws what `append` would throw for a damaged, truncated or rewritten
   * log (MPP_E_AUDIT_TAMPERED, MPP_E_AUDIT_UNAVAILABLE) without appending.
   * openAuditLog calls it, so a command can refuse before it acts.
   */
  checkAppendable(): void {
    const db = this.#writable();
    const paths = homePaths(this.#home);
    guard(paths.audit, () =>
      transaction(db, () => {
        this.#reconcile(db, lastRow(db), readHeadRecord(paths.auditHead));
        // Under the write lock no append is writing one: any temporary head file is a killed writer's.
        removeHeadLeftovers(paths.auditHead);
      }),
    );
  }

  /** Live records (not rotated ones) matching `filter`, oldest first. Each is checked against the event schema. */
  query(filter: AuditFilter = {}): AuditRecord[] {
    const db = this.#db;
    if (!db) return [];
    const where: string[] = [];
    const args: (string | number)[] = [];
    const jsonField = (path: string) => `CASE WHEN json_valid(event) THEN json_extract(event, '${path}') END`;
    if (filter.type !== undefined) (where.push('type = ?'), args.push(filter.type));
    if (filter.package !== undefined) (where.push(`${jsonField('$.package')} = ?`), args.push(filter.package));
    if (filter.agent !== undefined) (where.push(`(${jsonField('$.agent.id')} = ? OR ${jsonField('$.agentId')} = ?)`), args.push(filter.agent, filter.agent));
    if (filter.since !== undefined) (where.push('time >= ?'), args.push(filter.since));
    if (filter.until !== undefined) (where.push('time <= ?'), args.push(filter.until));
    if (filter.afterSeq !== undefined) (where.push('seq > ?'), args.push(filter.afterSeq));
    const oldest = filter.first !== undefined;
    const bound = oldest ? filter.first : filter.limit;
    const sql = `SELECT seq, time, type, event, prev, hash FROM audit_records${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${oldest ? 'ASC' : 'DESC'}${bound !== undefined ? ' LIMIT ?' : ''}`;
    if (bound !== undefined) args.push(bound);
    const rows = guard(homePaths(this.#home).audit, () => db.prepare(sql).all(...args) as unknown as Row[]);
    return (oldest ? rows : rows.reverse()).map(toRecord);
  }

  /** Checks archive segments, live records and head as one chain (and `opts.expect`, an external anchor). */
  verify(opts: VerifyOptions = {}): ChainReport {
    const { records, head } = this.#collect();
    return verifyChain(records, { head, headRequired: true, expect: opts.expect });
  }

  /**
   * Moves all but the newest `keep` records into a new archive segment. The
   * log is verified first: a broken chain is not rotated (it would be
   * harder to investigate), MPP_E_AUDIT_TAMPERED.
   */
  rotate(opts: { readonly keep: number }): RotateResult {
    if (!Number.isSafeInteger(opts.keep) || opts.keep < 1) throw new RangeError(`keep must be an integer >= 1, got ${opts.keep}`);
    const db = this.#writable();
    const paths = homePaths(this.#home);
    return guard(paths.audit, () =>
      transaction(db, () => {
        const { records, head } = this.#readAll(db);
        const report = verifyChain(records, { head, headRequired: true });
        if (!report.ok) throw tamperedReport(report);
        // Rows already in a segment are left over from a rotation interrupted before its COMMIT.
        const archivedThrough = listSegments(paths.auditArchive).at(-1)?.last ?? 0;
        db.prepare('DELETE FROM audit_records WHERE seq <= ?').run(archivedThrough);
        // With forwarding in force, what the collector has not read stays in the live log.
        const held = loadOrgPolicy()?.auditForwarding ? forwardedThrough(this.#home) : Infinity;
        const cut = Math.min((report.head?.seq ?? 0) - opts.keep, held);
        const old = (db.prepare('SELECT seq, time, type, event, prev, hash FROM audit_records WHERE seq <= ? ORDER BY seq').all(cut) as unknown as Row[]).map(toRecord);
        if (old.length === 0) return { archived: 0, segment: null };
        const segment = segmentName(old[0]!.seq, old.at(-1)!.seq);
        // The segment is complete on disk before the rows go: a crash leaves both copies, never neither.
        writeFileAtomic(`${paths.auditArchive}/${segment}`, old.map(recordLine).join(''));
        db.prepare('DELETE FROM audit_records WHERE seq <= ?').run(cut);
        return { archived: old.length, segment };
      }),
    );
  }

  /**
   * Retention: archives the live records appended before `cutoff` (ISO time,
   * as records store it), keeping at least the newest one. The chain stays
   * checkable across the archive, as with `rotate`.
   */
  archiveBefore(cutoff: string): RotateResult {
    const db = this.#writable();
    const recent = guard(homePaths(this.#home).audit, () => Number((db.prepare('SELECT COUNT(*) AS n FROM audit_records WHERE time >= ?').get(cutoff) as { n: number }).n));
    return this.rotate({ keep: Math.max(1, recent) });
  }

  /** Every record, archived and live, as export lines (verifiable offline with `verifyAuditExport`). Refuses a broken chain. */
  exportLines(): string {
    const { report, lines } = this.verifyAndExport();
    if (!report.ok) throw tamperedReport(report);
    return lines;
  }

  /** `verify` and, for an intact chain, the export lines, from one read of the log; lines are '' when it is broken. */
  verifyAndExport(opts: VerifyOptions = {}): { report: ChainReport; lines: string } {
    const { records, head } = this.#collect();
    const report = verifyChain(records, { head, headRequired: true, expect: opts.expect });
    if (!report.ok) return { report, lines: '' };
    // A record in both a segment and the table (an interrupted rotation) is exported once.
    const seen = new Set<number>();
    const lines = records
      .map((r) => checkedRecord(r)!)
      .filter((r) => !seen.has(r.seq) && seen.add(r.seq))
      .map(recordLine)
      .join('');
    return { report, lines };
  }

  /** Commits what `appendGrouped` queued, then closes. */
  close(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    try {
      this.flush();
    } finally {
      this.#db?.close();
    }
  }

  #writable(): Database {
    if (!this.#db || this.#readOnly) throw new MppError('MPP_E_INTERNAL', 'The audit log was opened read-only.');
    return this.#db;
  }

  /** Segments, table and head read under the write lock: no append is half done while they are read. */
  #collect(): { records: StoredRecord[]; head: StoredRecord | undefined } {
    const db = this.#db;
    if (!db) return this.#readAll(undefined);
    return guard(homePaths(this.#home).audit, () => transaction(db, () => this.#readAll(db)));
  }

  #readAll(db: Database | undefined): { records: StoredRecord[]; head: StoredRecord | undefined } {
    const paths = homePaths(this.#home);
    const live = db ? (db.prepare('SELECT seq, time, type, event, prev, hash FROM audit_records ORDER BY seq').all() as unknown as Row[]) : [];
    return {
      records: [...readSegments(paths.auditArchive), ...live.map(storedRow)],
      head: readHeadRecord(paths.auditHead),
    };
  }

  /**
   * The record to chain the next one to. The table's newest record must be
   * the head file's; one exception: the head one record ahead, chained to
   * the table's newest, is an append whose COMMIT never happened (a crash)
   * or a deleted newest record, and either way it goes back into the table.
   */
  #reconcile(db: Database, tail: Row | undefined, head: StoredRecord | undefined): { seq: number; hash: string } | undefined {
    const h = head ? checkedRecord(head) : undefined;
    if (!tail && !head) {
      if (listSegments(homePaths(this.#home).auditArchive).length > 0) throw tampered(1, 'deleted', 'The audit table and head file are gone but archive segments remain.');
      return undefined;
    }
    if (!h) throw tampered(tail?.seq ?? 0, 'head-mismatch', 'The audit head file is missing or malformed.');
    if (tail && h.seq === tail.seq && h.hash === tail.hash) return tail;
    if (h.seq === (tail?.seq ?? 0) + 1 && h.prev === (tail?.hash ?? GENESIS_PREV) && isAuditEvent(h.event) && recordHash(h) === h.hash) {
      insert(db, { ...h, type: h.event.type, event: h.event }, canonicalEvent(h.event).text);
      return h;
    }
    const kind = tail && h.seq > tail.seq ? 'truncated' : 'head-mismatch';
    throw tampered(tail?.seq ?? 0, kind, `The newest audit record (${tail?.seq ?? 'none'}) is not the one the head file names (${h.seq}).`);
  }
}

function lastRow(db: Database): Row | undefined {
  return db.prepare('SELECT seq, time, type, event, prev, hash FROM audit_records ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
}

function insert(db: Database, r: AuditRecord, eventText: string): void {
  db.prepare('INSERT INTO audit_records (seq, time, type, event, prev, hash) VALUES (?, ?, ?, ?, ?, ?)').run(r.seq, r.time, r.type, eventText, r.prev, r.hash);
}

function storedRow(row: Row): StoredRecord {
  let event: unknown;
  try {
    event = parseJson(row.event);
  } catch {
    event = undefined;
  }
  return { seq: row.seq, time: row.time, type: row.type, event, eventText: row.event, prev: row.prev, hash: row.hash, where: 'live' };
}

/** A row is data on disk like any other: its event is checked against the schema before anyone reads it. */
function toRecord(row: Row): AuditRecord {
  const event = parseStoredEvent(row.event);
  if (!event || event.type !== row.type) throw tampered(row.seq, 'edited', `Audit record ${row.seq} is not a valid audit event: it was changed outside MPP.`);
  return Object.freeze({ seq: row.seq, time: row.time, type: event.type, event, prev: row.prev, hash: row.hash });
}

function readHeadRecord(path: string): StoredRecord | undefined {
  if (!existsSync(path)) return undefined;
  return parseRecordLine(readText(path).trim(), 'head');
}

function restoreHead(path: string, previous: string | undefined): void {
  try {
    if (previous === undefined) rmSync(path, { force: true });
    else writeFileAtomic(path, previous);
  } catch {
    // The next append finds the head one ahead and restores that record: still a consistent chain.
  }
}

function tampered(seq: number, kind: string, message: string): MppError {
  return new MppError('MPP_E_AUDIT_TAMPERED', `${message} Run \`mpp audit verify\` for details; nothing more is recorded until the log is examined.`, { detail: { seq, kind } });
}

/** The refusal for a report that is not ok: where the chain breaks, and how many records before it are intact. */
export function tamperedReport(report: ChainReport): MppError {
  const p = report.problem!;
  const intact = report.records > 0 ? `${report.records} records before it are intact.` : p.seq > 1 ? 'No record before it can be proven intact.' : '';
  return new MppError('MPP_E_AUDIT_TAMPERED', `The audit log is broken at record ${p.seq} (${p.kind}${p.where ? `, in ${p.where}` : ''}): ${p.message} ${intact}`.trimEnd(), {
    detail: { seq: p.seq, kind: p.kind, ...(p.where ? { where: p.where } : {}), intact: report.records },
  });
}

/** Temporary files of head writes (writeFileAtomic's `.audit.head.<random>.tmp`) left by a process killed mid-write. */
function removeHeadLeftovers(head: string): void {
  const prefix = `.${basename(head)}.`;
  for (const name of readdirSync(dirname(head))) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(join(dirname(head), name), { force: true });
  }
}

function unavailable(path: string, e: unknown): MppError {
  return new MppError('MPP_E_AUDIT_UNAVAILABLE', `Cannot write the audit log ${path}: ${(e as Error).message}`, { cause: e, detail: { path } });
}

/** node:sqlite failures as coded errors; MppErrors and bugs pass through. */
function guard<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isMppError(e) || (e as { errcode?: unknown })?.errcode === undefined) throw e;
    const failure = sqliteFailure(e);
    const why = failure === 'corrupt' ? 'it is damaged or not an SQLite database' : failure === 'busy' ? 'another MPP process kept it locked' : (e as Error).message;
    throw new MppError('MPP_E_AUDIT_UNAVAILABLE', `Cannot use the audit log ${path}: ${why}.`, { cause: e, detail: { path } });
  }
}
