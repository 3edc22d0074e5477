import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { writeFileAtomic } from '../../../runtime/store/atomic.ts';
import { tempDir } from '../../helpers/cli.ts';

describe('writeFileAtomic', () => {
  it('makes a missing folder, replaces what is there, and leaves no temporary file', (t) => {
    const dir = tempDir(t, 'atomic');
    const path = join(dir, 'a', 'b', 'file.txt');
    writeFileAtomic(path, 'first');
    assert.equal(readFileSync(path, 'utf8'), 'first');
    writeFileAtomic(path, new TextEncoder().encode('second'));
    assert.equal(readFileSync(path, 'utf8'), 'second');
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['file.txt']);
  });

  it('refuses with MPP_E_IO where a file stands in for the folder', (t) => {
    const dir = tempDir(t, 'atomic-file');
    writeFileSync(join(dir, 'a'), 'not a folder');
    assert.throws(() => writeFileAtomic(join(dir, 'a', 'file.txt'), 'x'), (e: unknown) => isMppError(e) && e.code === 'MPP_E_IO');
  });
});
