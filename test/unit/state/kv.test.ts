/**
 * The per-package KV store on real SQLite files in a scratch home: round
 * trips, byte-order listing, key rules, quotas (bytes and keys, overwrite
 * accounting, refusals that change nothing), persistence and separation.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { kvDatabasePath } from '../../../runtime/home.ts';
import { HostServiceError, type HostErrorTag } from '../../../runtime/sandbox/host-services.ts';
import { openDatabase } from '../../../runtime/state/sqlite.ts';
import { deleteKvData, openKvStore, type KvStore } from '../../../runtime/state/kv.ts';

const root = mkdtempSync(join(tmpdir(), 'mpp-kv-unit-'));
after(() => rmSync(root, { recursive: true, force: true }));
let homes = 0;
const newHome = () => join(root, `home-${homes++}`);

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function refuses(p: Promise<unknown>, tag: HostErrorTag): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HostServiceError, `expected a HostServiceError, got ${String(e)}`);
    assert.equal(e.tag, tag);
    return true;
  });
}

/** All keys with values, straight from the store's API (limit 1000 is enough for these tests). */
async function snapshot(kv: KvStore): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const k of await kv.listKeys('', 1000)) out[k] = dec(await kv.get(k));
  return out;
}

describe('kv store', () => {
  it('round-trips values, including empty and binary ones, and deletes', async () => {
    const kv = openKvStore(newHome(), 'acme/notes', { maxBytes: 1 << 20 });
    try {
      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      await kv.set('a', enc('hello'));
      await kv.set('empty', new Uint8Array(0));
      await kv.set('bin', binary);
      assert.equal(dec(await kv.get('a')), 'hello');
      assert.deepEqual(await kv.get('empty'), new Uint8Array(0));
      assert.deepEqual(await kv.get('bin'), binary);
      // Empty values as the sandbox bridge delivers them (zero-length buffers), and views into larger buffers.
      await kv.set('cloned-empty', structuredClone(new Uint8Array(0)));
      await kv.set('buffer-empty', new Uint8Array(new ArrayBuffer(0)));
      await kv.set('view', binary.subarray(10, 13));
      assert.deepEqual(await kv.get('cloned-empty'), new Uint8Array(0));
      assert.deepEqual(await kv.get('buffer-empty'), new Uint8Array(0));
      assert.deepEqual(await kv.get('view'), Uint8Array.of(10, 11, 12));
      assert.deepEqual(kv.usage(), { bytes: 1 + 5 + 5 + 0 + 3 + 256 + 12 + 12 + 4 + 3, keys: 6 });
      assert.equal(await kv.get('missing'), undefined);
      await kv.set('a', enc('bye'));
      assert.equal(dec(await kv.get('a')), 'bye');
      assert.equal(await kv.delete('a'), true);
      assert.equal(await kv.delete('a'), false);
      assert.equal(await kv.get('a'), undefined);
    } finally {
      kv.close();
    }
  });

  it('lists keys in UTF-8 byte order, by prefix, up to the limit (capped at 1000)', async () => {
    const kv = openKvStore(newHome(), 'acme/list', { maxBytes: 1 << 20, maxKeys: 2000 });
    try {
      // U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80) in bytes, after it in UTF-16 units.
      const keys = ['b', 'a/2', 'a/10', 'a/1', 'a', 'ab', 'a\uff61', 'a\u{1f600}', 'é', 'Z'];
      for (const k of keys) await kv.set(k, enc(k));
      const byteOrder = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(await kv.listKeys('', 100), byteOrder);
      assert.deepEqual(await kv.listKeys('a', 100), ['a', 'a/1', 'a/10', 'a/2', 'ab', 'a\uff61', 'a\u{1f600}']);
      assert.deepEqual(await kv.listKeys('a/', 100), ['a/1', 'a/10', 'a/2']);
      assert.deepEqual(await kv.listKeys('a/1', 100), ['a/1', 'a/10']);
      assert.deepEqual(await kv.listKeys('a', 2), ['a', 'a/1']);
      assert.deepEqual(await kv.listKeys('a', 0), []);
      assert.deepEqual(await kv.listKeys('nothing', 10), []);
      assert.deepEqual(await kv.listKeys('\u{1f600}', 10), []);

      for (let i = 0; i < 1100; i++) await kv.set(`many/${String(i).padStart(4, '0')}`, new Uint8Array(0));
      const capped = await kv.listKeys('many/', 5000);
      assert.equal(capped.length, 1000);
      assert.equal(capped[999], 'many/0999');
    } finally {
      kv.close();
    }
  });

  it('refuses malformed keys, prefixes and limits with invalid-argument', async () => {
    const kv = openKvStore(newHome(), 'acme/keys', { maxBytes: 1 << 20 });
    try {
      await kv.set('k'.repeat(256), enc('max'));
      await kv.set('é'.repeat(128), enc('256 bytes'));
      for (const [label, key] of [
        ['empty', ''],
        ['257 bytes', 'k'.repeat(257)],
        ['258 bytes of 2-byte chars', 'é'.repeat(129)],
        ['NUL', 'a\0b'],
        ['lone high surrogate', 'a\ud800'],
        ['lone low surrogate', '\udc00'],
        ['not a string', 42 as unknown as string],
      ] as const) {
        await refuses(kv.set(key, enc('x')), 'invalid-argument').catch((e) => assert.fail(`${label}: ${e}`));
        await refuses(kv.get(key), 'invalid-argument');
        await refuses(kv.delete(key), 'invalid-argument');
      }
      await refuses(kv.set('v', 'text' as unknown as Uint8Array), 'invalid-argument');
      await refuses(kv.listKeys('k'.repeat(257), 1), 'invalid-argument');
      await refuses(kv.listKeys('a\0', 1), 'invalid-argument');
      await refuses(kv.listKeys('', -1), 'invalid-argument');
      await refuses(kv.listKeys('', 1.5), 'invalid-argument');
      assert.deepEqual(await kv.listKeys('', 10), ['k'.repeat(256), 'é'.repeat(128)]);
    } finally {
      kv.close();
    }
  });

  it('counts key bytes plus value bytes against maxBytes, overwrites by their difference', async () => {
    const kv = openKvStore(newHome(), 'acme/bytes', { maxBytes: 100 });
    try {
      await kv.set('k1', new Uint8Array(48)); // 2 + 48
      assert.deepEqual(kv.usage(), { bytes: 50, keys: 1 });
      await kv.set('k2', new Uint8Array(48)); // 2 + 48 = 100: exactly the quota
      assert.deepEqual(kv.usage(), { bytes: 100, keys: 2 });

      const before = await snapshot(kv);
      await refuses(kv.set('k3', new Uint8Array(0)), 'quota-exceeded'); // +2 bytes
      await refuses(kv.set('k1', new Uint8Array(49)), 'quota-exceeded'); // overwrite, +1 byte
      assert.deepEqual(await snapshot(kv), before, 'refused writes change nothing');
      assert.deepEqual(kv.usage(), { bytes: 100, keys: 2 });

      await kv.set('k1', new Uint8Array(8)); // overwrite shrinks by 40
      assert.deepEqual(kv.usage(), { bytes: 60, keys: 2 });
      await kv.set('k1', new Uint8Array(48)); // and may grow back to the quota
      assert.deepEqual(kv.usage(), { bytes: 100, keys: 2 });
      assert.equal(await kv.delete('k2'), true);
      assert.deepEqual(kv.usage(), { bytes: 50, keys: 1 });
      await kv.set('k3', new Uint8Array(48));
      assert.deepEqual(kv.usage(), { bytes: 100, keys: 2 });
    } finally {
      kv.close();
    }
  });

  it('counts keys against maxKeys (overwrites are not new keys)', async () => {
    const kv = openKvStore(newHome(), 'acme/count', { maxBytes: 1 << 20, maxKeys: 3 });
    try {
      for (const k of ['a', 'b', 'c']) await kv.set(k, enc(k));
      await refuses(kv.set('d', enc('d')), 'quota-exceeded');
      await kv.set('a', enc('overwrite is fine'));
      assert.equal(await kv.get('d'), undefined);
      assert.deepEqual(kv.usage(), { bytes: (1 + 17) + (1 + 1) + (1 + 1), keys: 3 });
      await kv.delete('b');
      await kv.set('d', enc('d'));
      assert.deepEqual(await kv.listKeys('', 10), ['a', 'c', 'd']);
    } finally {
      kv.close();
    }
    const def = openKvStore(newHome(), 'acme/default', { maxBytes: 1 << 20 });
    try {
      // The default maxKeys is 10,000 (filled through the API: raw SQL would bypass the accounting).
      for (let i = 0; i < 10_000; i++) await def.set(`k${i}`, new Uint8Array(0));
      await refuses(def.set('one-more', new Uint8Array(0)), 'quota-exceeded');
      assert.equal(def.usage().keys, 10_000);
    } finally {
      def.close();
    }
  });

  it('after a quota cut, keeps data readable and lets the tool shrink it, not grow it', async () => {
    const home = newHome();
    const big = openKvStore(home, 'acme/cut', { maxBytes: 1000 });
    await big.set('k', new Uint8Array(500));
    big.close();
    const small = openKvStore(home, 'acme/cut', { maxBytes: 100 });
    try {
      assert.equal((await small.get('k'))?.length, 500);
      await refuses(small.set('k', new Uint8Array(501)), 'quota-exceeded');
      await small.set('k', new Uint8Array(400));
      assert.deepEqual(small.usage(), { bytes: 401, keys: 1 });
    } finally {
      small.close();
    }
  });

  it('keeps data across close and reopen, and refuses calls after close', async () => {
    const home = newHome();
    const first = openKvStore(home, 'acme/persist', { maxBytes: 1 << 20 });
    await first.set('kept', enc('value'));
    first.close();
    first.close(); // idempotent
    await refuses(first.get('kept'), 'not-available');
    await refuses(first.set('x', enc('y')), 'not-available');
    const second = openKvStore(home, 'acme/persist', { maxBytes: 1 << 20 });
    try {
      assert.equal(dec(await second.get('kept')), 'value');
      assert.deepEqual(second.usage(), { bytes: 4 + 5, keys: 1 });
    } finally {
      second.close();
    }
  });

  it('gives two packages two separate database files', async () => {
    const home = newHome();
    const a = openKvStore(home, 'acme/a', { maxBytes: 1 << 20 });
    const b = openKvStore(home, 'acme/b', { maxBytes: 1 << 20 });
    const other = openKvStore(home, 'other/a', { maxBytes: 1 << 20 });
    try {
      await a.set('shared-name', enc('A'));
      await b.set('shared-name', enc('B'));
      assert.equal(dec(await a.get('shared-name')), 'A');
      assert.equal(dec(await b.get('shared-name')), 'B');
      assert.equal(await other.get('shared-name'), undefined);
      assert.deepEqual(await other.listKeys('', 10), []);
      const paths = ['acme/a', 'acme/b', 'other/a'].map((n) => kvDatabasePath(home, n));
      assert.equal(new Set(paths).size, 3);
      for (const p of paths) assert.ok(existsSync(p), p);
      // Tool data may be private: the folders are owner-only.
      if (process.platform !== 'win32') assert.equal(statSync(dirname(paths[0]!)).mode & 0o077, 0);
    } finally {
      a.close();
      b.close();
      other.close();
    }
  });

  it('refuses package names that could leave the kv folder, and bad quotas', () => {
    const home = newHome();
    for (const name of ['../escape', 'acme/../../x', 'acme/x/y', 'Acme/x', 'acme', '/abs/x', 'acme/.hidden', '']) {
      assert.throws(() => openKvStore(home, name, { maxBytes: 1 }), RangeError, name);
      assert.throws(() => deleteKvData(home, name), RangeError, name);
    }
    for (const quota of [{ maxBytes: 0 }, { maxBytes: 1.5 }, { maxBytes: 2 ** 31 }, { maxBytes: 1, maxKeys: 0 }, { maxBytes: 1, maxKeys: 2_000_000 }]) {
      assert.throws(() => openKvStore(home, 'acme/q', quota), RangeError, JSON.stringify(quota));
    }
    assert.equal(existsSync(join(home, 'kv', 'acme')), false);
  });

  it('deleteKvData removes the database with its -wal and -shm files', async () => {
    const home = newHome();
    const kv = openKvStore(home, 'acme/purge', { maxBytes: 1 << 20 });
    const keep = openKvStore(home, 'acme/keep', { maxBytes: 1 << 20 });
    await kv.set('k', enc('v'));
    await keep.set('k', enc('v'));
    const path = kvDatabasePath(home, 'acme/purge');
    assert.ok(existsSync(`${path}-wal`), 'WAL mode leaves a -wal file while open');
    kv.close();
    // A crash leaves -wal/-shm behind; recreate them to prove they go too.
    writeFileSync(`${path}-wal`, '');
    writeFileSync(`${path}-shm`, '');
    assert.equal(deleteKvData(home, 'acme/purge'), true);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal(existsSync(f), false, f);
    assert.equal(deleteKvData(home, 'acme/purge'), false);
    assert.equal(dec(await keep.get('k')), 'v', 'other packages of the scope are untouched');
    keep.close();
    assert.equal(deleteKvData(home, 'acme/keep'), true);
    assert.equal(existsSync(join(home, 'kv', 'acme')), false, 'the emptied scope folder goes too');
    // A fresh store after a purge starts empty.
    const fresh = openKvStore(home, 'acme/purge', { maxBytes: 1 << 20 });
    assert.deepEqual(fresh.usage(), { bytes: 0, keys: 0 });
    fresh.close();
  });

  it('refuses a damaged or newer database with MPP_E_KV_CORRUPT and leaves it in place', async () => {
    const home = newHome();
    const path = kvDatabasePath(home, 'acme/junk');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'this is not an SQLite database, it is a text file long enough to have a header..........');
    assert.throws(
      () => openKvStore(home, 'acme/junk', { maxBytes: 10 }),
      (e: unknown) => isMppError(e) && e.code === 'MPP_E_KV_CORRUPT' && e.detail?.path === path,
    );
    assert.ok(existsSync(path));

    const newer = openKvStore(home, 'acme/newer', { maxBytes: 10 });
    newer.close();
    const db = openDatabase(kvDatabasePath(home, 'acme/newer'));
    db.exec('PRAGMA user_version = 99');
    db.close();
    assert.throws(
      () => openKvStore(home, 'acme/newer', { maxBytes: 10 }),
      (e: unknown) => isMppError(e) && e.code === 'MPP_E_KV_CORRUPT' && e.detail?.version === 99,
    );

    const altered = openKvStore(home, 'acme/altered', { maxBytes: 10 });
    altered.close();
    const raw = openDatabase(kvDatabasePath(home, 'acme/altered'));
    raw.exec('DROP TABLE usage');
    raw.close();
    assert.throws(
      () => openKvStore(home, 'acme/altered', { maxBytes: 10 }),
      (e: unknown) => isMppError(e) && e.code === 'MPP_E_KV_CORRUPT',
    );
  });
});
