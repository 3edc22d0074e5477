/**
 * Redaction of outbound HTTP in a real sandbox: the net-probe tool sends PII
 * in the URL, a header and the body to a real loopback server under a grant
 * with privacy classes; the server must receive only markers, and the host
 * must receive the counts (never the values).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PiiClass } from '../../runtime/format/manifest.ts';
import type { RedactionCounts } from '../../runtime/privacy/index.ts';
import { createSandbox, type LogRecord } from '../../runtime/sandbox/index.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { SANDBOX_CACHE, startServer, type TestServer } from '../fixtures/tools/env.ts';

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const TOKEN = 'ghp_' + 'A1b2C3d4E5'.repeat(4).slice(0, 36);
const GRANTED = 'ghp_' + 'Z9y8X7w6V5'.repeat(4).slice(0, 36);

interface Seen {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('outbound HTTP redaction in the sandbox', () => {
  let server: TestServer;
  const seen: Seen[] = [];
  before(async () => {
    server = await startServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        res.end('ok');
      });
    });
  });
  after(() => server.close());

  async function send(classes: PiiClass[], call: Record<string, unknown>, allow: string[] = []) {
    const redactions: RedactionCounts[] = [];
    const logs: LogRecord[] = [];
    const sb = await createSandbox({
      component: await fixtureComponent('net-probe'),
      grant: {
        net: [{ scheme: 'http', host: '127.0.0.1', port: server.port, methods: ['GET', 'POST'] }],
        privacy: { classes, allow },
      },
      cacheDir: SANDBOX_CACHE,
      services: { log: (r) => logs.push(r), onRedaction: (direction, counts) => (assert.equal(direction, 'http'), redactions.push(counts)) },
    });
    try {
      const out = JSON.parse(await sb.call('fetch', JSON.stringify(call))) as { ok: boolean; status?: number; error?: string };
      return { out, redactions, logs };
    } finally {
      await sb.dispose();
    }
  }

  it('redacts PII in the URL (percent-encoded too), a header and a JSON body, and reports counts', async () => {
    seen.length = 0;
    const { out, redactions } = await send(['email', 'payment-card', 'secret'], {
      url: `http://127.0.0.1:${server.port}/users/${encodeURIComponent(EMAIL)}?card=${encodeURIComponent(CARD)}&q=plain`,
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-note': 'hello' },
      body: JSON.stringify({ user: { contact: [{ mail: EMAIL }] }, note: 'no pii here' }),
    });
    assert.equal(out.ok, true, JSON.stringify(out));
    assert.equal(seen.length, 1);
    const got = seen[0]!;
    assert.equal(got.url, '/users/%5BREDACTED%3Aemail%5D?card=%5BREDACTED%3Apayment-card%5D&q=plain');
    assert.equal(got.headers.authorization, 'Bearer [REDACTED:secret]');
    assert.equal(got.headers['x-note'], 'hello');
    assert.deepEqual(JSON.parse(got.body), { user: { contact: [{ mail: '[REDACTED:email]' }] }, note: 'no pii here' });
    assert.ok(!JSON.stringify(got).includes('jane.doe') && !JSON.stringify(got).includes('ghp_'));
    assert.deepEqual(redactions, [{ email: 2, 'payment-card': 1, secret: 1 }]);
  });

  it('on a GET: sends a granted token (allow list), redacts another, leaves classes outside the policy alone', async () => {
    seen.length = 0;
    const { out, redactions } = await send(
      ['secret'],
      { url: `http://127.0.0.1:${server.port}/x?mail=${encodeURIComponent(EMAIL)}`, headers: { authorization: `token ${GRANTED}`, 'x-leak': TOKEN } },
      [GRANTED],
    );
    assert.equal(out.ok, true, JSON.stringify(out));
    assert.equal(seen[0]!.headers.authorization, `token ${GRANTED}`);
    assert.equal(seen[0]!.headers['x-leak'], '[REDACTED:secret]');
    assert.equal(seen[0]!.url, `/x?mail=${encodeURIComponent(EMAIL)}`);
    assert.deepEqual(redactions, [{ secret: 1 }]);
  });

  it('without privacy classes, requests leave unchanged', async () => {
    seen.length = 0;
    const { out, redactions } = await send([], { url: `http://127.0.0.1:${server.port}/u/${encodeURIComponent(EMAIL)}`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(out.ok, true);
    assert.equal(seen[0]!.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(redactions, []);
  });

  it('refuses a body it cannot inspect (fail closed): nothing reaches the server', async () => {
    seen.length = 0;
    const before = server.requests.length;
    const { out, logs } = await send(['email'], {
      url: `http://127.0.0.1:${server.port}/upload`,
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' },
      body: 'pretend-compressed',
    });
    assert.equal(out.ok, false);
    assert.equal(server.requests.length, before, 'the server saw no request');
    assert.ok(logs.some((l) => l.source === 'sandbox' && /content-encoding gzip/.test(l.message)), JSON.stringify(logs));
  });
});
