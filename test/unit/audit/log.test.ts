/**
 * The audit log on real SQLite files in scratch homes: append and query,
 * schema refusals, rotation, the head, read-only opening, and one valid
 * chain from several processes appending at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { isMppError } from '../../../runtime/errors.ts';
import { homePaths } from '../../../runtime/home.ts';
import { AUDIT_EVENT_TYPES, type AuditEvent } from '../../../runtime/audit/events.ts';
import { GROUP_COMMIT_WINDOW_MS, openAuditLog, readAuditHead, recordAudit, verifyAuditExport, type AuditLog } from '../../../runtime/audit/log.ts';
import { compileSchema } from '../../../runtime/schema.ts';
import eventSchema from '../../../spec/audit-event.schema.json' with { type: 'json' };
import { tempDir } from '../../helpers/cli.ts';
import { SAMPLE_EVENTS } from '../../helpers/audit.ts';

function withLog<T>(home: string, fn: (log: AuditLog) => T): T {
  const log = openAuditLog(home);
  try {
    return fn(log);
  } finally {
    log.close();
  }
}

function refusesWith(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isMppError(e) && e.code === code);
}

describe('audit log', () => {
  it('has a sample for every event type, each valid against the whole schema (oneOf)', () => {
    assert.deepEqual(Object.keys(SAMPLE_EVENTS), [...AUDIT_EVENT_TYPES]);
    const validate = compileSchema(eventSchema);
    for (const e of Object.values(SAMPLE_EVENTS)) assert.ok(validate(e), `${e.type}: ${JSON.stringify(validate.errors)}`);
  });

  it('appends every event type as a chain: seq +1, prev = previous hash, genesis prev of zeros', (t) => {
    const home = tempDir(t, 'audit-append');
    const records = withLog(home, (log) => Object.values(SAMPLE_EVENTS).map((e) => log.append(e)));
    assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i + 1));
    assert.equal(records[0]!.prev, '0'.repeat(64));
    for (let i = 1; i < records.length; i++) assert.equal(records[i]!.prev, records[i - 1]!.hash);
    withLog(home, (log) => {
      assert.deepEqual(log.query().map((r) => r.event), Object.values(SAMPLE_EVENTS));
      assert.deepEqual(log.verify(), { ok: true, records: 14, head: { seq: 14, hash: records[13]!.hash } });
    });
    assert.deepEqual(readAuditHead(home), { seq: 14, hash: records[13]!.hash });
  });

  it('filters by type, package, agent, time and seq, and limits to the newest', (t) => {
    const home = tempDir(t, 'audit-query');
    withLog(home, (log) => {
      for (const e of Object.values(SAMPLE_EVENTS)) log.append(e);
      const other: AuditEvent = { type: 'invoke', ...(SAMPLE_EVENTS.invoke as object), package: 'other/pkg', agent: { id: 'copilot', verified: true } } as AuditEvent;
      log.append(other);
      const types = (f: Parameters<AuditLog['query']>[0]) => log.query(f).map((r) => r.type);
      assert.deepEqual(types({ type: 'invoke' }), ['invoke', 'invoke']);
      assert.deepEqual(log.query({ package: 'other/pkg' }).map((r) => r.seq), [15]);
      assert.deepEqual(types({ agent: 'unverified:test-agent' }), ['invoke', 'deny', 'confirm-asked']);
      assert.deepEqual(types({ agent: 'copilot' }), ['agent', 'invoke'], 'the agent of an agent event is its agentId');
      assert.deepEqual(log.query({ limit: 2 }).map((r) => r.seq), [14, 15]);
      assert.deepEqual(log.query({ afterSeq: 12, limit: 10 }).map((r) => r.seq), [13, 14, 15]);
      const all = log.query();
      assert.equal(log.query({ since: all[14]!.time }).at(-1)!.seq, 15);
      assert.deepEqual(log.query({ until: '2000-01-01T00:00:00.000Z' }), []);
      assert.deepEqual(log.query({ since: '2000-01-01T00:00:00.000Z', until: '2999-01-01T00:00:00.000Z' }).length, 15);
    });
  });

  it('refuses events the schema refuses, recording nothing: unknown fields, data instead of digests, floats, unknown types', (t) => {
    const home = tempDir(t, 'audit-invalid');
    withLog(home, (log) => {
      const bad: unknown[] = [
        { ...SAMPLE_EVENTS.invoke, input: { text: 'secret data' } },
        { ...SAMPLE_EVENTS.invoke, inputSha256: 'not a digest' },
        { ...SAMPLE_EVENTS.invoke, durationMs: 1.5 },
        { ...SAMPLE_EVENTS.redaction, counts: { 'credit-card-numbers': 1 } },
        { ...SAMPLE_EVENTS.grant, scope: 'everywhere' },
        { type: 'telemetry' },
        { ...SAMPLE_EVENTS.trust, type: undefined },
      ];
      for (const e of bad) refusesWith(() => log.append(e as AuditEvent), 'MPP_E_AUDIT_EVENT_INVALID');
      assert.deepEqual(log.query(), []);
      assert.equal(readAuditHead(home), null);
    });
  });

  it('rotation moves old records into a JSONL segment and verify still checks them as one chain', (t) => {
    const home = tempDir(t, 'audit-rotate');
    withLog(home, (log) => {
      for (const e of Object.values(SAMPLE_EVENTS)) log.append(e);
      assert.deepEqual(log.rotate({ keep: 4 }), { archived: 10, segment: '000000000001-000000000010.jsonl' });
      assert.deepEqual(log.rotate({ keep: 4 }), { archived: 0, segment: null });
      for (const e of Object.values(SAMPLE_EVENTS).slice(0, 6)) log.append(e);
      assert.deepEqual(log.rotate({ keep: 1 }), { archived: 9, segment: '000000000011-000000000019.jsonl' });
      assert.deepEqual(log.query().map((r) => r.seq), [20]);
      const report = log.verify();
      assert.equal(report.ok, true);
      assert.equal(report.records, 20);
      assert.throws(() => log.rotate({ keep: 0 }), RangeError);
    });
    assert.deepEqual(readdirSync(homePaths(home).auditArchive), ['000000000001-000000000010.jsonl', '000000000011-000000000019.jsonl']);
    const lines = readFileSync(join(homePaths(home).auditArchive, '000000000001-000000000010.jsonl'), 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 10);
    assert.deepEqual(JSON.parse(lines[0]!).event, SAMPLE_EVENTS.install);
  });

  it('exports archived and live records as one file that verifies on its own, also against an anchor', (t) => {
    const home = tempDir(t, 'audit-export');
    const text = withLog(home, (log) => {
      for (const e of Object.values(SAMPLE_EVENTS)) log.append(e);
      log.rotate({ keep: 3 });
      const text = log.exportLines();
      assert.equal(text.split('\n').length, 15);
      assert.deepEqual(log.verifyAndExport(), { report: log.verify(), lines: text }, 'one read gives both');
      return text;
    });
    const head = readAuditHead(home)!;
    assert.deepEqual(verifyAuditExport(text, 'export.jsonl', { expect: head }), { ok: true, records: 14, head });
    assert.equal(verifyAuditExport(text, 'export.jsonl', { expect: { seq: 14, hash: '0'.repeat(64) } }).problem?.kind, 'anchor-mismatch');
    assert.equal(verifyAuditExport(text, 'export.jsonl', { expect: { seq: 15, hash: head.hash } }).problem?.kind, 'truncated');
    const edited = text.replace('"seq":2,', '"seq":3,');
    assert.equal(verifyAuditExport(edited, 'export.jsonl').problem?.where, 'export.jsonl', 'a problem names the export');
  });

  it('opening read-only creates nothing and reads an absent log as empty', (t) => {
    const home = join(tempDir(t, 'audit-ro'), 'never-created');
    const log = openAuditLog(home, { readOnly: true });
    try {
      assert.deepEqual(log.query(), []);
      assert.deepEqual(log.verify(), { ok: true, records: 0, head: null });
      refusesWith(() => log.append(SAMPLE_EVENTS.trust), 'MPP_E_INTERNAL');
    } finally {
      log.close();
    }
    assert.equal(existsSync(home), false);
  });

  it('recordAudit opens, appends and closes', (t) => {
    const home = tempDir(t, 'audit-record');
    assert.equal(recordAudit(home, SAMPLE_EVENTS.trust).seq, 1);
    assert.equal(recordAudit(home, SAMPLE_EVENTS.verify).seq, 2);
  });

  it('several processes appending at once keep one valid chain with every record', async (t) => {
    const home = tempDir(t, 'audit-concurrent');
    const writer = fileURLToPath(new URL('./audit-writer.ts', import.meta.url));
    const writers = ['a', 'b', 'c', 'd'];
    const codes = await Promise.all(
      writers.map(
        (label) =>
          new Promise<number>((resolve, reject) => {
            const child = spawn(process.execPath, [writer, home, label, '25'], { stdio: ['ignore', 'inherit', 'inherit'] });
            child.on('error', reject);
            child.on('close', (code) => resolve(code ?? -1));
          }),
      ),
    );
    assert.deepEqual(codes, [0, 0, 0, 0]);
    withLog(home, (log) => {
      assert.deepEqual(log.verify().records, 100);
      assert.equal(log.verify().ok, true);
      const records = log.query();
      assert.deepEqual(records.map((r) => r.seq), Array.from({ length: 100 }, (_, i) => i + 1));
      for (const label of writers) {
        const reasons = records.filter((r) => r.event.type === 'deny' && r.event.agent.id === `writer-${label}`).map((r) => (r.event as { reason: string }).reason);
        assert.deepEqual(reasons, Array.from({ length: 25 }, (_, i) => `${label}-${i}`), `every record of writer ${label}, in its order`);
      }
    });
  });

  describe('group commit (audit.md §2.1)', () => {
    const invoke = SAMPLE_EVENTS.invoke as Extract<AuditEvent, { type: 'invoke' }>;
    const outcomes = (log: AuditLog) => log.query({ type: 'invoke' }).map((r) => (r.event.type === 'invoke' ? r.event.outcome : ''));

    it('commits queued outcome records on their own once the window has passed, in order, as one chain', async (t) => {
      const home = tempDir(t, 'audit-group');
      const log = openAuditLog(home);
      try {
        log.append({ ...invoke, outcome: 'started', durationMs: 0 });
        log.appendGrouped({ ...invoke, outcome: 'ok' });
        log.appendGrouped({ type: 'invoke', package: invoke.package, version: invoke.version, digest: invoke.digest, tool: invoke.tool, agent: invoke.agent, inputSha256: invoke.inputSha256, durationMs: 7, outcome: 'error', code: 'MPP_E_TOOL_TIMEOUT', redactions: {} });
        // Not yet committed: they wait for the next durable append, or the window's end.
        assert.deepEqual(outcomes(log), ['started']);
        // A timer set later with a longer delay fires after the log's own.
        await new Promise((r) => setTimeout(r, GROUP_COMMIT_WINDOW_MS + 1));
        assert.deepEqual(outcomes(log), ['started', 'ok', 'error']);
        assert.equal(log.verify().ok, true);
      } finally {
        log.close();
      }
    });

    it('a durable append whose commit fails keeps the queued records: the next commit writes them, in order', (t) => {
      const home = tempDir(t, 'audit-group-failed');
      withLog(home, (log) => {
        log.append({ ...invoke, outcome: 'started', durationMs: 0 });
        log.appendGrouped({ ...invoke, outcome: 'ok' });
        // Another connection holds the write lock past the busy timeout: this commit fails.
        const blocker = new DatabaseSync(homePaths(home).audit);
        blocker.exec('BEGIN EXCLUSIVE');
        try {
          refusesWith(() => log.append({ ...invoke, outcome: 'started', durationMs: 0 }), 'MPP_E_AUDIT_UNAVAILABLE');
        } finally {
          blocker.exec('ROLLBACK');
          blocker.close();
        }
        log.append({ ...invoke, outcome: 'started', durationMs: 0 });
        assert.deepEqual(outcomes(log), ['started', 'ok', 'started']);
        assert.equal(log.verify().ok, true);
      });
    });

    it('a durable append commits what was queued before it, first', (t) => {
      const home = tempDir(t, 'audit-group-order');
      withLog(home, (log) => {
        log.appendGrouped({ ...invoke, outcome: 'ok' });
        const record = log.append({ ...invoke, outcome: 'started', durationMs: 0 });
        assert.equal(record.seq, 2);
        assert.deepEqual(outcomes(log), ['ok', 'started']);
      });
    });

    it('close commits what was queued', (t) => {
      const home = tempDir(t, 'audit-group-close');
      withLog(home, (log) => log.appendGrouped({ ...invoke, outcome: 'ok' }));
      withLog(home, (log) => assert.deepEqual(outcomes(log), ['ok']));
    });

    it('refuses an invalid event at once, queueing nothing', (t) => {
      const home = tempDir(t, 'audit-group-invalid');
      withLog(home, (log) => {
        refusesWith(() => log.appendGrouped({ ...invoke, outcome: 'maybe' } as unknown as AuditEvent), 'MPP_E_AUDIT_EVENT_INVALID');
        log.flush();
        assert.deepEqual(outcomes(log), []);
      });
    });

    it('a crash loses only an outcome whose started record is durable', async (t) => {
      const home = tempDir(t, 'audit-group-crash');
      const child = spawn(process.execPath, [fileURLToPath(new URL('./group-commit-child.ts', import.meta.url)), home], { stdio: 'inherit' });
      assert.equal(await new Promise((r) => child.on('exit', r)), 0);
      withLog(home, (log) => {
        assert.deepEqual(outcomes(log), ['started']);
        assert.equal(log.verify().ok, true);
      });
    });
  });
});
