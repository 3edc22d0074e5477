import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOccurrences, replaceAll } from '../src/replace.ts';

test('replaceAll replaces every occurrence and counts them', () => {
  assert.deepEqual(replaceAll('a-b-a', 'a', 'x'), { text: 'x-b-x', replaced: 2 });
  assert.equal(countOccurrences('aaaa', 'aa'), 2);
});

test('replaceAll refuses absent text and a count other than expected, with codes', () => {
  assert.throws(() => replaceAll('abc', 'z', 'y'), { code: 'text-not-found', name: 'ToolError' });
  assert.throws(() => replaceAll('a a', 'a', 'b', 1), { code: 'count-mismatch' });
  assert.throws(() => replaceAll('a', '', 'b'), { code: 'invalid-input' });
});
