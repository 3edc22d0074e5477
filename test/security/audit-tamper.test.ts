/**
 * Tampering with the audit log through the files themselves, as someone
 * with write access to the MPP home would: every kind of record edited in
 * SQLite, records deleted, inserted (with a correct own hash), reordered,
 * the newest ones cut off, archive segments changed. Each is detected, at
 * the right record, and appends refuse once the end of the log was cut.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import { homePaths } from '../../runtime/home.ts';
import { AUDIT_EVENT_TYPES } from '../../runtime/audit/events.ts';
import { canonicalJson, recordHash } from '../../runtime/audit/hash.ts';
import { openAuditLog, type ChainReport } from '../../runtime/audit/log.ts';
import { tempDir } from '../helpers/cli.ts';
import { SAMPLE_EVENTS, editAuditDb } from '../helpers/audit.ts';

interface Row {
  seq: number;
  time: string;
  type: string;
  event: string;
  prev: string;
  hash: string;
}

/** A home whose log holds one sample of every event type, seq 1..14 in schema order. */
function fullLog(t: { after(fn: () => void): void }, label: string): string {
  const home = tempDir(t, `tamper-${label}`);
  const log = openAuditLog(home);
  try {
    for (const e of Object.values(SAMPLE_EVENTS)) log.append(e);
  } finally {
    log.close();
  }
  return home;
}

function verify(home: string): ChainReport {
  const log = openAuditLog(home, { readOnly: true });
  try {
    return log.verify();
  } finally {
    log.close();
  }
}

function assertProblem(home: string, seq: number, kind: string, label = ''): void {
  const report = verify(home);
  assert.equal(report.ok, false, `${label}: tampering not detected`);
  assert.deepEqual({ seq: report.problem!.seq, kind: report.problem!.kind }, { seq, kind }, `${label}: ${report.problem!.message}`);
  assert.equal(report.records, Math.max(0, seq - 1), `${label}: the records before ${seq} are reported intact`);
}

function row(home: string, seq: number): Row {
  let r: Row | undefined;
  editAuditDb(home, (db) => (r = db.prepare('SELECT * FROM audit_records WHERE seq = ?').get(seq) as unknown as Row));
  return r!;
}

/** Changes one value in an event: the first member after `type` that can be changed. */
function altered(event: Record<string, unknown>): Record<string, unknown> {
  const key = Object.keys(event).find((k) => k !== 'type')!;
  const v = event[key];
  const changed = typeof v === 'string' ? `${v.slice(0, -1)}${v.endsWith('0') ? '1' : '0'}` : typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : { ...(v as object), tampered: 1 };
  return { ...event, [key]: changed };
}

