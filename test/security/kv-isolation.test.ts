/**
 * The KV store as a sandboxed tool sees it: the real kv-probe component runs
 * under createSandbox with `services.kv = openKvStore(...)`. Quotas are
 * enforced at the host (the tool gets `quota-exceeded` and stays usable),
 * each package sees only its own store, and data outlives the sandbox
 * instance and the process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { kvDatabasePath } from '../../runtime/home.ts';
import { createSandbox, type ToolSandbox } from '../../runtime/sandbox/index.ts';
import { openKvStore, type KvStore } from '../../runtime/state/kv.ts';
import { openDatabase } from '../../runtime/state/sqlite.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { SANDBOX_CACHE } from '../fixtures/tools/env.ts';
import { tempDir } from '../helpers/cli.ts';

const run = promisify(execFile);
const CHILD = new URL('./kv-isolation-child.ts', import.meta.url).pathname;
const QUOTA = { maxBytes: 4096, maxKeys: 20 };

interface ProbeResult {
  ok: boolean;
  error?: { tag: string; val: string } | null;
  [k: string]: unknown;
}

const scratch = tempDir({ after }, 'kv-isolation');
const home = scratch;
let component: Uint8Array;
const open: { close(): void }[] = [];
const sandboxes: ToolSandbox[] = [];

async function sandboxFor(kv: KvStore): Promise<ToolSandbox> {
  const sb = await createSandbox({ component, grant: {}, cacheDir: SANDBOX_CACHE, services: { log: () => {}, kv } });
  sandboxes.push(sb);
  return sb;
}

function store(pkg: string): KvStore {
  const kv = openKvStore(home, pkg, QUOTA);
  open.push(kv);
  return kv;
}

async function probe(sb: ToolSandbox, tool: string, input: object): Promise<ProbeResult> {
  return JSON.parse(await sb.call(tool, JSON.stringify(input))) as ProbeResult;
}

/** Usage as accounted must equal a recount of the table. */
function assertAccounted(kv: KvStore, pkg: string): void {
  const db = openDatabase(kvDatabasePath(home, pkg));
  try {
    const recount = db.prepare('SELECT coalesce(sum(length(key) + length(value)), 0) AS bytes, count(*) AS keys FROM kv').get() as { bytes: number; keys: number };
    assert.deepEqual(kv.usage(), { bytes: recount.bytes, keys: recount.keys });
  } finally {
    db.close();
  }
}

before(async () => {
  component = await fixtureComponent('kv-probe');
});

after(async () => {
  for (const sb of sandboxes) await sb.dispose();
  for (const kv of open) kv.close();
});

describe('kv quotas, seen from inside the sandbox', () => {
  let kv: KvStore;
  let sb: ToolSandbox;
  before(async () => {
    kv = store('acme/quota');
    sb = await sandboxFor(kv);
  });

  it('refuses writes past maxBytes with quota-exceeded, and the tool stays usable', async () => {
    // Each entry is 'f/<i>' (3-4 bytes) + 300 bytes: 13 fit in 4096, the 14th does not.
    const fill = await probe(sb, 'fill', { prefix: 'f/', size: 300 });
    assert.equal(fill.written, 13);
    assert.equal(fill.error?.tag, 'quota-exceeded');
    const usage = kv.usage();
    assert.ok(usage.bytes <= QUOTA.maxBytes, `usage ${usage.bytes} within the quota`);

    const big = await probe(sb, 'set', { key: 'big', size: 5000 });
    assert.equal(big.error?.tag, 'quota-exceeded', 'one value above the whole quota');
    const grow = await probe(sb, 'set', { key: 'f/0', size: 301 + (QUOTA.maxBytes - usage.bytes) });
    assert.equal(grow.error?.tag, 'quota-exceeded', 'an overwrite that grows past the quota');
    assert.deepEqual(kv.usage(), usage, 'refused writes changed nothing');
    assert.equal((await probe(sb, 'get', { key: 'f/0' })).size, 300);

    // Still usable: reads work, a delete frees room, the next write fits.
    assert.deepEqual(await probe(sb, 'delete', { key: 'f/12' }), { ok: true, existed: true });
    assert.deepEqual(await probe(sb, 'set', { key: 'after', text: 'still here' }), { ok: true });
    assert.equal((await probe(sb, 'get', { key: 'after' })).text, 'still here');
    assertAccounted(kv, 'acme/quota');
  });

  it('refuses a new key past maxKeys, but not an overwrite', async () => {
    // Empty values: they cross the bridge as zero-length buffers (once stored as NULL by mistake).
    const fill = await probe(sb, 'fill', { prefix: 'k', size: 0 });
    assert.ok((fill.written as number) > 0);
    assert.equal(fill.error?.tag, 'quota-exceeded');
    assert.equal(kv.usage().keys, QUOTA.maxKeys);
    assert.deepEqual(await probe(sb, 'set', { key: 'after', text: 'overwrite' }), { ok: true });
    assert.deepEqual(await probe(sb, 'get', { key: 'k0' }), { ok: true, found: true, size: 0, text: '' });
    assertAccounted(kv, 'acme/quota');
  });

  it('refuses malformed keys with invalid-argument (NUL reaches the store, which refuses it)', async () => {
    assert.equal((await probe(sb, 'set', { key: 'a\u0000b', text: 'x' })).error?.tag, 'invalid-argument');
    assert.equal((await probe(sb, 'get', { key: '' })).error?.tag, 'invalid-argument');
    assert.equal((await probe(sb, 'get', { key: 'k'.repeat(257) })).error?.tag, 'invalid-argument');
    assert.equal((await probe(sb, 'get', { key: 'after' })).text, 'overwrite');
  });
});

