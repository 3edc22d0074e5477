import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStrictJson } from '../../../runtime/format/strict-json.ts';

const parse = (s: string) => parseStrictJson(Buffer.from(s, 'utf8'));

describe('parseStrictJson', () => {
  it('parses ordinary JSON, including keys repeated in different objects', () => {
    assert.deepEqual(parse('{"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}],"s":"\\"{x\\":"}'), { a: { x: 1 }, b: { x: 2 }, c: [{ x: 3 }, { x: 4 }], s: '"{x":' });
  });
  it('refuses a key repeated in one object, also when spelled with escapes', () => {
    assert.throws(() => parse('{"a":1,"a":2}'), /appears twice/);
    assert.throws(() => parse('{"a":1, "\\u0061" :2}'), /appears twice/);
    assert.throws(() => parse('[{"k":{"z":1,"z":1}}]'), /appears twice/);
  });
  it('does not mistake string values or array items for keys', () => {
    assert.deepEqual(parse('{"a":"a","b":["a","a"]}'), { a: 'a', b: ['a', 'a'] });
  });
  it('refuses a byte order mark and invalid UTF-8', () => {
    assert.throws(() => parseStrictJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)), /byte order mark/);
    assert.throws(() => parseStrictJson(Uint8Array.of(0x22, 0xc3, 0x28, 0x22)), TypeError);
  });
});
