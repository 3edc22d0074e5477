import { isAuditEvent, type AuditEvent } from '../audit/events.ts';
import { parseJson } from '../format/strict-json.ts';
import { homePaths } from '../home.ts';
import { guardDatabase, openDatabase, openWithSchema, type Database } from '../state/sqlite.ts';
import { indexExists } from './installed-index.ts';

/**
 * The audit records a committed change of state still owes (spec/audit.md
 * §7): written in the very transaction that commits the change, removed
 * once the record is in the audit log. A process killed between the two
 * leaves the row, and the next command that opens the audit log to change
 * something appends it (trail.ts), so no committed change goes unrecorded.
 */
const SCHEMA = `CREATE TABLE IF NOT EXISTS audit_owed (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event TEXT NOT NULL
) STRICT`;

export interface OwedRecord {
  readonly id: number;
  /** Undefined when the stored row is not an audit event any more (a damaged database). */
  readonly event: AuditEvent | undefined;
}

/** Notes the record `event` is owed. Call inside the transaction that commits the change. */
export function oweRecord(db: Database, event: AuditEvent): number {
  db.exec(SCHEMA);
  return Number(db.prepare('INSERT INTO audit_owed (event) VALUES (?)').run(JSON.stringify(event)).lastInsertRowid);
}

function openOwed(home: string): Database {
  return openWithSchema(homePaths(home).db, 'install index', SCHEMA);
}

function owedEvent(text: string): AuditEvent | undefined {
  try {
    const value = parseJson(text);
    return isAuditEvent(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The records still owed, oldest first. Only reads: it never waits for another process's write lock. */
export function owedRecords(home: string): OwedRecord[] {
  if (!indexExists(home)) return [];
  const path = homePaths(home).db;
  const db = guardDatabase(path, 'install index', () => openDatabase(path));
  try {
    return guardDatabase(path, 'install index', () => {
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_owed'").get()) return [];
      const rows = db.prepare('SELECT id, event FROM audit_owed ORDER BY id').all() as { id: number; event: string }[];
      // A row that is not an audit event (damage) is returned as such: the caller records the damage and clears it.
      return rows.map((r) => Object.freeze({ id: r.id, event: owedEvent(r.event) }));
    });
  } finally {
    db.close();
  }
}

/** The record was appended: nothing is owed for it any more. */
export function settleRecord(home: string, id: number): void {
  const db = openOwed(home);
  try {
    guardDatabase(homePaths(home).db, 'install index', () => db.prepare('DELETE FROM audit_owed WHERE id = ?').run(id));
  } finally {
    db.close();
  }
}
