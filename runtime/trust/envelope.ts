import { MppError } from '../errors.ts';
import { compileSchema, describeSchemaError } from '../schema.ts';
import signatureSchema from '../../spec/signature.schema.json' with { type: 'json' };
import { parseStrictJson } from '../format/strict-json.ts';
import { sign, verify } from './ed25519.ts';
import { publicKeyFromSpki, type PrivateKey, type PublicKey } from './keys.ts';

/**
 * A signature entry is a DSSE envelope (github.com/secure-systems-lab/dsse)
 * over a small JSON payload that binds the package digest, name, version and
 * the signer's role. Spec: spec/signing.md.
 */
export const PAYLOAD_TYPE = 'application/vnd.mpp.signature.v1+json';
export const PAYLOAD_KIND = 'https://mpp.dev/signature/v1';

export type SignatureRole = 'author' | 'registry';

export interface SignaturePayload {
  _type: typeof PAYLOAD_KIND;
  role: SignatureRole;
  package: { name: string; version: string };
  digest: { sha256: string };
  publicKey: string;
}

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: [{ keyid: string; sig: string }];
}

/** A signature whose cryptography checked out; whether its key is trusted is decided later. */
export interface VerifiedSignature {
  readonly role: SignatureRole;
  readonly key: PublicKey;
  readonly package: { readonly name: string; readonly version: string };
  readonly digest: string;
}

const validateEnvelope = compileSchema<Envelope>(signatureSchema, '#/$defs/envelope');
const validatePayload = compileSchema<SignaturePayload>(signatureSchema, '#/$defs/payload');

/** DSSE pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
export function pae(payloadType: string, body: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

export function createEnvelope(key: PrivateKey, role: SignatureRole, pkg: { name: string; version: string }, digest: string): Uint8Array {
  const payload: SignaturePayload = {
    _type: PAYLOAD_KIND,
    role,
    package: { name: pkg.name, version: pkg.version },
    digest: { sha256: digest },
    publicKey: Buffer.from(key.publicKey.spki).toString('base64'),
  };
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const sig = sign(pae(PAYLOAD_TYPE, body), key.seed);
  const envelope: Envelope = {
    payloadType: PAYLOAD_TYPE,
    payload: body.toString('base64'),
    signatures: [{ keyid: key.publicKey.keyid, sig: Buffer.from(sig).toString('base64') }],
  };
  return Buffer.from(JSON.stringify(envelope, null, 2) + '\n', 'utf8');
}

/**
 * Parses and cryptographically verifies one signature entry (attacker-controlled
 * bytes). Checks, in order: JSON and schema of the envelope, payload schema,
 * key id = SHA-256 of the embedded key = the entry's file name, and the
 * Ed25519 signature over PAE(payloadType, payload). Binding to this package's
 * digest is the caller's next step.
 */
export function openEnvelope(entryName: string, bytes: Uint8Array): VerifiedSignature {
  const bad = (why: string, cause?: unknown): never => {
    throw new MppError('MPP_E_BAD_SIGNATURE', `Signature ${entryName} is refused: ${why}.`, {
      hint: 'The package was altered or signed incorrectly. Ask the publisher for an intact copy.',
      detail: { entry: entryName },
      cause,
    });
  };
  let envelope: unknown;
  try {
    envelope = parseStrictJson(bytes);
  } catch (e) {
    return bad(`it is not strict UTF-8 JSON (${(e as Error).message})`, e);
  }
  if (!validateEnvelope(envelope)) return bad(`the envelope is malformed (${describeSchemaError(validateEnvelope.errors)})`);
  const body = Buffer.from(envelope.payload, 'base64');
  let payload: unknown;
  try {
    payload = parseStrictJson(body);
  } catch (e) {
    return bad(`its payload is not strict UTF-8 JSON (${(e as Error).message})`, e);
  }
  if (!validatePayload(payload)) return bad(`its payload is malformed (${describeSchemaError(validatePayload.errors)})`);
  const embedded = Buffer.from(payload.publicKey, 'base64');
  let key: PublicKey;
  try {
    key = publicKeyFromSpki(embedded);
  } catch (e) {
    return bad('the embedded public key is not an Ed25519 key', e);
  }
  // The key id is the hash of these exact bytes: refuse any encoding but the canonical one.
  if (!embedded.equals(key.spki)) bad('the embedded public key is not canonically encoded');
  const claimed = envelope.signatures[0].keyid;
  if (key.keyid !== claimed) bad('the key id does not match the embedded public key');
  if (entryName !== `signatures/${claimed}.json`) bad('the entry name does not match its key id');
  const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
  if (!verify(sig, pae(envelope.payloadType, body), key.raw)) bad('the Ed25519 signature does not verify');
  return Object.freeze({
    role: payload.role,
    key,
    package: Object.freeze({ name: payload.package.name, version: payload.package.version }),
    digest: payload.digest.sha256,
  });
}
