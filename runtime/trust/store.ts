import { readFileSync } from 'node:fs';
import { homePaths } from '../home.ts';
import { MppError } from '../errors.ts';
import { compileSchema, describeSchemaError } from '../schema.ts';
import { parseStrictJson } from '../format/strict-json.ts';
import { withFileLock, writeFileAtomic } from '../store/atomic.ts';
import trustSchema from '../../spec/trust-store.schema.json' with { type: 'json' };
import { publicKeyFromSpki, type PublicKey } from './keys.ts';

export interface TrustRecord {
  keyid: string;
  publicKey?: string;
  name?: string;
  addedAt: string;
  revoked?: { at: string; reason?: string };
  /** false: not a publisher key, trusted only for the development builds listed in `development`. */
  publisher?: false;
  /** Package names whose development builds this key may sign (spec/format.md, "Development packages"). */
  development?: string[];
}

interface TrustDocument {
  version: 1;
  keys: TrustRecord[];
}

export type KeyState = 'trusted' | 'revoked' | 'unknown';

/** What the gatekeeper asks of a trust source. */
export interface TrustView {
  state(keyid: string): KeyState;
  name(keyid: string): string | undefined;
  /** Whether development builds of `packageName` signed by this key are accepted; absent: never. */
  trustsForDevelopment?(keyid: string, packageName: string): boolean;
}

const validate = compileSchema<TrustDocument>(trustSchema);


/** A snapshot of the trust store; writes go through the functions below. */
export class TrustStore implements TrustView {
  readonly records: readonly TrustRecord[];

  constructor(records: readonly TrustRecord[]) {
    this.records = records;
  }

  static load(home: string): TrustStore {
    return new TrustStore(readDocument(homePaths(home).trust).keys);
  }

  find(keyid: string): TrustRecord | undefined {
    return this.records.find((r) => r.keyid === keyid);
  }

  state(keyid: string): KeyState {
    const r = this.find(keyid);
    if (!r) return 'unknown';
    if (r.revoked) return 'revoked';
    // A key trusted for development builds only vouches for nothing else.
    return r.publisher === false ? 'unknown' : 'trusted';
  }

  trustsForDevelopment(keyid: string, packageName: string): boolean {
    const r = this.find(keyid);
    return r !== undefined && !r.revoked && (r.development ?? []).includes(packageName);
  }

  name(keyid: string): string | undefined {
    return this.find(keyid)?.name;
  }
}

/** Trusts exactly one key (e.g. `mpp verify --key`), still honouring the store's revocations. */
export function singleKeyTrust(key: PublicKey, name: string, store: TrustView): TrustView {
  return {
    state: (keyid) => (store.state(keyid) === 'revoked' ? 'revoked' : keyid === key.keyid ? 'trusted' : 'unknown'),
    name: (keyid) => (keyid === key.keyid ? name : store.name(keyid)),
  };
}

function readDocument(path: string): TrustDocument {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] };
    throw new MppError('MPP_E_IO', `Cannot read the trust store ${path}: ${(e as Error).message}.`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes);
  } catch (e) {
    return corrupt(path, `it is not strict JSON (${(e as Error).message})`, e);
  }
  if (!validate(doc)) return corrupt(path, describeSchemaError(validate.errors));
  const seen = new Set<string>();
  for (const r of doc.keys) {
    if (seen.has(r.keyid)) corrupt(path, `key ${r.keyid} is listed twice`);
    seen.add(r.keyid);
    if (r.publicKey && keyidOf(r.publicKey, path) !== r.keyid) corrupt(path, `key ${r.keyid} does not match its public key`);
  }
  return doc;
}

/** A stored key that is not an acceptable Ed25519 key is damage to the store, not a key file the user gave. */
function keyidOf(publicKey: string, path: string): string {
  try {
    return publicKeyFromSpki(Buffer.from(publicKey, 'base64')).keyid;
  } catch (e) {
    return corrupt(path, 'a stored public key is not an acceptable Ed25519 key', e);
  }
}

