/**
 * The portable strategy's cross-process lock (runtime/sandbox/worker/fs-lock.ts):
 * mutual exclusion between threads and processes, shared holders together,
 * dead holders' entries cleared, live ones never broken. Waits that must end
 * in `busy` end there because the holder never lets go while they wait.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { FsLock, removeEntriesOf } from '../../../runtime/sandbox/worker/fs-lock.ts';
import { posixPlatform } from '../../../runtime/sandbox/worker/fs-platform-posix.ts';
import { tempDir } from '../../helpers/cli.ts';

const run = promisify(execFile);
const CHILD = new URL('../../fixtures/fs-lock-child.ts', import.meta.url).pathname;
const scratch = tempDir({ after }, 'fs-lock');
let dirs = 0;
const freshDir = () => {
  const d = join(scratch, `lock-${++dirs}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const lockIn = (dir: string, waitLimitMs?: number) => new FsLock(dir, { processStart: posixPlatform.processStart, ...(waitLimitMs ? { waitLimitMs } : {}) });
/** Another process trying the lock once, synchronously (this thread may be holding it). */
const tryInChild = (dir: string, mode: string, waitLimitMs: number) => {
  const counter = join(dir, '..', `counter-${dirs}`);
  writeFileSync(counter, '0');
  return spawnSync(process.execPath, [CHILD, dir, mode, '1', counter, String(waitLimitMs)], { encoding: 'utf8' }).stdout;
};
const entry = (pid: number, start = '-', thread = 0) => `x.${String(Date.now()).padStart(15, '0')}.${pid}.${start}.${thread}.${'ab'.repeat(8)}`;

describe('the filesystem lock', () => {
  it('lets exactly one holder in at a time, across threads and processes (no increment lost)', async () => {
    const dir = freshDir();
    const counter = join(scratch, 'counter');
    writeFileSync(counter, '0');
    const N = 300;
    const threads = [0, 1, 2].map(
      () =>
        new Promise<string>((resolve, reject) => {
          const w = new Worker(CHILD, { workerData: [dir, 'exclusive', String(N), counter] });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    const processes = [0, 1].map(() => run(process.execPath, [CHILD, dir, 'exclusive', String(N), counter]).then((r) => r.stdout));
    assert.deepEqual(await Promise.all([...threads, ...processes]), ['done', 'done', 'done', 'done', 'done']);
    assert.equal(Number(readFileSync(counter, 'utf8')), 5 * N);
    assert.deepEqual(readdirSync(dir), [], 'every entry was removed by its holder');
  });

  it('admits shared holders together, and keeps an exclusive one out while a shared one holds', () => {
    const dir = freshDir();
    lockIn(dir).run('shared', () => {
      assert.equal(tryInChild(dir, 'shared', 60_000), 'done');
      assert.equal(tryInChild(dir, 'exclusive', 300), 'busy');
    });
    assert.equal(tryInChild(dir, 'exclusive', 60_000), 'done', 'free again once released');
  });

  it('keeps shared holders out while an exclusive one holds', () => {
    const dir = freshDir();
    lockIn(dir).run('exclusive', () => {
      assert.equal(tryInChild(dir, 'shared', 300), 'busy');
      assert.equal(tryInChild(dir, 'exclusive', 300), 'busy');
    });
  });

  it('releases the lock when the operation throws', () => {
    const dir = freshDir();
    assert.throws(() => lockIn(dir).run('exclusive', () => { throw new Error('boom'); }), /boom/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('clears the entry of a process that has exited', () => {
    const dir = freshDir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, entry(gone)), '');
    assert.equal(lockIn(dir, 60_000).run('exclusive', () => 'in'), 'in');
    assert.deepEqual(readdirSync(dir), []);
  });

  it('never breaks the entry of a live process, however old', () => {
    const dir = freshDir();
    const name = `x.${'0'.repeat(15)}.${process.ppid}.-.0.${'cd'.repeat(8)}`;
    writeFileSync(join(dir, name), '');
    assert.throws(() => lockIn(dir, 300).run('shared', () => 'in'), (e: { payload?: string }) => e.payload === 'busy');
    assert.equal(existsSync(join(dir, name)), true);
  });

  it('clears an entry whose pid now belongs to another process (start time differs)', () => {
    const dir = freshDir();
    const start = posixPlatform.processStart(process.ppid);
    assert.ok(start, 'this platform reports start times');
    writeFileSync(join(dir, entry(process.ppid, String(Number(start) + 1))), '');
    assert.equal(lockIn(dir, 60_000).run('exclusive', () => 'in'), 'in');
    assert.deepEqual(readdirSync(dir), []);
  });

  it('lets the host remove the entries of one exited worker thread, and only those', () => {
    const dir = freshDir();
    const start = posixPlatform.processStart(process.pid) ?? '-';
    const kept = entry(process.pid, start, 8);
    writeFileSync(join(dir, entry(process.pid, start, 7)), '');
    writeFileSync(join(dir, kept), '');
    writeFileSync(join(dir, 'not-an-entry'), '');
    assert.equal(removeEntriesOf(dir, 7), 1);
    assert.deepEqual(readdirSync(dir).sort(), [kept, 'not-an-entry'].sort());
  });
});
