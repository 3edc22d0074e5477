/**
 * The canonical encoding and record hash of audit.md section 3: vectors an
 * independent implementation can be checked against, and what cannot be
 * canonicalized.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { GENESIS_PREV, RECORD_DOMAIN, canonicalJson, recordHash } from '../../../runtime/audit/hash.ts';

describe('audit canonical JSON', () => {
  const vectors: [string, unknown, string][] = [
    ['keys sorted, no whitespace', { b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    ['keys sorted by UTF-16 code units, not locale', { é: 1, z: 2, Z: 3, 'a-b': 4, a_b: 5 }, '{"Z":3,"a-b":4,"a_b":5,"z":2,"é":1}'],
    ['nested objects sorted too', { o: { y: 0, x: -0 } }, '{"o":{"x":0,"y":0}}'],
    ['strings escaped as JSON.stringify does', { s: 'a"b\\c\n\u0001é' }, '{"s":"a\\"b\\\\c\\n\\u0001é"}'],
    ['undefined members left out', { a: undefined, b: 1 }, '{"b":1}'],
    ['empty containers', { a: {}, b: [] }, '{"a":{},"b":[]}'],
  ];
  for (const [id, value, expected] of vectors) {
    it(id, () => assert.equal(canonicalJson(value), expected));
  }

  it('refuses what JSON cannot hold exactly: floats, NaN, unsafe integers, non-plain objects', () => {
    for (const bad of [1.5, NaN, Infinity, 2 ** 53, new Date(0), new Map(), () => 1, 1n]) {
      assert.throws(() => canonicalJson({ v: bad }), TypeError, String(bad));
    }
  });
});

describe('audit record hash', () => {
  it('is SHA-256 over the domain prefix and the canonical record, exactly as audit.md states', () => {
    const fields = { seq: 1, time: '2025-01-01T00:00:00.000Z', type: 'trust', event: { type: 'trust', action: 'add', keyid: 'c'.repeat(64) }, prev: GENESIS_PREV };
    const bytes = `mpp-audit-record-v1\n{"event":{"action":"add","keyid":"${'c'.repeat(64)}","type":"trust"},"prev":"${GENESIS_PREV}","seq":1,"time":"2025-01-01T00:00:00.000Z","type":"trust"}`;
    assert.equal(RECORD_DOMAIN, 'mpp-audit-record-v1\n');
    assert.equal(recordHash(fields), createHash('sha256').update(bytes, 'utf8').digest('hex'));
  });

  it('changes with every hashed field', () => {
    const base = { seq: 7, time: 't', type: 'x', event: { type: 'x' }, prev: GENESIS_PREV };
    const h = recordHash(base);
    for (const changed of [{ seq: 8 }, { time: 'u' }, { type: 'y' }, { event: { type: 'y' } }, { prev: '1'.repeat(64) }]) {
      assert.notEqual(recordHash({ ...base, ...changed }), h, JSON.stringify(changed));
    }
  });
});
