/**
 * The registry's signed documents (spec/registry-api.md): the index, a
 * snapshot of every package with an expiry and a version that only grows,
 * and key-rotation statements. Both are DSSE envelopes like package
 * signatures (envelope.ts), under their own payload types, so a signature
 * made for one kind of document can never be read as another.
 */
import { MppError } from '../errors.ts';
import { parseStrictJson } from '../format/strict-json.ts';
import { compileSchema, describeSchemaError, type Validator } from '../schema.ts';
import { sign, verify } from '../trust/ed25519.ts';
import { pae } from '../trust/envelope.ts';
import { fingerprint, publicKeyFromSpki, type PrivateKey, type PublicKey } from '../trust/keys.ts';
import registrySchema from '../../spec/registry.schema.json' with { type: 'json' };

export const INDEX_PAYLOAD_TYPE = 'application/vnd.mpp.registry-index.v1+json';
export const INDEX_KIND = 'https://mpp.dev/registry-index/v1';
export const ROTATION_PAYLOAD_TYPE = 'application/vnd.mpp.key-rotation.v1+json';
export const ROTATION_KIND = 'https://mpp.dev/key-rotation/v1';
export const YANK_PAYLOAD_TYPE = 'application/vnd.mpp.yank.v1+json';
export const YANK_KIND = 'https://mpp.dev/yank/v1';

export interface IndexVersion {
  readonly sha256: string;
  readonly size: number;
  readonly digest: string;
  readonly publisher: string;
  readonly yanked: boolean;
  readonly publishedAt: string;
}

export interface IndexPackage {
  readonly keys: readonly string[];
  readonly rotations: readonly string[];
  readonly versions: Readonly<Record<string, IndexVersion>>;
}

export interface RegistryIndex {
  readonly _type: typeof INDEX_KIND;
  readonly version: number;
  readonly issuedAt: string;
  readonly expires: string;
  readonly packages: Readonly<Record<string, IndexPackage>>;
}

export interface Rotation {
  readonly _type: typeof ROTATION_KIND;
  readonly from: string;
  readonly fromPublicKey: string;
  readonly to: string;
  readonly toPublicKey: string;
  readonly issuedAt: string;
}

/** A yank or unyank of one version, signed by the key the name is bound to (a token alone never changes a name's state). */
export interface Yank {
  readonly _type: typeof YANK_KIND;
  readonly name: string;
  readonly version: string;
  readonly yanked: boolean;
  /** The signer's key (SPKI base64): its id must be the name's current key. */
  readonly publicKey: string;
  readonly issuedAt: string;
}

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: [{ keyid: string; sig: string }];
}

const validateEnvelope = compileSchema<Envelope>(registrySchema, '#/$defs/envelope');
const validateIndex = compileSchema<RegistryIndex>(registrySchema, '#/$defs/index');
const validateRotation = compileSchema<Rotation>(registrySchema, '#/$defs/rotation');
const validateYank = compileSchema<Yank>(registrySchema, '#/$defs/yank');

export function signDocument(key: PrivateKey, payloadType: string, payload: object): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const envelope: Envelope = {
    payloadType,
    payload: body.toString('base64'),
    signatures: [{ keyid: key.publicKey.keyid, sig: Buffer.from(sign(pae(payloadType, body), key.seed)).toString('base64') }],
  };
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/**
 * Opens a registry-signed index (attacker-controlled bytes): envelope schema,
 * payload type, signer = the pinned key, signature, then the payload schema.
 * Freshness (expiry, version) is the caller's next step.
 */
export function openIndex(bytes: Uint8Array, pinned: PublicKey): RegistryIndex {
  return openDocument(bytes, INDEX_PAYLOAD_TYPE, validateIndex, 'The registry index', (keyid) => (keyid === pinned.keyid ? pinned : undefined));
}

export function createRotation(from: PrivateKey, to: PublicKey, now = new Date()): Buffer {
  const payload: Rotation = {
    _type: ROTATION_KIND,
    from: from.publicKey.keyid,
    fromPublicKey: Buffer.from(from.publicKey.spki).toString('base64'),
    to: to.keyid,
    toPublicKey: Buffer.from(to.spki).toString('base64'),
    issuedAt: now.toISOString(),
  };
  return signDocument(from, ROTATION_PAYLOAD_TYPE, payload);
}

