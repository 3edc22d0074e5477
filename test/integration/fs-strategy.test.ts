/**
 * The host setting MPP_FS_STRATEGY reaches the sandbox: with `portable` the
 * walk takes the cross-process lock (its folder appears in the sandbox
 * cache), without it Linux uses the fd walk (no lock); a value that names
 * no strategy refuses folder grants and only them.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import { chooseFsStrategy, createSandbox, FS_STRATEGY_ENV } from '../../runtime/sandbox/index.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { makeDirs } from '../fixtures/tools/env.ts';
import { tempDir } from '../helpers/cli.ts';

const scratch = tempDir({ after }, 'fs-strategy');
const folder = join(scratch, 'folder');
let component: Uint8Array;

before(async () => {
  component = await fixtureComponent('fs-probe');
  makeDirs(folder);
  writeFileSync(join(folder, 'a.txt'), 'a');
});
afterEach(() => {
  delete process.env[FS_STRATEGY_ENV];
});

async function readWith(cacheDir: string): Promise<unknown> {
  const sb = await createSandbox({ component, grant: { fs: [{ hostPath: folder, guestPath: '/data', write: false }] }, cacheDir });
  try {
    return JSON.parse(await sb.call('read', JSON.stringify({ path: 'a.txt' })));
  } finally {
    await sb.dispose();
  }
}

describe('the filesystem strategy setting', () => {
  it('MPP_FS_STRATEGY=portable runs the portable walk, under the lock', async () => {
    process.env[FS_STRATEGY_ENV] = 'portable';
    const cacheDir = join(scratch, 'cache-portable');
    assert.deepEqual(await readWith(cacheDir), { ok: true, text: 'a' });
    assert.equal(existsSync(join(cacheDir, 'fs-locks')), true);
  });

  it('unset, the platform decides: the fd walk on Linux, which takes no lock', async () => {
    const cacheDir = join(scratch, 'cache-default');
    assert.deepEqual(await readWith(cacheDir), { ok: true, text: 'a' });
    assert.equal(existsSync(join(cacheDir, 'fs-locks')), chooseFsStrategy(undefined) === 'portable');
  });

  it('a value naming no strategy refuses folder grants, and nothing else', async () => {
    process.env[FS_STRATEGY_ENV] = 'fast';
    const cacheDir = join(scratch, 'cache-bad');
    await assert.rejects(readWith(cacheDir), (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_INVALID' && /MPP_FS_STRATEGY/.test(e.message));
    const sb = await createSandbox({ component, grant: {}, cacheDir });
    try {
      assert.deepEqual(JSON.parse(await sb.call('read', JSON.stringify({ path: 'a.txt' }))).ok, false);
    } finally {
      await sb.dispose();
    }
  });
});
