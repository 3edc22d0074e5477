/**
 * redactJson (deep nesting, keys, numbers) and redactHttpRequest (URL,
 * headers, bodies, fail-closed cases), and effectiveClasses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import {
  effectiveClasses,
  MAX_REDACTABLE_BODY_BYTES,
  PII_CLASSES,
  redactHttpRequest,
  redactJson,
  type RedactionPolicy,
} from '../../../runtime/privacy/index.ts';

const all: RedactionPolicy = { classes: new Set(PII_CLASSES) };
const EMAIL = 'jane.doe@example.com';
const TOKEN = 'ghp_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36);
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('redactJson', () => {
  it('walks arrays of objects 100 levels deep and redacts strings, keys and card numbers given as numbers', () => {
    let value: unknown = { leaf: [EMAIL, 4111111111111111, 42, true, null], [EMAIL]: 'key' };
    for (let i = 0; i < 100; i++) value = [{ level: i, child: value }];
    const r = redactJson(value, all);
    let node = r.value as unknown;
    for (let i = 99; i >= 0; i--) {
      const o = (node as Record<string, unknown>[])[0]!;
      assert.equal(o.level, i);
      node = o.child;
    }
    assert.deepEqual(node, { leaf: ['[REDACTED:email]', '[REDACTED:payment-card]', 42, true, null], '[REDACTED:email]': 'key' });
    assert.deepEqual(r.counts, { email: 2, 'payment-card': 1 });
  });

  it('does not blow the stack on 200,000 levels of nesting', () => {
    const text = '['.repeat(200_000) + JSON.stringify(EMAIL) + ']'.repeat(200_000);
    const r = redactJson(JSON.parse(text), all);
    assert.deepEqual(r.counts, { email: 1 });
    let node = r.value;
    for (let i = 0; i < 200_000; i++) node = (node as unknown[])[0];
    assert.equal(node, '[REDACTED:email]');
  });

  it('does not change its input, keeps clashing keys apart, and treats __proto__ as data', () => {
    const input = JSON.parse(`{"a@example.com":1,"b@example.com":2,"[REDACTED:email]":3,"__proto__":{"x":"${EMAIL}"}}`);
    const copy = structuredClone(input);
    const r = redactJson(input, all);
    assert.deepEqual(input, copy);
    const out = r.value as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['[REDACTED:email]', '[REDACTED:email]#2', '[REDACTED:email]#3', '__proto__']);
    assert.deepEqual(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')!.value, { x: '[REDACTED:email]' });
  });

  it('returns the same value with no classes, and refuses non-JSON values', () => {
    const v = { a: EMAIL };
    assert.equal(redactJson(v, { classes: new Set() }).value, v);
    assert.throws(() => redactJson({ d: new Date() }, all), TypeError);
    assert.throws(() => redactJson({ n: 1n }, all), TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => redactJson(cyclic, all), TypeError);
  });
});

describe('redactHttpRequest', () => {
  it('redacts decoded path segments and query values, re-encoding only what changed', () => {
    const r = redactHttpRequest(
      { url: `https://api.example.com:8443/users/${encodeURIComponent(EMAIL)}/items?ip=10.1.2.3&card=4111+1111+1111+1111&q=caf%C3%A9#frag`, headers: [] },
      all,
    );
    assert.equal(r.url, 'https://api.example.com:8443/users/%5BREDACTED%3Aemail%5D/items?ip=%5BREDACTED%3Aip-address%5D&card=%5BREDACTED%3Apayment-card%5D&q=caf%C3%A9#frag');
    assert.deepEqual(r.counts, { email: 1, 'ip-address': 1, 'payment-card': 1 });
  });

  it('keeps the host even when it is an address, and redacts a password in userinfo', () => {
    const r = redactHttpRequest({ url: 'http://10.0.0.5:8080/p?x=1', headers: [] }, all);
    assert.equal(r.url, 'http://10.0.0.5:8080/p?x=1');
    assert.deepEqual(r.counts, {});
    assert.equal(redactHttpRequest({ url: `https://${encodeURIComponent(EMAIL)}@host.example/`, headers: [] }, all).url, 'https://%5BREDACTED%3Aemail%5D@host.example/');
  });

  it('redacts header values, not names, and honours the allow list', () => {
    const granted = 'ghp_' + 'Z9y8X7w6V5'.repeat(4).slice(0, 36);
    const r = redactHttpRequest(
      { url: '/', headers: [['Authorization', `Bearer ${granted}`], ['X-Debug', `token=${TOKEN} user=${EMAIL}`], ['Accept', 'application/json']] },
      { classes: new Set(PII_CLASSES), allow: [granted] },
    );
    assert.deepEqual(r.headers, [['Authorization', `Bearer ${granted}`], ['X-Debug', 'token=[REDACTED:secret] user=[REDACTED:email]'], ['Accept', 'application/json']]);
    assert.deepEqual(r.counts, { secret: 1, email: 1 });
  });

  it('redacts JSON, form and text bodies; a body with nothing to redact is passed through as the same bytes', () => {
    const json = redactHttpRequest({ url: '/', headers: [['content-type', 'application/json; charset=utf-8']], body: enc(JSON.stringify({ a: { b: [{ c: EMAIL }] }, n: 4111111111111111 })) }, all);
    assert.deepEqual(JSON.parse(dec(json.body)), { a: { b: [{ c: '[REDACTED:email]' }] }, n: '[REDACTED:payment-card]' });
    const form = redactHttpRequest({ url: '/', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: enc(`user=${encodeURIComponent(EMAIL)}&x=1`) }, all);
    assert.equal(dec(form.body), 'user=%5BREDACTED%3Aemail%5D&x=1');
    const text = redactHttpRequest({ url: '/', headers: [['content-type', 'text/plain']], body: enc(`call +44 20 7946 0958`) }, all);
    assert.equal(dec(text.body), 'call [REDACTED:phone]');
    const untyped = redactHttpRequest({ url: '/', headers: [], body: enc(`<x>${EMAIL}</x>`) }, all);
    assert.equal(dec(untyped.body), '<x>[REDACTED:email]</x>');
    const clean = enc('{"ok":true}');
    assert.equal(redactHttpRequest({ url: '/', headers: [['content-type', 'application/json']], body: clean }, all).body, clean);
  });

  it('fails closed on bodies it cannot inspect (MPP_E_REDACTION_FAILED)', () => {
    const cases: [string, Parameters<typeof redactHttpRequest>[0]][] = [
      ['binary', { url: '/', headers: [['content-type', 'application/octet-stream']], body: new Uint8Array([0xff, 0xfe, 0x00, 0x81]) }],
      ['compressed', { url: '/', headers: [['content-encoding', 'gzip']], body: enc('x') }],
      ['other charset', { url: '/', headers: [['content-type', 'text/plain; charset=iso-8859-1']], body: enc('x') }],
      ['too large', { url: '/', headers: [['content-type', 'text/plain']], body: new Uint8Array(MAX_REDACTABLE_BODY_BYTES + 1) }],
    ];
    for (const [why, req] of cases) {
      assert.throws(() => redactHttpRequest(req, all), (e: unknown) => isMppError(e) && e.code === 'MPP_E_REDACTION_FAILED', why);
    }
    // With no classes nothing is inspected, so nothing is refused.
    const bin = new Uint8Array([0xff, 0xfe]);
    assert.equal(redactHttpRequest({ url: '/', headers: [], body: bin }, { classes: new Set() }).body, bin);
  });
});

describe('effectiveClasses', () => {
  it('is the union of the host minimum and the manifest: a package can add, never lower', () => {
    assert.deepEqual([...effectiveClasses({ privacy: { redact: ['email'] } }, ['secret'])].sort(), ['email', 'secret']);
    assert.deepEqual([...effectiveClasses({}, ['secret', 'payment-card'])].sort(), ['payment-card', 'secret']);
    assert.deepEqual([...effectiveClasses(undefined, [])], []);
    assert.throws(() => effectiveClasses({ privacy: { redact: ['passport' as never] } }, []), TypeError);
  });
});

describe('granted values outside the requests they are for', () => {
  it('are redacted as secrets by exact value, whatever the classes; short values are left to the detectors', () => {
    const policy: RedactionPolicy = { classes: new Set(), values: ['plain-looking-value', 'short'] };
    const r = redactJson({ a: 'x plain-looking-value y plain-looking-value', b: 'short stays' }, policy);
    assert.deepEqual(r.value, { a: 'x [REDACTED:secret] y [REDACTED:secret]', b: 'short stays' });
    assert.deepEqual(r.counts, { secret: 2 });
  });
});
