import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { chooseFsStrategy, FS_PLATFORM_REFUSAL } from '../../../runtime/sandbox/fs-strategy.ts';

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
