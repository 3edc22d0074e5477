import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonTooDeepError, MAX_JSON_DEPTH, parseJson, parseStrictJson, stringifyJson } from '../../../runtime/format/strict-json.ts';

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

describe('the nesting bound', () => {
  const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);
  const objects = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
  for (const [name, read] of [['parseJson', (t: string) => parseJson(t)], ['parseStrictJson', (t: string) => parse(t)]] as const) {
    it(`${name} reads ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}, for arrays and objects`, () => {
      assert.equal(MAX_JSON_DEPTH, 256);
      assert.doesNotThrow(() => read(nested(MAX_JSON_DEPTH)));
      assert.doesNotThrow(() => read(objects(MAX_JSON_DEPTH)));
      assert.throws(() => read(nested(MAX_JSON_DEPTH + 1)), JsonTooDeepError);
      assert.throws(() => read(objects(MAX_JSON_DEPTH + 1)), JsonTooDeepError);
      assert.throws(() => read(`{"x":${nested(MAX_JSON_DEPTH)}}`), JsonTooDeepError);
    });
    it(`${name} refuses a million levels without exhausting the stack, and counts no brackets inside strings`, () => {
      assert.throws(() => read(nested(1_000_000)), JsonTooDeepError);
      const inString = JSON.stringify({ s: '['.repeat(10_000) + '\\"{' });
      assert.deepEqual(read(inString), { s: '['.repeat(10_000) + '\\"{' });
      assert.deepEqual(read(`[${'"]",'.repeat(300)}1]`), [...Array(300).fill(']'), 1]);
    });
  }
});

describe('stringifyJson', () => {
  it('writes ordinary values, and a value too deep for JSON.stringify is JsonTooDeepError, not a RangeError', () => {
    assert.equal(stringifyJson({ a: [1, 'x'] }), '{"a":[1,"x"]}');
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown;
    assert.throws(() => stringifyJson(deep), JsonTooDeepError);
  });
});

