import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { FsError, OUTSIDE_GRANT, reportFsErrorsTo } from '../../../runtime/sandbox/worker/fs-errors.ts';
import { RefusalLog } from '../../../runtime/sandbox/worker/refusals.ts';

const log = new RefusalLog();
reportFsErrorsTo(log.recordFs);
after(() => reportFsErrorsTo(undefined));
const take = () => log.imports().take();

test('a reason is taken once, with the WASI code it explains', () => {
  void new FsError('not-permitted', OUTSIDE_GRANT('`..`'));
  assert.deepEqual(take(), { wasiCode: 'not-permitted', code: 'outside-grant', message: '`..` leads outside the granted folder' });
  assert.equal(take(), undefined);
});

test('a later error without a reason clears an earlier reason, so it never explains the wrong error', () => {
  void new FsError('not-permitted', OUTSIDE_GRANT('a symbolic link'));
  void new FsError('no-entry');
  assert.equal(take(), undefined);
});

test('network reasons are recorded and bounded; clear() forgets them at the next call', () => {
  log.record('HTTP-request-denied', 'network-denied', 'x'.repeat(2000));
  const r = take();
  assert.equal(r?.code, 'network-denied');
  assert.equal(r?.message.length, 513);
  log.record('HTTP-request-denied', 'network-denied', 'GET http://a:80 is not granted');
  log.clear();
  assert.equal(take(), undefined);
});
