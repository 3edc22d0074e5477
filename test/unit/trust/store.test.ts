import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isMppError } from '../../../runtime/errors.ts';
import { generateKey } from '../../../runtime/trust/keys.ts';
import { TrustStore, singleKeyTrust, type TrustRecord } from '../../../runtime/trust/store.ts';
import { addTrustedKey, removeKey, revokeKey } from '../../helpers/trust.ts';
import { homePaths } from '../../../runtime/home.ts';
import { tempDir } from '../../helpers/cli.ts';

const code = (expected: string) => (e: unknown) => isMppError(e) && e.code === expected;

describe('trust store', () => {
  it('starts empty, then trusts, revokes and forgets keys', async (t) => {
    const home = tempDir(t, 'trust');
    const a = generateKey().publicKey;
    const b = generateKey().publicKey;
    assert.equal(TrustStore.load(home).state(a.keyid), 'unknown');
    await addTrustedKey(home, a, 'Alice');
    await addTrustedKey(home, b, 'Bob');
    let store = TrustStore.load(home);
    assert.equal(store.state(a.keyid), 'trusted');
    assert.equal(store.name(a.keyid), 'Alice');
    await revokeKey(home, a.keyid, 'laptop stolen');
    store = TrustStore.load(home);
    assert.equal(store.state(a.keyid), 'revoked');
    assert.equal(store.state(b.keyid), 'trusted');
    await assert.rejects(addTrustedKey(home, a, 'Alice again'), code('MPP_E_REVOKED_KEY'));
    await removeKey(home, b.keyid);
    assert.equal(TrustStore.load(home).state(b.keyid), 'unknown');
    await assert.rejects(removeKey(home, b.keyid), code('MPP_E_TRUST_UNKNOWN'));
  });

  it('can revoke a key it never trusted', async (t) => {
    const home = tempDir(t, 'trust');
    const k = generateKey().publicKey;
    await revokeKey(home, k.keyid, undefined);
    assert.equal(TrustStore.load(home).state(k.keyid), 'revoked');
  });

  it('a single-key view trusts only that key and still honours revocations', async (t) => {
    const home = tempDir(t, 'trust');
    const k = generateKey().publicKey;
    const other = generateKey().publicKey;
    assert.equal(singleKeyTrust(k, 'given', TrustStore.load(home)).state(k.keyid), 'trusted');
    assert.equal(singleKeyTrust(k, 'given', TrustStore.load(home)).state(other.keyid), 'unknown');
    await revokeKey(home, k.keyid, 'x');
    assert.equal(singleKeyTrust(k, 'given', TrustStore.load(home)).state(k.keyid), 'revoked');
  });

  it('refuses a corrupt or tampered store file with its own code', (t) => {
    const home = tempDir(t, 'trust');
    writeFileSync(homePaths(home).trust, '{"version":1,"keys":[');
    assert.throws(() => TrustStore.load(home), code('MPP_E_TRUST_STORE_CORRUPT'));
    const k = generateKey().publicKey;
    const other = generateKey().publicKey;
    writeFileSync(homePaths(home).trust, JSON.stringify({ version: 1, keys: [{ keyid: k.keyid, publicKey: Buffer.from(other.spki).toString('base64'), name: 'x', addedAt: 'now' }] }));
    assert.throws(() => TrustStore.load(home), code('MPP_E_TRUST_STORE_CORRUPT'));
    writeFileSync(homePaths(home).trust, JSON.stringify({ version: 1, keys: [], extra: true }));
    assert.throws(() => TrustStore.load(home), code('MPP_E_TRUST_STORE_CORRUPT'));
  });

  it('reads the file on every load: other bytes of the same size and time are what counts, and a loaded store changed in memory never reaches the next load', (t) => {
    const home = tempDir(t, 'trust');
    const path = homePaths(home).trust;
    const k = generateKey().publicKey;
    const other = generateKey().publicKey;
    const doc = (name: string, spki = k.spki) => JSON.stringify({ version: 1, keys: [{ keyid: k.keyid, publicKey: Buffer.from(spki).toString('base64'), name, addedAt: 'now' }] });
    const write = (text: string) => {
      writeFileSync(path, text);
      utimesSync(path, 1_000_000, 1_000_000);
    };
    write(doc('aaaa'));
    const first = TrustStore.load(home);
    assert.equal(first.name(k.keyid), 'aaaa');
    (first.records as TrustRecord[])[0]!.revoked = { at: 'then' };
    assert.equal(TrustStore.load(home).state(k.keyid), 'trusted');
    write(doc('bbbb'));
    assert.equal(TrustStore.load(home).name(k.keyid), 'bbbb');
    // The same length, another key's bytes under this keyid: damage, found again.
    write(doc('bbbb', other.spki));
    assert.throws(() => TrustStore.load(home), code('MPP_E_TRUST_STORE_CORRUPT'));
    write(doc('aaaa'));
    assert.equal(TrustStore.load(home).state(k.keyid), 'trusted');
  });

  it('loses no update when several processes add keys at once', async (t) => {
    const home = tempDir(t, 'trust');
    const writer = fileURLToPath(new URL('./trust-writer.ts', import.meta.url));
    const n = 8;
    const codes = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<number>((resolve) => {
      spawn(process.execPath, [writer, home, `writer-${i}`], { stdio: 'inherit' }).on('close', (c) => resolve(c ?? -1));
    })));
    assert.deepEqual(codes, Array(n).fill(0));
    const names = TrustStore.load(home).records.map((r) => r.name).sort();
    assert.deepEqual(names, Array.from({ length: n }, (_, i) => `writer-${i}`).sort());
  });
});