describe('kv isolation between packages', () => {
  let kvA: KvStore;
  let sbA: ToolSandbox;
  let sbB: ToolSandbox;
  before(async () => {
    kvA = store('acme/alpha');
    sbA = await sandboxFor(kvA);
    sbB = await sandboxFor(store('acme/beta'));
    assert.deepEqual(await probe(sbA, 'set', { key: 'secret', text: 'alpha-only' }), { ok: true });
    assert.deepEqual(await probe(sbA, 'set', { key: 'notes/1', text: 'a note' }), { ok: true });
  });

  it("gives package B no view of package A's keys", async () => {
    assert.deepEqual(await probe(sbB, 'get', { key: 'secret' }), { ok: true, found: false });
    assert.deepEqual(await probe(sbB, 'list', { prefix: '', limit: 1000 }), { ok: true, keys: [] });
    // Key names are only names: nothing in one reaches another package's file.
    for (const key of ['../alpha', '../alpha.sqlite', '/acme/alpha/secret', 'acme/alpha:secret']) {
      assert.deepEqual(await probe(sbB, 'get', { key }), { ok: true, found: false }, key);
    }
    assert.deepEqual(await probe(sbB, 'set', { key: 'secret', text: 'beta' }), { ok: true });
    assert.equal((await probe(sbA, 'get', { key: 'secret' })).text, 'alpha-only');
    assert.equal((await probe(sbB, 'get', { key: 'secret' })).text, 'beta');
    assert.deepEqual(await probe(sbA, 'list', { prefix: '' }), { ok: true, keys: ['notes/1', 'secret'] });
  });

  it("does not let B's quota use count against A", async () => {
    const before = kvA.usage();
    const fill = await probe(sbB, 'fill', { prefix: 'b/', size: 100 });
    assert.equal(fill.error?.tag, 'quota-exceeded');
    assert.deepEqual(kvA.usage(), before);
    assert.deepEqual(await probe(sbA, 'set', { key: 'more', size: 1000 }), { ok: true });
  });

  it('keeps data across a new sandbox instance and a reopened store', async () => {
    const again = await sandboxFor(kvA);
    assert.equal((await probe(again, 'get', { key: 'secret' })).text, 'alpha-only');
    const reopened = store('acme/alpha');
    const fresh = await sandboxFor(reopened);
    assert.equal((await probe(fresh, 'get', { key: 'notes/1' })).text, 'a note');
  });

  it('keeps data across processes, both directions, with the store open in both', async () => {
    const { stdout } = await run(
      process.execPath,
      [CHILD, home, 'acme/alpha', String(QUOTA.maxBytes), 'get', '{"key":"secret"}', 'set', '{"key":"from-child","text":"written in another process"}', 'list', '{"prefix":"","limit":10}'],
      { timeout: 120_000 },
    );
    const [got, set, list] = stdout.trim().split('\n').map((l) => JSON.parse(l) as ProbeResult);
    assert.equal(got?.text, 'alpha-only');
    assert.deepEqual(set, { ok: true });
    assert.deepEqual(list?.keys, ['from-child', 'more', 'notes/1', 'secret']);
    assert.equal((await probe(sbA, 'get', { key: 'from-child' })).text, 'written in another process');
    assertAccounted(kvA, 'acme/alpha');

    // And the other package, from another process, still sees none of it.
    const { stdout: other } = await run(process.execPath, [CHILD, home, 'acme/beta', String(QUOTA.maxBytes), 'get', '{"key":"from-child"}'], { timeout: 120_000 });
    assert.deepEqual(JSON.parse(other), { ok: true, found: false });
  });
});
