import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase, transaction, type Database } from '../../state/sqlite.ts';

/**
 * One forwarding cursor per MPP home, shared by every host using it (CLI,
 * `mpp mcp`, the editor): the newest record the collector has certainly
 * read, and a lease so that one host sends at a time. A lease whose holder
 * died expires; a second sender at worst repeats records (duplicates are
 * detectable by `seq`), never skips one: the cursor only moves forward, and
 * only after a batch was read by the collector.
 */
export interface ForwardCursor {
  /** The MPP home's id in every forwarded message. */
  readonly source: string;
  /** Records up to this seq have reached the collector. */
  readonly seq: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS forward_cursor (
  id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
  source TEXT NOT NULL,
  seq INTEGER NOT NULL,
  holder TEXT,
  lease_until INTEGER NOT NULL
) STRICT;`;

export function forwardDatabasePath(home: string): string {
  return join(home, 'audit-forward.db');
}

export function openCursor(home: string): Database {
  const db = openDatabase(forwardDatabasePath(home), SCHEMA);
  db.prepare('INSERT OR IGNORE INTO forward_cursor (id, source, seq, holder, lease_until) VALUES (1, ?, 0, NULL, 0)').run(randomUUID());
  return db;
}

export function readCursor(db: Database): ForwardCursor {
  const row = db.prepare('SELECT source, seq FROM forward_cursor WHERE id = 1').get() as { source: string; seq: number };
  return { source: row.source, seq: Number(row.seq) };
}

/** Holders are `<pid>:<uuid>` on this machine (an MPP home is local): a dead holder's lease is free at once. */
function holderAlive(holder: string): boolean {
  const pid = Number(holder.split(':')[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Takes the lease for `ms` if it is free, expired or ours; false when another live sender holds it. */
export function takeLease(db: Database, holder: string, ms: number, now = Date.now()): boolean {
  return transaction(db, () => {
    const row = db.prepare('SELECT holder, lease_until FROM forward_cursor WHERE id = 1').get() as { holder: string | null; lease_until: number };
    if (row.holder !== null && row.holder !== holder && Number(row.lease_until) > now && holderAlive(row.holder)) return false;
    db.prepare('UPDATE forward_cursor SET holder = ?, lease_until = ? WHERE id = 1').run(holder, now + ms);
    return true;
  });
}

export function releaseLease(db: Database, holder: string): void {
  db.prepare('UPDATE forward_cursor SET holder = NULL, lease_until = 0 WHERE id = 1 AND holder = ?').run(holder);
}

/** Moves the cursor forward (never back), only while holding the lease. */
export function advanceCursor(db: Database, holder: string, seq: number): void {
  db.prepare('UPDATE forward_cursor SET seq = MAX(seq, ?) WHERE id = 1 AND holder = ?').run(seq, holder);
}

/** The newest seq the collector has, for rotation: what it has not got is never archived away. */
export function forwardedThrough(home: string): number {
  const db = openCursor(home);
  try {
    return readCursor(db).seq;
  } finally {
    db.close();
  }
}
