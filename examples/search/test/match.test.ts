import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globToRegExp, looksLikeText, matchLines } from '../src/match.ts';

test('globs: * stays in a folder, ** crosses folders, ? and {a,b}', () => {
  const ok = (glob: string, path: string) => globToRegExp(glob).test(path);
  assert.ok(ok('*.ts', 'a.ts'));
  assert.ok(!ok('*.ts', 'src/a.ts'));
  assert.ok(ok('**/*.ts', 'a.ts') && ok('**/*.ts', 'src/deep/a.ts'));
  assert.ok(ok('src/**', 'src/x/y.md'));
  assert.ok(ok('?.md', 'a.md') && !ok('?.md', 'ab.md'));
  assert.ok(ok('*.{ts,md}', 'a.md') && !ok('*.{ts,md}', 'a.js'));
  assert.ok(ok('a+b(1).txt', 'a+b(1).txt') && !ok('a.txt', 'abtxt'));
});

test('matchLines finds lines, case-insensitively by default, up to the limit', () => {
  const text = 'alpha\nBeta gamma\nbeta\nnothing';
  assert.deepEqual(matchLines(text, 'beta', { limit: 10 }), [{ line: 2, text: 'Beta gamma' }, { line: 3, text: 'beta' }]);
  assert.deepEqual(matchLines(text, 'beta', { limit: 10, caseSensitive: true }), [{ line: 3, text: 'beta' }]);
  assert.equal(matchLines(text, 'a', { limit: 1 }).length, 1);
  assert.equal(matchLines('x'.repeat(300), 'x', { limit: 1 })[0]!.text.length, 201);
});

test('binary files are not text', () => {
  assert.ok(looksLikeText(new TextEncoder().encode('plain')));
  assert.ok(!looksLikeText(Uint8Array.of(0x50, 0, 0x51)));
});
