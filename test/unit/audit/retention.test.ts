import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openAuditLog, recordAudit } from '../../../runtime/audit/log.ts';
import { applyAuditRetention } from '../../../runtime/audit/trail.ts';
import { SAMPLE_EVENTS } from '../../helpers/audit.ts';
import { tempDir } from '../../helpers/cli.ts';

describe('audit retention', () => {
  const dir = tempDir({ after }, 'retention');

  it('archives records older than the retention, keeps the newest live, and the chain still verifies', () => {
    const home = join(dir, 'home');
    assert.equal(applyAuditRetention(home, 30), undefined, 'no log: nothing to do, nothing created');
    for (let i = 0; i < 4; i++) recordAudit(home, SAMPLE_EVENTS.invoke);
    assert.equal(applyAuditRetention(home, 30), undefined, 'every record is recent');
    const r = applyAuditRetention(home, 30, Date.now() + 31 * 86_400_000);
    assert.equal(r?.archived, 3);
    const log = openAuditLog(home);
    try {
      assert.equal(log.query().length, 1);
      const report = log.verify();
      assert.equal(report.ok, true);
      assert.equal(report.records, 4);
    } finally {
      log.close();
    }
  });
});