/** Opens a rotation statement: it must be signed by the `from` key it names, and name keys that match their ids. */
export function openRotation(bytes: Uint8Array): Rotation {
  let rotation: Rotation | undefined;
  openDocument(bytes, ROTATION_PAYLOAD_TYPE, validateRotation, 'The key rotation statement', (keyid, payload) => {
    // The signer's key is inside the payload: its shape is checked before it is read.
    checkSchema(validateRotation, payload, 'The key rotation statement');
    rotation = payload;
    const from = keyFromBase64(rotation.fromPublicKey, 'The key rotation statement');
    const to = keyFromBase64(rotation.toPublicKey, 'The key rotation statement');
    if (from.keyid !== rotation.from || to.keyid !== rotation.to || rotation.from === rotation.to) return undefined;
    return keyid === from.keyid ? from : undefined;
  });
  return rotation!;
}

export function createYank(key: PrivateKey, name: string, version: string, yanked: boolean, now = new Date()): Buffer {
  const payload: Yank = { _type: YANK_KIND, name, version, yanked, publicKey: Buffer.from(key.publicKey.spki).toString('base64'), issuedAt: now.toISOString() };
  return signDocument(key, YANK_PAYLOAD_TYPE, payload);
}

/** Opens a yank statement: signed by the key it names; whether that key may yank the name is the caller's check. */
export function openYank(bytes: Uint8Array): Yank & { readonly keyid: string } {
  let yank: Yank | undefined;
  let signer: PublicKey | undefined;
  openDocument(bytes, YANK_PAYLOAD_TYPE, validateYank, 'The yank statement', (keyid, payload) => {
    checkSchema(validateYank, payload, 'The yank statement');
    yank = payload;
    signer = keyFromBase64(yank.publicKey, 'The yank statement');
    return keyid === signer.keyid ? signer : undefined;
  });
  return { ...yank!, keyid: signer!.keyid };
}

/**
 * Follows rotation statements from `from` to `to`: true when `to` is `from`
 * or each step was signed by the key before it. Statements are verified here,
 * not taken from the registry's word.
 */
export function rotationLeadsTo(statements: readonly string[], from: string, to: string): boolean {
  let current = from;
  for (const text of statements) {
    if (current === to) return true;
    const r = openRotation(Buffer.from(text, 'utf8'));
    if (r.from === current) current = r.to;
  }
  return current === to;
}

function keyFromBase64(b64: string, what: string): PublicKey {
  try {
    return publicKeyFromSpki(Buffer.from(b64, 'base64'));
  } catch (e) {
    throw bad(what, 'it names a public key that is not an Ed25519 key', e);
  }
}

function openDocument<T>(bytes: Uint8Array, payloadType: string, validate: Validator<T>, what: string, keyFor: (keyid: string, payload: unknown) => PublicKey | undefined): T {
  let envelope: unknown;
  try {
    envelope = parseStrictJson(bytes);
  } catch (e) {
    throw bad(what, `it is not strict UTF-8 JSON (${(e as Error).message})`, e);
  }
  if (!validateEnvelope(envelope)) throw bad(what, `its envelope is malformed (${describeSchemaError(validateEnvelope.errors)})`);
  if (envelope.payloadType !== payloadType) throw bad(what, `its payload type is ${envelope.payloadType}, not ${payloadType}`);
  const body = Buffer.from(envelope.payload, 'base64');
  let payload: unknown;
  try {
    payload = parseStrictJson(body);
  } catch (e) {
    throw bad(what, `its payload is not strict UTF-8 JSON (${(e as Error).message})`, e);
  }
  const { keyid, sig } = envelope.signatures[0];
  const key = keyFor(keyid, payload);
  if (!key) throw bad(what, `it is signed by ${fingerprint(keyid)}, not by the key it must be signed by`);
  if (!verify(Buffer.from(sig, 'base64'), pae(payloadType, body), key.raw)) throw bad(what, 'its Ed25519 signature does not verify');
  checkSchema(validate, payload, what);
  return payload as T;
}

function checkSchema<T>(validate: Validator<T>, payload: unknown, what: string): asserts payload is T {
  if (!validate(payload)) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${what} is malformed: ${describeSchemaError(validate.errors)}.`);
}

function bad(what: string, why: string, cause?: unknown): MppError {
  return new MppError('MPP_E_REGISTRY_BAD_SIGNATURE', `${what} is refused: ${why}.`, { cause });
}
