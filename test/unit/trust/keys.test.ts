import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify as nodeVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { fingerprint, generateKey, parsePrivateKeyPem, parsePublicKeyPem, privateKeyToPem, publicKeyFromSpki, publicKeyToPem } from '../../../runtime/trust/keys.ts';
import { isAcceptablePublicKey, sign, verify } from '../../../runtime/trust/ed25519.ts';
import { tempDir } from '../../helpers/cli.ts';

const invalidKey = (e: unknown) => isMppError(e) && e.code === 'MPP_E_KEY_INVALID';

describe('keys', () => {
  it('round-trips through PKCS#8 and SPKI PEM', () => {
    const key = generateKey();
    const back = parsePrivateKeyPem(privateKeyToPem(key));
    assert.deepEqual(back.seed, key.seed);
    assert.equal(back.publicKey.keyid, key.publicKey.keyid);
    assert.equal(parsePublicKeyPem(publicKeyToPem(key.publicKey)).keyid, key.publicKey.keyid);
    assert.equal(parsePublicKeyPem(privateKeyToPem(key)).keyid, key.publicKey.keyid, 'the public half of a private key file');
  });

  it('reads keys made by OpenSSL, and the key id is the SHA-256 of what OpenSSL exports as DER', (t) => {
    const dir = tempDir(t, 'openssl');
    const priv = join(dir, 'k.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', priv]);
    const der = execFileSync('openssl', ['pkey', '-in', priv, '-pubout', '-outform', 'DER']);
    const key = parsePrivateKeyPem(execFileSync('cat', [priv]).toString());
    assert.equal(key.publicKey.keyid, createHash('sha256').update(der).digest('hex'));
  });

  it('refuses keys of other algorithms and garbage', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => parsePrivateKeyPem(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), invalidKey);
    assert.throws(() => parsePublicKeyPem(ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()), invalidKey);
    assert.throws(() => parsePublicKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), invalidKey);
    assert.throws(() => parsePrivateKeyPem('not a key'), invalidKey);
  });

  it('shows a short grouped fingerprint', () => {
    assert.equal(fingerprint('0123456789abcdef' + '0'.repeat(48)), 'ed25519:0123 4567 89ab cdef');
  });
});

describe('ed25519', () => {
  const key = generateKey();
  const msg = Buffer.from('message');
  it('verifies its own signatures and rejects any change', () => {
    const sig = sign(msg, key.seed);
    assert.equal(verify(sig, msg, key.publicKey.raw), true);
    assert.equal(verify(sig, Buffer.from('messagf'), key.publicKey.raw), false);
    const bent = new Uint8Array(sig);
    bent[0] = bent[0]! ^ 1;
    assert.equal(verify(bent, msg, key.publicKey.raw), false);
  });
  it('returns false, never throws, on malformed input', () => {
    assert.equal(verify(new Uint8Array(63), msg, key.publicKey.raw), false);
    assert.equal(verify(new Uint8Array(64), msg, new Uint8Array(31)), false);
    assert.equal(verify(new Uint8Array(64).fill(0xff), msg, new Uint8Array(32).fill(0xff)), false);
  });
  it('refuses small-order keys: under the identity point, (R = B, S = 1) would verify any message', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const forgery = new Uint8Array(64);
    forgery.set(ed.Point.BASE.toBytes());
    forgery[32] = 1;
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), identity]);
    assert.equal(nodeVerify(null, msg, createPublicKey({ key: spki, format: 'der', type: 'spki' }), forgery), true, 'OpenSSL alone accepts it');
    assert.equal(verify(forgery, msg, identity), false);
    assert.throws(() => publicKeyFromSpki(spki), invalidKey, 'such a key cannot be parsed, so never trusted');
  });
  it('refuses a non-canonical public key encoding (y = p + 1 for y = 1)', () => {
    const p = (1n << 255n) - 19n;
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = Number(((p + 1n) >> BigInt(8 * i)) & 0xffn);
    assert.equal(isAcceptablePublicKey(bytes), false);
    assert.equal(isAcceptablePublicKey(key.publicKey.raw), true);
  });
  it('refuses a non-canonical S (s + L), as RFC 8032 strict verification requires', () => {
    const sig = sign(msg, key.seed);
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    const big = s + L;
    const malleable = new Uint8Array(sig);
    for (let i = 0; i < 32; i++) malleable[32 + i] = Number((big >> BigInt(8 * i)) & 0xffn);
    assert.equal(verify(malleable, msg, key.publicKey.raw), false);
  });
});
