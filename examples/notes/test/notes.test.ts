import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches, normaliseTags, noteKey } from '../src/notes.ts';

test('note keys sort in id order', () => {
  assert.ok(noteKey(2) < noteKey(10));
  assert.equal(noteKey(7), 'note/0000000007');
});

test('tags are trimmed, lowercased, unique and sorted; a tag filter ignores case', () => {
  assert.deepEqual(normaliseTags([' Work', 'home', 'work', '']), ['home', 'work']);
  assert.ok(matches({ id: 1, text: 'x', tags: ['work'] }, 'WORK'));
  assert.ok(!matches({ id: 1, text: 'x', tags: [] }, 'work'));
  assert.ok(matches({ id: 1, text: 'x', tags: [] }, undefined));
});