function corrupt(path: string, why: string, cause?: unknown): never {
  throw new MppError('MPP_E_TRUST_STORE_CORRUPT', `The trust store ${path} is unusable: ${why}.`, {
    hint: 'Restore it from a backup, or move it away and re-add the keys you trust with `mpp trust add`.',
    cause,
  });
}

async function update(home: string, mutate: (doc: TrustDocument) => void): Promise<TrustStore> {
  const path = homePaths(home).trust;
  return withFileLock(path, () => {
    const doc = readDocument(path);
    mutate(doc);
    writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n');
    return new TrustStore(doc.keys);
  });
}

export function addTrustedKey(home: string, key: PublicKey, name: string, now = new Date()): Promise<TrustStore> {
  return update(home, (doc) => {
    const existing = doc.keys.find((r) => r.keyid === key.keyid);
    if (existing?.revoked) {
      throw new MppError('MPP_E_REVOKED_KEY', `Key ${key.keyid} was revoked${existing.revoked.reason ? ` (${existing.revoked.reason})` : ''} and cannot be trusted.`, {
        hint: 'If the revocation was a mistake, remove it first with `mpp trust remove <keyid>`.',
      });
    }
    const record: TrustRecord = { keyid: key.keyid, publicKey: Buffer.from(key.spki).toString('base64'), name, addedAt: now.toISOString() };
    if (existing) {
      Object.assign(existing, record);
      // Trusted as a publisher now; development scopes it had stay.
      delete existing.publisher;
    } else doc.keys.push(record);
  });
}

/**
 * Trusts `key` for development builds of `packageName` only (spec/format.md):
 * a key already trusted as a publisher keeps that trust and gains this one; a
 * new key is recorded as no publisher at all, so the gatekeeper accepts it for
 * nothing else it signs. A revoked key is refused, as by addTrustedKey.
 */
export function trustKeyForDevelopment(home: string, key: PublicKey, name: string, packageName: string, now = new Date()): Promise<TrustStore> {
  return update(home, (doc) => {
    let record = doc.keys.find((r) => r.keyid === key.keyid);
    if (record?.revoked) {
      throw new MppError('MPP_E_REVOKED_KEY', `Key ${key.keyid} was revoked${record.revoked.reason ? ` (${record.revoked.reason})` : ''} and cannot be trusted.`, {
        hint: 'Create a new key with `mpp keygen --force` (or remove the revocation with `mpp trust remove <keyid>` if it was a mistake).',
      });
    }
    if (!record) {
      record = { keyid: key.keyid, publicKey: Buffer.from(key.spki).toString('base64'), name, addedAt: now.toISOString(), publisher: false, development: [] };
      doc.keys.push(record);
    }
    const scoped = new Set(record.development ?? []);
    scoped.add(packageName);
    record.development = [...scoped].sort();
  });
}

export function removeKey(home: string, keyid: string): Promise<TrustStore> {
  return update(home, (doc) => {
    const i = doc.keys.findIndex((r) => r.keyid === keyid);
    if (i < 0) throw unknownKey(keyid);
    doc.keys.splice(i, 1);
  });
}

/** Revokes by key id (the key need not have been trusted): packages it signed are refused from now on. */
export function revokeKey(home: string, keyid: string, reason: string | undefined, now = new Date()): Promise<TrustStore> {
  return update(home, (doc) => {
    let record = doc.keys.find((r) => r.keyid === keyid);
    if (!record) {
      record = { keyid, addedAt: now.toISOString() };
      doc.keys.push(record);
    }
    record.revoked = { at: now.toISOString(), ...(reason ? { reason } : {}) };
  });
}

function unknownKey(keyid: string): MppError {
  return new MppError('MPP_E_TRUST_UNKNOWN', `The trust store has no key ${keyid}.`, { hint: 'List known keys with `mpp trust list`.' });
}
