import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greeting, textStats } from '../src/tools.ts';

test('greeting speaks English by default, and French and Spanish', () => {
  assert.equal(greeting('Ada'), 'Hello, Ada!');
  assert.equal(greeting('Ada', 'fr'), 'Bonjour, Ada!');
  assert.equal(greeting('Ada', 'es'), 'Hola, Ada!');
});

test('textStats counts lines, words and the longest line', () => {
  assert.deepEqual(textStats('one two\nthree\n'), { lines: 2, words: 3, longestLine: 7 });
  assert.deepEqual(textStats('no newline at the end'), { lines: 1, words: 5, longestLine: 21 });
  assert.deepEqual(textStats(''), { lines: 0, words: 0, longestLine: 0 });
});
