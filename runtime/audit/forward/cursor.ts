import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { guardDatabase, openWithSchema, transaction, type Database } from '../../state/sqlite.ts';

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

const WHAT = 'audit forwarding cursor';
// A damaged cursor stops forwarding (and, where forwarding is required, calls) with a code that names the file.
const CORRUPT = { code: 'MPP_E_AUDIT_UNAVAILABLE', hint: 'Move audit-forward.db out of the MPP home: forwarding starts again from the first record (the collector sees the repeats as duplicates).' } as const;

/** The cursor as the forwarder holds it: every statement coded as the cursor's on failure. */
export class CursorDb {
  readonly #db: Database;
  readonly #path: string;

  constructor(home: string) {
    this.#path = forwardDatabasePath(home);
    this.#db = openWithSchema(this.#path, WHAT, SCHEMA, CORRUPT);
    this.#guard(() => this.#db.prepare('INSERT OR IGNORE INTO forward_cursor (id, source, seq, holder, lease_until) VALUES (1, ?, 0, NULL, 0)').run(randomUUID()));
  }

  #guard<T>(fn: () => T): T {
    return guardDatabase(this.#path, WHAT, fn, CORRUPT);
  }

  read(): ForwardCursor {
    const row = this.#guard(() => this.#db.prepare('SELECT source, seq FROM forward_cursor WHERE id = 1').get()) as { source: string; seq: number };
    return { source: row.source, seq: Number(row.seq) };
  }

  /** Takes the lease for `ms` if it is free, expired, ours or its holder is dead; false when another live sender holds it. */
  takeLease(holder: string, ms: number, now = Date.now()): boolean {
    return this.#guard(() =>
      transaction(this.#db, () => {
        const row = this.#db.prepare('SELECT holder, lease_until FROM forward_cursor WHERE id = 1').get() as { holder: string | null; lease_until: number };
        if (row.holder !== null && row.holder !== holder && Number(row.lease_until) > now && holderAlive(row.holder)) return false;
        this.#db.prepare('UPDATE forward_cursor SET holder = ?, lease_until = ? WHERE id = 1').run(holder, now + ms);
        return true;
      }),
    );
  }

  releaseLease(holder: string): void {
    this.#guard(() => this.#db.prepare('UPDATE forward_cursor SET holder = NULL, lease_until = 0 WHERE id = 1 AND holder = ?').run(holder));
  }

  /** Moves the cursor forward (never back), only while holding the lease. */
  advance(holder: string, seq: number): void {
    this.#guard(() => this.#db.prepare('UPDATE forward_cursor SET seq = MAX(seq, ?) WHERE id = 1 AND holder = ?').run(seq, holder));
  }

  close(): void {
    this.#db.close();
  }
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

/**
 * The newest seq the collector has (0 before anything was sent): for rotation
 * (what it has not got is never archived away) and the call path's backlog
 * check. Only reads: no file is made and no write lock is taken.
 */
export function forwardedThrough(home: string): number {
  const path = forwardDatabasePath(home);
  if (!existsSync(path)) return 0;
  const db = openWithSchema(path, WHAT, SCHEMA, CORRUPT);
  try {
    const row = guardDatabase(path, WHAT, () => db.prepare('SELECT seq FROM forward_cursor WHERE id = 1').get(), CORRUPT) as { seq: number } | undefined;
    return row ? Number(row.seq) : 0;
  } finally {
    db.close();
  }
}
