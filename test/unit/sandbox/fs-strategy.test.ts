import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { chooseFsStrategy, filesystemFor, FS_PLATFORM_REFUSAL } from '../../../runtime/sandbox/fs-strategy.ts';
import { parseGrant } from '../../../runtime/sandbox/grant.ts';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.ts';

const refused = (setting: string, fdWalk: boolean) =>
  assert.throws(() => chooseFsStrategy(setting, fdWalk), (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_INVALID' && e.detail?.reason === FS_PLATFORM_REFUSAL);

describe('choosing the filesystem strategy', () => {
  it('defaults to the fd walk where /proc/self/fd exists, to the portable walk elsewhere', () => {
    assert.equal(chooseFsStrategy(undefined, true), 'linux-fd');
    assert.equal(chooseFsStrategy('', true), 'linux-fd');
    assert.equal(chooseFsStrategy(undefined, false), 'portable');
  });
  it('selects the portable walk on Linux by the host setting', () => {
    assert.equal(chooseFsStrategy('portable', true), 'portable');
    assert.equal(chooseFsStrategy('linux-fd', true), 'linux-fd');
  });
  it('refuses the fd walk where it cannot run, and any other value', () => {
    refused('linux-fd', false);
    for (const bad of ['Portable', 'fd', 'none', 'portable ']) refused(bad, true);
  });
});

describe('the folders a sandbox is made with', () => {
  it('refuses a granted folder gone since its grant was read with MPP_E_GRANT_INVALID, not an uncoded error', (t) => {
    const dir = tempDir(t, 'fs-roots');
    mkdirSync(join(dir, 'data'));
    const grant = parseGrant({ fs: [{ hostPath: join(dir, 'data'), guestPath: '/data', write: false }] });
    assert.equal(filesystemFor(grant, join(dir, 'cache'), 'portable').roots.length, 1);
    rmSync(join(dir, 'data'), { recursive: true });
    assert.throws(() => filesystemFor(grant, join(dir, 'cache'), 'portable'), (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_INVALID' && /can no longer be read \(ENOENT\)/.test(e.message));
  });
});
