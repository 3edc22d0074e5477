/**
 * The sandbox doing its job for well-behaved tools: calls, logs, host
 * services, files within a grant, HTTP to a granted loopback server, the
 * transpile cache, and the errors a host sees for bad grants and bad
 * components.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import {
  createSandbox,
  HostServiceError,
  parseGrant,
  runTool,
  type HostServices,
  type LogRecord,
  type ToolSandbox,
} from '../../runtime/sandbox/index.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { ROOT, tempDir } from '../helpers/cli.ts';
import { readArchive } from '../../runtime/format/read.ts';
import { COMPONENT_ENTRY } from '../../runtime/format/layout.ts';
import { FS_STRATEGIES, makeDirs, SANDBOX_CACHE, startServer, type TestServer } from '../fixtures/tools/env.ts';

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const run = typeof p === 'function' ? async () => p() : () => p;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(isMppError(e), `expected an MppError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

const scratch = tempDir({ after }, 'sandbox');

describe('calls on the bare MPP world', () => {
  it('returns the output and forwards tool logs', async () => {
    const records: LogRecord[] = [];
    const sb = await createSandbox({ component: await fixtureComponent('echo'), grant: {}, cacheDir: SANDBOX_CACHE, services: { log: (r) => records.push(r) } });
    try {
      assert.equal(await sb.call('greet', '{"name":"Ada"}'), '{"tool":"greet","input":{"name":"Ada"}}');
      assert.equal(await sb.call('again', '[1,2]'), '{"tool":"again","input":[1,2]}');
      assert.deepEqual(records.filter((r) => r.source === 'tool'), [
        { level: 'info', source: 'tool', message: 'echo greet' },
        { level: 'info', source: 'tool', message: 'echo again' },
      ]);
      assert.match(sb.digest, /^[0-9a-f]{64}$/);
      assert.ok(existsSync(join(SANDBOX_CACHE, sb.digest, 'tool.js')), 'transpile output cached by digest');
    } finally {
      await sb.dispose();
    }
    await rejectsWith(sb.call('greet', '{}'), 'MPP_E_USAGE');
  });

  it('runTool runs one call in a fresh instance', async () => {
    const out = await runTool({ component: await fixtureComponent('echo'), grant: {}, cacheDir: SANDBOX_CACHE, tool: 't', input: 'null' });
    assert.equal(out, '{"tool":"t","input":null}');
  });

  it('transpiles a cache entry again when its core modules were damaged on disk', async () => {
    const cacheDir = join(scratch, 'damaged-cache');
    const component = await fixtureComponent('echo');
    // Another memory limit each time: the modules are read and compiled again, not taken from this process's cache.
    const call = (mib: number) => runTool({ component, grant: { limits: { memoryBytes: mib * 1024 * 1024 } }, cacheDir, tool: 't', input: '1' });
    assert.equal(await call(32), '{"tool":"t","input":1}');
    const entry = join(cacheDir, readdirSync(cacheDir).find((n) => !n.startsWith('.'))!);
    const modules = readdirSync(entry).filter((f) => f.endsWith('.wasm'));
    assert.ok(modules.length > 0);
    for (const f of modules) writeFileSync(join(entry, f), 'garbage');
    assert.equal(await call(48), '{"tool":"t","input":1}');
    assert.notEqual(readFileSync(join(entry, modules[0]!), 'utf8'), 'garbage', 'the entry was written again');
  });

  it('gives every call a clean instance: a global set by one call is gone in the next', async () => {
    const sb = await createSandbox({ component: await fixtureComponent('misc-probe'), grant: {}, cacheDir: SANDBOX_CACHE });
    try {
      const calls = [];
      for (let i = 0; i < 3; i++) calls.push(JSON.parse(await sb.call('counter', '{}')).calls);
      assert.deepEqual(calls, [1, 1, 1]);
    } finally {
      await sb.dispose();
    }
  });

  it('queues concurrent calls on one sandbox', async () => {
    const sb = await createSandbox({ component: await fixtureComponent('echo'), grant: {}, cacheDir: SANDBOX_CACHE });
    try {
      const outs = await Promise.all([1, 2, 3, 4].map((i) => sb.call(`t${i}`, String(i))));
      assert.deepEqual(outs.map((o) => JSON.parse(o).input), [1, 2, 3, 4]);
    } finally {
      await sb.dispose();
    }
  });
});

describe('host services', () => {
  let sb: ToolSandbox;
  const kv = new Map<string, Uint8Array>([['greeting', new TextEncoder().encode('hi')]]);
  const services: HostServices = {
    log: () => {},
    kv: {
      get: async (key) => {
        if (key === 'forbidden') throw new HostServiceError('denied', 'not for you');
        return kv.get(key);
      },
      set: async (key, value) => void kv.set(key, value),
      delete: async (key) => kv.delete(key),
      listKeys: async (prefix, limit) => [...kv.keys()].filter((k) => k.startsWith(prefix)).slice(0, limit),
    },
    identity: { caller: async () => ({ agentId: 'agent-1', displayName: 'Agent One', verified: true }) },
  };
  before(async () => {
    sb = await createSandbox({ component: await fixtureComponent('misc-probe'), grant: {}, cacheDir: SANDBOX_CACHE, services });
  });
  after(() => sb.dispose());

  it('bridges kv and identity to the host, refusals included', async () => {
    assert.deepEqual(JSON.parse(await sb.call('kv', '{"key":"greeting"}')), { ok: true, value: { 0: 104, 1: 105 } });
    assert.deepEqual(JSON.parse(await sb.call('kv', '{"key":"missing"}')), { ok: true, value: null });
    assert.deepEqual(JSON.parse(await sb.call('kv', '{"key":"forbidden"}')), { ok: false, error: { tag: 'denied', val: 'not for you' } });
    assert.deepEqual(JSON.parse(await sb.call('kv', JSON.stringify({ key: 'k'.repeat(300) }))).error.tag, 'invalid-argument');
    assert.deepEqual(JSON.parse(await sb.call('caller', '{}')), { ok: true, caller: { agentId: 'agent-1', displayName: 'Agent One', verified: true } });
  });

  it('answers not-available for services the host did not pass', async () => {
    const bare = await createSandbox({ component: await fixtureComponent('misc-probe'), grant: {}, cacheDir: SANDBOX_CACHE });
    try {
      assert.equal(JSON.parse(await bare.call('kv', '{"key":"greeting"}')).error.tag, 'not-available');
      assert.equal(JSON.parse(await bare.call('caller', '{}')).error.tag, 'not-available');
    } finally {
      await bare.dispose();
    }
  });

  it('reports a tool error with its code and message', async () => {
    await assert.rejects(sb.call('fail', '{}'), (e: unknown) => {
      assert.ok(isMppError(e));
      assert.equal(e.code, 'MPP_E_TOOL_ERROR');
      assert.deepEqual(e.detail, { toolCode: 'not-found', toolMessage: 'no such thing', toolDetails: '{"id":7}' });
      return true;
    });
    assert.equal(JSON.parse(await sb.call('echo', '{}')).tool, 'echo', 'a tool error does not discard the instance');
  });

  it('hands stdout and stderr to the log, marked as such', async () => {
    const records: LogRecord[] = [];
    const noisy = await createSandbox({ component: await fixtureComponent('misc-probe'), grant: {}, cacheDir: SANDBOX_CACHE, services: { log: (r) => records.push(r) } });
    try {
      await noisy.call('log-flood', '{"lines":1}');
      assert.ok(records.some((r) => r.source === 'stdout' && r.message.includes('stdout says hi')));
      assert.ok(records.some((r) => r.source === 'stderr' && r.message.includes('stderr says hi')));
    } finally {
      await noisy.dispose();
    }
  });
});

for (const strategy of FS_STRATEGIES) describe(`files within a grant (${strategy} strategy)`, () => {
  const dir = join(scratch, 'files', strategy);
  let sb: ToolSandbox;
  const call = async (tool: string, input: object) => JSON.parse(await sb.call(tool, JSON.stringify(input))) as Record<string, unknown>;
  before(async () => {
    makeDirs(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'a.txt'), 'alpha');
    sb = await createSandbox({
      component: await fixtureComponent('fs-probe'),
      grant: { fs: [{ hostPath: dir, guestPath: '/data', write: true }] },
      cacheDir: SANDBOX_CACHE,
      fsStrategy: strategy,
    });
  });
  after(() => sb.dispose());

  it('reads, by descriptor and by stream', async () => {
    assert.deepEqual(await call('read', { path: 'docs/a.txt' }), { ok: true, text: 'alpha' });
    assert.deepEqual(await call('read-stream', { path: './docs/../docs/a.txt' }), { ok: true, text: 'alpha' });
    assert.deepEqual(await call('readdir', { path: 'docs' }), { ok: true, names: ['a.txt'] });
    assert.deepEqual(await call('stat', { path: 'docs' }), { ok: true, type: 'directory' });
  });

  it('writes, appends, renames, deletes, creates and removes directories', async () => {
    assert.deepEqual(await call('write', { path: 'docs/b.txt', text: 'bravo' }), { ok: true });
    assert.equal(readFileSync(join(dir, 'docs', 'b.txt'), 'utf8'), 'bravo');
    assert.deepEqual(await call('append', { path: 'docs/b.txt', text: '!' }), { ok: true });
    assert.equal(readFileSync(join(dir, 'docs', 'b.txt'), 'utf8'), 'bravo!');
    assert.deepEqual(await call('mkdir', { path: 'out' }), { ok: true });
    assert.deepEqual(await call('rename', { from: 'docs/b.txt', to: 'out/b.txt' }), { ok: true });
    assert.deepEqual(readdirSync(join(dir, 'out')), ['b.txt']);
    assert.deepEqual(await call('unlink', { path: 'out/b.txt' }), { ok: true });
    assert.deepEqual(await call('rmdir', { path: 'out' }), { ok: true });
    assert.deepEqual(readdirSync(dir), ['docs']);
    assert.deepEqual(await call('read', { path: 'docs/missing.txt' }), { ok: false, error: 'no-entry' });
  });
});

describe('HTTP to a granted server', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      });
    });
  });
  after(() => server.close());

  it('fetches from 127.0.0.1 when the grant names it', async () => {
    const sb = await createSandbox({
      component: await fixtureComponent('net-probe'),
      grant: { net: [{ scheme: 'http', host: '127.0.0.1', port: server.port, methods: ['GET', 'POST'] }] },
      cacheDir: SANDBOX_CACHE,
    });
    try {
      const get = JSON.parse(await sb.call('fetch', JSON.stringify({ url: `http://127.0.0.1:${server.port}/items?q=1` })));
      assert.equal(get.ok, true);
      assert.equal(get.status, 200);
      assert.deepEqual(JSON.parse(get.body), { method: 'GET', url: '/items?q=1', body: '' });
      // (A POST without a body hangs in StarlingMonkey + preview2-shim 0.26.1:
      // the chunked request body is never ended. Not a sandbox matter.)
      const post = JSON.parse(await sb.call('fetch', JSON.stringify({ url: `http://127.0.0.1:${server.port}/items`, method: 'POST', body: 'payload' })));
      assert.deepEqual(JSON.parse(post.body), { method: 'POST', url: '/items', body: 'payload' });
      assert.deepEqual(server.requests, ['GET /items?q=1', 'POST /items']);
    } finally {
      await sb.dispose();
    }
  });
});

describe('grants and components the host refuses', () => {
  it('refuses malformed grants with MPP_E_GRANT_INVALID', () => {
    const bad: unknown[] = [
      { fs: [{ hostPath: 'relative/dir', guestPath: '/d', write: false }] },
      { fs: [{ hostPath: scratch, guestPath: '/d/../x', write: false }] },
      { fs: [{ hostPath: join(scratch, 'nope'), guestPath: '/d', write: false }] },
      { net: [{ scheme: 'ftp', host: 'example.com', methods: ['GET'] }] },
      { net: [{ scheme: 'https', host: 'user@example.com', methods: ['GET'] }] },
      { net: [{ scheme: 'https', host: '127.1', methods: ['GET'] }] },
      { net: [{ scheme: 'https', host: 'example.com', port: 70000, methods: ['GET'] }] },
      { net: [{ scheme: 'https', host: 'example.com', methods: ['CONNECT'] }] },
      { net: [{ scheme: 'https', host: 'example.com', methods: [] }] },
      { env: { 'BAD-NAME': 'x' } },
      { limits: { timeoutMs: 0 } },
      { limits: { memoryBytes: 1024 } },
    ];
    for (const g of bad) {
      assert.throws(() => parseGrant(g as never), (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_INVALID', JSON.stringify(g));
    }
  });

  it('normalises a good grant', () => {
    const g = parseGrant({ net: [{ scheme: 'HTTPS', host: 'Example.COM.', methods: ['get'] }] });
    assert.deepEqual(g.net, [{ scheme: 'https', host: 'example.com', port: 443, methods: ['GET'] }]);
    assert.ok(Object.isFrozen(g) && Object.isFrozen(g.net[0]));
  });

  it('refuses a writable grant over its own cache', async () => {
    await rejectsWith(
      createSandbox({ component: await fixtureComponent('echo'), grant: { fs: [{ hostPath: join(SANDBOX_CACHE, '..'), guestPath: '/c', write: true }] }, cacheDir: SANDBOX_CACHE }),
      'MPP_E_GRANT_INVALID',
    );
  });

  it('refuses bytes that are not a component', async () => {
    await rejectsWith(createSandbox({ component: new TextEncoder().encode('definitely not wasm'), grant: {}, cacheDir: SANDBOX_CACHE }), 'MPP_E_TOOL_INVALID');
  });

  it('refuses a component that uses component-model async, as the gatekeeper does (its tasks could outlive a call)', async () => {
    for (const vector of ['world-async-lift', 'world-task-return', 'world-nested-stream']) {
      const component = readArchive(readFileSync(join(ROOT, 'spec', 'vectors', 'packages', `${vector}.mpp`))).get(COMPONENT_ENTRY)!.data;
      await assert.rejects(createSandbox({ component, grant: {}, cacheDir: SANDBOX_CACHE }), (e: unknown) => isMppError(e) && e.code === 'MPP_E_TOOL_INVALID' && /could outlive the call/.test(e.message), vector);
    }
  });
});