describe('audit log tampering', () => {
  for (const [i, type] of AUDIT_EVENT_TYPES.entries()) {
    const seq = i + 1;
    it(`an edited ${type} record is reported as edited at its seq`, (t) => {
      const home = fullLog(t, `edit-${type}`);
      const r = row(home, seq);
      const event = canonicalJson(altered(JSON.parse(r.event)));
      editAuditDb(home, (db) => db.prepare('UPDATE audit_records SET event = ? WHERE seq = ?').run(event, seq));
      assertProblem(home, seq, 'edited', type);
    });
  }

  it('an edited time, type or prev column is reported as edited', (t) => {
    for (const [column, value] of [['time', '2000-01-01T00:00:00.000Z'], ['type', 'deny'], ['prev', '1'.repeat(64)]] as const) {
      const home = fullLog(t, `edit-${column}`);
      editAuditDb(home, (db) => db.prepare(`UPDATE audit_records SET ${column} = ? WHERE seq = 5`).run(value));
      assertProblem(home, 5, 'edited', column);
    }
  });

  it('an event rewritten with whitespace (same meaning, other bytes) is reported as edited', (t) => {
    const home = fullLog(t, 'edit-format');
    editAuditDb(home, (db) => db.prepare('UPDATE audit_records SET event = ? WHERE seq = 3').run(JSON.stringify(SAMPLE_EVENTS.verify, null, 1)));
    assertProblem(home, 3, 'edited');
  });

  it('an edited record whose own hash was recomputed breaks the link to the next one: reported as edited at its seq', (t) => {
    const home = fullLog(t, 'edit-rehash');
    const r = row(home, 8);
    const event = altered(JSON.parse(r.event));
    const hash = recordHash({ ...r, event });
    editAuditDb(home, (db) => db.prepare('UPDATE audit_records SET event = ?, hash = ? WHERE seq = 8').run(canonicalJson(event), hash));
    assertProblem(home, 8, 'edited');
  });

  it('the newest record edited with a recomputed hash no longer matches the head', (t) => {
    const home = fullLog(t, 'edit-last');
    const r = row(home, 14);
    const event = altered(JSON.parse(r.event));
    editAuditDb(home, (db) => db.prepare('UPDATE audit_records SET event = ?, hash = ? WHERE seq = 14').run(canonicalJson(event), recordHash({ ...r, event })));
    assertProblem(home, 14, 'head-mismatch');
  });

  it('a deleted middle record is reported as deleted at its seq', (t) => {
    const home = fullLog(t, 'delete');
    editAuditDb(home, (db) => db.prepare('DELETE FROM audit_records WHERE seq = 6').run());
    assertProblem(home, 6, 'deleted');
  });

  it('deleted records with the later ones renumbered are reported as deleted', (t) => {
    const home = fullLog(t, 'delete-renumber');
    editAuditDb(home, (db) => {
      db.prepare('DELETE FROM audit_records WHERE seq IN (6, 7)').run();
      for (let s = 8; s <= 14; s++) db.prepare('UPDATE audit_records SET seq = ? WHERE seq = ?').run(s - 2, s);
    });
    assertProblem(home, 6, 'deleted');
  });

  it('a forged record with a correct own hash, inserted in the middle with the later ones shifted, is reported as inserted', (t) => {
    const home = fullLog(t, 'insert-middle');
    const before = row(home, 4);
    editAuditDb(home, (db) => {
      for (let s = 14; s >= 5; s--) db.prepare('UPDATE audit_records SET seq = ? WHERE seq = ?').run(s + 1, s);
      const forged = { seq: 5, time: before.time, type: 'trust', event: { type: 'trust', action: 'add', keyid: 'e'.repeat(64), name: 'Mallory' }, prev: before.hash };
      db.prepare('INSERT INTO audit_records VALUES (?, ?, ?, ?, ?, ?)').run(5, forged.time, forged.type, canonicalJson(forged.event), forged.prev, recordHash(forged));
    });
    assertProblem(home, 5, 'inserted');
  });

  it('a forged record appended after the head, even chained correctly, is reported as inserted', (t) => {
    const home = fullLog(t, 'insert-end');
    const last = row(home, 14);
    const forged = { seq: 15, time: last.time, type: 'trust', event: { type: 'trust', action: 'add', keyid: 'e'.repeat(64) }, prev: last.hash };
    editAuditDb(home, (db) => db.prepare('INSERT INTO audit_records VALUES (?, ?, ?, ?, ?, ?)').run(15, forged.time, forged.type, canonicalJson(forged.event), forged.prev, recordHash(forged)));
    assertProblem(home, 15, 'inserted');
  });

  it('a forged record with a correct own hash but chained to nothing is detected', (t) => {
    const home = fullLog(t, 'insert-unchained');
    const forged = { seq: 15, time: 'now', type: 'trust', event: { type: 'trust', action: 'add', keyid: 'e'.repeat(64) }, prev: '7'.repeat(64) };
    editAuditDb(home, (db) => db.prepare('INSERT INTO audit_records VALUES (?, ?, ?, ?, ?, ?)').run(15, forged.time, forged.type, canonicalJson(forged.event), forged.prev, recordHash(forged)));
    assertProblem(home, 15, 'inserted');
  });

  it('two records swapped are reported as reordered', (t) => {
    const home = fullLog(t, 'reorder');
    editAuditDb(home, (db) => {
      db.prepare('UPDATE audit_records SET seq = 100 WHERE seq = 9').run();
      db.prepare('UPDATE audit_records SET seq = 9 WHERE seq = 10').run();
      db.prepare('UPDATE audit_records SET seq = 10 WHERE seq = 100').run();
    });
    assertProblem(home, 9, 'reordered');
  });

  it('the newest records deleted are reported as truncated (via the head), and nothing more is appended', (t) => {
    const home = fullLog(t, 'truncate');
    editAuditDb(home, (db) => db.prepare('DELETE FROM audit_records WHERE seq > 11').run());
    assertProblem(home, 12, 'truncated');
    assert.throws(() => openAuditLog(home), (e: unknown) => isMppError(e) && e.code === 'MPP_E_AUDIT_TAMPERED', 'fails closed: a truncated log takes no new records');
    assertProblem(home, 12, 'truncated', 'still detectable after the refused append');
  });

  it('the newest record deleted is restored from the head by the next append (as after a crash before COMMIT)', (t) => {
    const home = fullLog(t, 'truncate-one');
    editAuditDb(home, (db) => db.prepare('DELETE FROM audit_records WHERE seq = 14').run());
    assertProblem(home, 14, 'truncated');
    const log = openAuditLog(home);
    try {
      assert.equal(log.append(SAMPLE_EVENTS.trust).seq, 15);
      assert.deepEqual(log.verify().records, 15);
    } finally {
      log.close();
    }
  });

  it('a deleted head file is reported and stops appends', (t) => {
    const home = fullLog(t, 'head-deleted');
    rmSync(homePaths(home).auditHead);
    assertProblem(home, 14, 'head-mismatch');
    assert.throws(() => openAuditLog(home), (e: unknown) => isMppError(e) && e.code === 'MPP_E_AUDIT_TAMPERED');
  });

  it('the whole table emptied is reported as truncated', (t) => {
    const home = fullLog(t, 'emptied');
    editAuditDb(home, (db) => db.prepare('DELETE FROM audit_records').run());
    assertProblem(home, 1, 'truncated');
  });

  describe('archive segments', () => {
    const rotated = (t: { after(fn: () => void): void }, label: string) => {
      const home = fullLog(t, label);
      const log = openAuditLog(home);
      try {
        log.rotate({ keep: 8 }); // 1-6 archived
        for (const e of Object.values(SAMPLE_EVENTS)) log.append(e); // 15-28
        log.rotate({ keep: 4 }); // 7-24 archived
      } finally {
        log.close();
      }
      const dir = homePaths(home).auditArchive;
      assert.deepEqual(readdirSync(dir), ['000000000001-000000000006.jsonl', '000000000007-000000000024.jsonl']);
      return { home, first: join(dir, '000000000001-000000000006.jsonl'), second: join(dir, '000000000007-000000000024.jsonl') };
    };
    const editLines = (file: string, fn: (lines: string[]) => string[]) => writeFileSync(file, fn(readFileSync(file, 'utf8').trimEnd().split('\n')).join('\n') + '\n');

    it('an edited archived record is reported as edited, with the segment named', (t) => {
      const { home, second } = rotated(t, 'seg-edit');
      editLines(second, (lines) => lines.map((l, i) => (i === 3 ? l.replace('"time":"2', '"time":"1') : l)));
      const report = verify(home);
      assert.deepEqual([report.problem?.seq, report.problem?.kind, report.problem?.where], [10, 'edited', '000000000007-000000000024.jsonl']);
    });

    it('a deleted archive segment is reported as deleted', (t) => {
      const { home, first } = rotated(t, 'seg-delete');
      rmSync(first);
      assertProblem(home, 1, 'deleted');
    });

    it('a line deleted from a segment is reported as deleted', (t) => {
      const { home, second } = rotated(t, 'seg-line');
      editLines(second, (lines) => lines.filter((_, i) => i !== 5));
      assertProblem(home, 12, 'deleted');
    });

    it('two lines of a segment swapped are reported as reordered', (t) => {
      const { home, first } = rotated(t, 'seg-swap');
      editLines(first, (lines) => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]);
      assertProblem(home, 2, 'reordered');
    });

    it('a line that is not JSON is reported as edited', (t) => {
      const { home, first } = rotated(t, 'seg-garbage');
      editLines(first, (lines) => lines.map((l, i) => (i === 2 ? 'garbage' : l)));
      assertProblem(home, 3, 'edited');
    });
  });
});
