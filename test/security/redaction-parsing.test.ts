import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactHttpRequest, type HttpRequestParts } from '../../runtime/privacy/http.ts';
import type { RedactionPolicy } from '../../runtime/privacy/redact.ts';

/**
 * Outbound requests the filter could read differently from the server that
 * receives them. Each request carries an
 * e-mail address that a common receiver recovers verbatim; the filter must
 * redact it (or refuse the request).
 */
const policy: RedactionPolicy = { classes: new Set(['email']), allow: [] };
const sent = (req: HttpRequestParts): string => {
  const r = redactHttpRequest(req, policy);
  return `${r.url} ${r.body ? Buffer.from(r.body).toString() : ''}`;
};

describe('outbound HTTP redaction reads requests as receivers do', () => {
  it('a JSON body with a duplicate key: the shadowed value is redacted too (JSON.parse keeps the last, many parsers the first)', () => {
    assert.doesNotMatch(sent({ url: '/x', headers: [['content-type', 'application/json']], body: Buffer.from('{"a":"ada@example.com","a":"x"}') }), /ada@example\.com/);
  });

  for (const [where, req] of [
    ['query', { url: '/x?q=ada%40example.com%', headers: [] }],
    ['path', { url: '/ada%40example.com%/x', headers: [] }],
    ['form body', { url: '/x', headers: [['content-type', 'application/x-www-form-urlencoded']], body: Buffer.from('q=ada%40example.com%') }],
  ] as const) {
    it(`a stray % in a ${where} does not stop the valid escapes from being decoded and scanned (lenient decoders such as Python's unquote recover the address)`, () => {
      assert.doesNotMatch(decodeURIComponent(sent(req as HttpRequestParts).replace(/%(?![0-9A-Fa-f]{2})/g, '%25')), /ada@example\.com/);
    });
  }
});
