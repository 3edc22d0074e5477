import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { utf8Decode, utf8Encode } from '../../../sdk/utf8.ts';

// The SDK's own codec serves the QuickJS engine, which has no TextEncoder/TextDecoder: it must agree with them.
test('utf8Encode agrees with TextEncoder, lone surrogates included', () => {
  for (const s of ['', 'ascii', 'café — naïve', '日本語', '😀 emoji', 'a\ud800b', '\udfff']) {
    assert.deepEqual(utf8Encode(s), new TextEncoder().encode(s), JSON.stringify(s));
  }
});

test('utf8Decode agrees with TextDecoder on valid and invalid bytes', () => {
  const cases = [
    [0xe6, 0x97, 0xa5], [0xf0, 0x9f, 0x98, 0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80], [0xe6, 0x97], [0xff, 0x41], [0x80, 0x80], [0xf0, 0x9f, 0x41],
  ].map((b) => Uint8Array.from(b));
  for (let i = 0; i < 200; i++) cases.push(new Uint8Array(randomBytes(1 + (i % 24))));
  for (const bytes of cases) assert.equal(utf8Decode(bytes), new TextDecoder().decode(bytes), Buffer.from(bytes).toString('hex'));
});
