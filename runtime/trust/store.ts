import { readFileSync } from 'node:fs';
import { homePaths } from '../home.ts';
import { MppError } from '../errors.ts';
import { compileSchema, describeSchemaError } from '../schema.ts';
import { parseStrictJson } from '../format/strict-json.ts';
import { withFileLock, writeFileAtomic } from '../store/atomic.ts';
import trustSchema from '../../spec/trust-store.schema.json' with { type: 'json' };
import { publicKeyFromSpki, type PublicKey } from './keys.ts';
import type { AuditLog } from '../audit/log.ts';
import type { TrustEvent } from '../audit/events.ts';

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

/**
 * The last document read from each trust store file, by its exact bytes: the
 * file is read on every load, and only the same bytes give back the document
 * they parsed to (a copy; changes mutate what they read). Spares a
 * long-running host the parse, schema check and key decoding on every call.
 */
const lastRead = new Map<string, { readonly bytes: Buffer; readonly doc: TrustDocument }>();

function readDocument(path: string): TrustDocument {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] };
    throw new MppError('MPP_E_IO', `Cannot read the trust store ${path}: ${(e as Error).message}.`, { cause: e });
  }
  const last = lastRead.get(path);
  if (last?.bytes.equals(bytes)) return structuredClone(last.doc);
  const doc = parseDocument(path, bytes);
  lastRead.delete(path);
  // A handful of MPP homes per process at most; bounded all the same.
  if (lastRead.size >= 8) lastRead.delete(lastRead.keys().next().value as string);
  lastRead.set(path, { bytes, doc: structuredClone(doc) });
  return doc;
}

function parseDocument(path: string, bytes: Buffer): TrustDocument {
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

/** How a key came to be trusted: a person's command, a "yes" to trust on first use, or a hand-over signed by a trusted key. */
export type TrustVia = 'command' | 'first-use' | 'rotation';

export type TrustChange =
  | { readonly action: 'add'; readonly key: PublicKey; readonly name: string; readonly via: TrustVia; /** For a rotation: the trusted key that signed the hand-over. */ readonly from?: string }
  | { readonly action: 'remove'; readonly keyid: string }
  | { readonly action: 'revoke'; readonly keyid: string; readonly reason?: string }
  /** Trusts `key` for development builds of `package` only (spec/format.md §10): a new key is no publisher, so the gatekeeper accepts it for nothing else it signs. */
  | { readonly action: 'add-development'; readonly key: PublicKey; readonly name: string; readonly package: string };

/**
 * The one function that changes the trust store (trust add/remove/revoke,
 * trust on first use, key rotation, a development key), and it records each change as a `trust`
 * audit event. The record is written ahead, under the store's lock, after the
 * change was checked and before the file is replaced: a change the log
 * cannot take is not made, and no change is ever made without its record.
 */
export async function changeTrust(home: string, audit: AuditLog, change: TrustChange, now = new Date()): Promise<TrustStore> {
  const path = homePaths(home).trust;
  return withFileLock(path, () => {
    const doc = readDocument(path);
    const event = applyChange(doc, change, now);
    audit.append(event);
    writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n');
    return new TrustStore(doc.keys);
  });
}

function applyChange(doc: TrustDocument, change: TrustChange, now: Date): TrustEvent {
  const at = now.toISOString();
  if (change.action === 'add' || change.action === 'add-development') {
    const { key, name } = change;
    const existing = doc.keys.find((r) => r.keyid === key.keyid);
    if (existing?.revoked) {
      throw new MppError('MPP_E_REVOKED_KEY', `Key ${key.keyid} was revoked${existing.revoked.reason ? ` (${existing.revoked.reason})` : ''} and cannot be trusted.`, {
        hint: 'If the revocation was a mistake, remove it first with `mpp trust remove <keyid>`.',
      });
    }
    if (change.action === 'add-development') {
      // A key already trusted as a publisher keeps that trust and gains this scope.
      let record = existing;
      if (!record) {
        record = { keyid: key.keyid, publicKey: Buffer.from(key.spki).toString('base64'), name, addedAt: at, publisher: false, development: [] };
        doc.keys.push(record);
      }
      record.development = [...new Set([...(record.development ?? []), change.package])].sort();
      return { type: 'trust', action: 'add', keyid: key.keyid, name, via: 'command', development: { package: change.package } };
    }
    const record: TrustRecord = { keyid: key.keyid, publicKey: Buffer.from(key.spki).toString('base64'), name, addedAt: at };
    if (existing) {
      Object.assign(existing, record);
      // Trusted as a publisher now; development scopes it had stay.
      delete existing.publisher;
    } else doc.keys.push(record);
    return { type: 'trust', action: 'add', keyid: key.keyid, name, via: change.via, ...(change.from ? { from: change.from } : {}) };
  }
  if (change.action === 'remove') {
    const i = doc.keys.findIndex((r) => r.keyid === change.keyid);
    if (i < 0) throw unknownKey(change.keyid);
    doc.keys.splice(i, 1);
    return { type: 'trust', action: 'remove', keyid: change.keyid };
  }
  // Revokes by key id (the key need not have been trusted): packages it signed are refused from now on.
  let record = doc.keys.find((r) => r.keyid === change.keyid);
  if (!record) {
    record = { keyid: change.keyid, addedAt: at };
    doc.keys.push(record);
  }
  record.revoked = { at, ...(change.reason ? { reason: change.reason } : {}) };
  return { type: 'trust', action: 'revoke', keyid: change.keyid };
}

function unknownKey(keyid: string): MppError {
  return new MppError('MPP_E_TRUST_UNKNOWN', `The trust store has no key ${keyid}.`, { hint: 'List known keys with `mpp trust list`.' });
}
