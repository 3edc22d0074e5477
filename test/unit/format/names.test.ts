import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { checkEntryName, foldName } from '../../../runtime/format/names.ts';

const refused: [string, string][] = [
  ['', 'empty'],
  ['/abs', 'absolute'],
  ['a/../b', 'dot-dot segment'],
  ['./a', 'dot segment'],
  ['a//b', 'empty segment'],
  ['dir/', 'directory'],
  ['a\\b', 'backslash'],
  ['C:x', 'drive letter'],
  ['a\u0000b', 'NUL'],
  ['a\nb', 'newline (would break the digest listing)'],
  ['a\u009bb', 'C1 control (CSI)'],
  ['e\u0301', 'not NFC'],
  ['x'.repeat(256), 'longer than 255 bytes'],
];
const accepted = ['manifest.json', 'signatures/' + 'a'.repeat(64) + '.json', 'caf\u00e9.md', 'x'.repeat(255)];

describe('entry names', () => {
  for (const [name, why] of refused) {
    it(`refuses ${JSON.stringify(name.slice(0, 20))} (${why})`, () => {
      assert.throws(() => checkEntryName(name), (e: unknown) => isMppError(e) && e.code === 'MPP_E_UNSAFE_ARCHIVE');
    });
  }
  for (const name of accepted) {
    it(`accepts ${JSON.stringify(name.slice(0, 24))}`, () => assert.doesNotThrow(() => checkEntryName(name)));
  }
  it('folds case so README.md and readme.md collide', () => assert.equal(foldName('README.md'), foldName('readme.md')));
});
