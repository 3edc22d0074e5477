import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { MppError } from '../errors.ts';
import { isAcceptablePublicKey, newSeed, publicKeyFromSeed } from './ed25519.ts';

/**
 * Keys travel as standard PEM (private: PKCS#8, public: SPKI) so OpenSSL and
 * node:crypto read them without MPP. PEM/DER parsing is node:crypto's; MPP
 * only moves the raw 32-byte values in and out of it.
 */
export interface PublicKey {
  /** Raw 32-byte Ed25519 public key. */
  readonly raw: Uint8Array;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** Lowercase hex SHA-256 of the SPKI DER: `openssl pkey -pubin -outform DER | sha256sum`. */
  readonly keyid: string;
}

export interface PrivateKey {
  readonly seed: Uint8Array;
  readonly publicKey: PublicKey;
}

const invalidKey = (what: string, cause?: unknown): never => {
  throw new MppError('MPP_E_KEY_INVALID', `${what} is not an Ed25519 key in the expected PEM format.`, {
    hint: 'Create keys with `mpp keygen` or `openssl genpkey -algorithm ed25519`.',
    cause,
  });
};

export function generateKey(): PrivateKey {
  const seed = newSeed();
  return { seed, publicKey: publicKeyFromRaw(publicKeyFromSeed(seed)) };
}

export function publicKeyFromRaw(raw: Uint8Array): PublicKey {
  if (raw.length !== 32) invalidKey('A raw public key of the wrong length');
  const object = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
  return fromPublicKeyObject(object);
}

export function publicKeyFromSpki(spki: Uint8Array): PublicKey {
  let object: KeyObject;
  try {
    object = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    return invalidKey('The embedded public key', e);
  }
  return fromPublicKeyObject(object);
}

/** Reads a public key PEM, or the public half of a private key PEM. */
export function parsePublicKeyPem(pem: string, what = 'The key file'): PublicKey {
  let object: KeyObject;
  try {
    object = createPublicKey(pem);
  } catch (e) {
    return invalidKey(what, e);
  }
  return fromPublicKeyObject(object, what);
}

export function parsePrivateKeyPem(pem: string, what = 'The key file'): PrivateKey {
  let object: KeyObject;
  try {
    object = createPrivateKey(pem);
  } catch (e) {
    return invalidKey(what, e);
  }
  if (object.asymmetricKeyType !== 'ed25519') invalidKey(what);
  const jwk = object.export({ format: 'jwk' });
  const seed = new Uint8Array(Buffer.from(jwk.d ?? '', 'base64url'));
  if (seed.length !== 32) invalidKey(what);
  return { seed, publicKey: fromPublicKeyObject(createPublicKey(object), what) };
}

export function privateKeyToPem(key: PrivateKey): string {
  const object = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(key.seed).toString('base64url'), x: Buffer.from(key.publicKey.raw).toString('base64url') },
    format: 'jwk',
  });
  return object.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function publicKeyToPem(key: PublicKey): string {
  return createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

/** Short, human-comparable form: `ed25519:` and the first 16 hex digits of the key id in groups. */
export function fingerprint(keyid: string): string {
  return `ed25519:${keyid.slice(0, 16).replace(/(.{4})(?!$)/g, '$1 ')}`;
}

function fromPublicKeyObject(object: KeyObject, what = 'The key'): PublicKey {
  if (object.asymmetricKeyType !== 'ed25519') return invalidKey(what);
  const spki = new Uint8Array(object.export({ format: 'der', type: 'spki' }));
  const raw = new Uint8Array(Buffer.from(object.export({ format: 'jwk' }).x ?? '', 'base64url'));
  if (raw.length !== 32 || !isAcceptablePublicKey(raw)) invalidKey(what);
  return Object.freeze({ raw, spki, keyid: createHash('sha256').update(spki).digest('hex') });
}
