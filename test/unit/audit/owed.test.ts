/**
 * Records a kill left owed in mpp.db (audit.md): a row that is damaged, as
 * text or as an event, is recorded as the damage and settled; the command
 * that found it goes on, and nothing is thrown past it.
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { openAuditLog } from '../../../runtime/audit/log.ts';
import { withAuditLog } from '../../../runtime/audit/trail.ts';
import { homePaths } from '../../../runtime/home.ts';
import { oweRecord, owedRecords } from '../../../runtime/store/audit-owed.ts';
import { openIndex } from '../../../runtime/store/installed-index.ts';
import { SAMPLE_EVENTS } from '../../helpers/audit.ts';
import { tempDir } from '../../helpers/cli.ts';

describe('owed audit records', () => {
  it('a damaged owed row is recorded as a failed verify of mpp.db and settled; the command runs', async (t) => {
    const home = tempDir(t, 'owed-damaged');
    const index = openIndex(home);
    try {
      oweRecord(index, SAMPLE_EVENTS.deny!);
      oweRecord(index, SAMPLE_EVENTS.deny!);
    } finally {
      index.close();
    }
    const raw = new DatabaseSync(homePaths(home).db);
    try {
      // One row is not JSON at all, the other is JSON but no audit event.
      raw.prepare('UPDATE audit_owed SET event = ? WHERE id = (SELECT MIN(id) FROM audit_owed)').run('{"type":"install",');
      raw.prepare('UPDATE audit_owed SET event = ? WHERE id = (SELECT MAX(id) FROM audit_owed)').run('{"type":"no such event"}');
    } finally {
      raw.close();
    }
    assert.equal(await withAuditLog(home, async () => 'ran'), 'ran');
    assert.deepEqual(owedRecords(home), []);
    const log = openAuditLog(home, { readOnly: true });
    try {
      const verifies = log.query({ type: 'verify' }).map((r) => r.event);
      assert.deepEqual(verifies, [
        { type: 'verify', outcome: 'fail', code: 'MPP_E_STORE_CORRUPT', file: homePaths(home).db },
        { type: 'verify', outcome: 'fail', code: 'MPP_E_STORE_CORRUPT', file: homePaths(home).db },
      ]);
      assert.equal(log.verify().ok, true);
    } finally {
      log.close();
    }
  });
});
