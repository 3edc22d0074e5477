import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToolError, countWords, greet } from '../src/tools.ts';

test('greet greets in English by default', () => {
  assert.deepEqual(greet({ name: 'Ada' }), { greeting: 'Hello, Ada!' });
});

test('greet speaks French and Spanish', () => {
  assert.equal(greet({ name: 'Ada', language: 'fr' }).greeting, 'Bonjour, Ada!');
  assert.equal(greet({ name: 'Ada', language: 'es' }).greeting, 'Hola, Ada!');
});

test('greet refuses a blank name with a tool error', () => {
  assert.throws(() => greet({ name: '   ' }), (e: unknown) => e instanceof ToolError && e.code === 'invalid-input');
});

test('countWords counts words, lines and code points', () => {
  const out = countWords({ text: 'The cat and the hat.\nThe end — café!' });
  assert.equal(out.words, 8);
  assert.equal(out.lines, 2);
  assert.equal(out.characters, 36);
  assert.deepEqual(out.mostFrequent, [
    { word: 'the', count: 3 },
    { word: 'and', count: 1 },
    { word: 'café', count: 1 },
  ]);
});

test('countWords keeps inner apostrophes and handles empty text', () => {
  assert.equal(countWords({ text: "don't stop", top: 0 }).words, 2);
  assert.deepEqual(countWords({ text: '' }), { words: 0, lines: 0, characters: 0, mostFrequent: [] });
});
