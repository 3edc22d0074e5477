import { MppError, type ErrorCode } from '../errors.ts';
import { parseStrictJson } from '../format/strict-json.ts';
import { compileSchema, describeSchemaError, type Validator } from '../schema.ts';
import governanceSchema from '../../spec/governance.schema.json' with { type: 'json' };
import { sign, verify } from './ed25519.ts';
import { pae } from './envelope.ts';
import type { PrivateKey, PublicKey } from './keys.ts';

/**
 * Signed statements other than package signatures (agent credentials, host
 * attestations): DSSE envelopes with one Ed25519 signature, like
 * spec/signing.md, over a JSON payload whose schema depends on its type.
 */
export type StatementType = 'application/vnd.mpp.agent-credential.v1+json' | 'application/vnd.mpp.attestation.v1+json';

interface Envelope {
  payloadType: StatementType;
  payload: string;
  signatures: [{ keyid: string; sig: string }];
}

const validateEnvelope = compileSchema<Envelope>(governanceSchema, '#/$defs/envelope');

export function payloadValidator<T>(def: 'agentCredential' | 'attestation'): Validator<T> {
  return compileSchema<T>(governanceSchema, `#/$defs/${def}`);
}

/** The envelope as compact JSON text (one line: it travels in headers, env vars and audit records). */
export function signStatement(key: PrivateKey, payloadType: StatementType, payload: object): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const sig = sign(pae(payloadType, body), key.seed);
  const envelope: Envelope = { payloadType, payload: body.toString('base64'), signatures: [{ keyid: key.publicKey.keyid, sig: Buffer.from(sig).toString('base64') }] };
  return JSON.stringify(envelope);
}

export interface OpenOptions<T> {
  readonly payloadType: StatementType;
  readonly validate: Validator<T>;
  /** The key a key id stands for, if the verifier knows it (attacker-controlled id: look up, never fetch). */
  readonly keyFor: (keyid: string) => PublicKey | undefined;
  /** Code and noun for refusals. */
  readonly code: ErrorCode;
  readonly what: string;
}

/** Parses (attacker-controlled text), checks the schema, then the signature with a key the verifier already has. */
export function openStatement<T>(text: string | Uint8Array, opts: OpenOptions<T>): { payload: T; key: PublicKey } {
  const bad = (why: string, cause?: unknown): never => {
    throw new MppError(opts.code, `The ${opts.what} is refused: ${why}.`, { cause });
  };
  let envelope: unknown;
  try {
    envelope = parseStrictJson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  } catch (e) {
    return bad('it is not strict JSON', e);
  }
  if (!validateEnvelope(envelope)) return bad(`the envelope is malformed (${describeSchemaError(validateEnvelope.errors)})`);
  if (envelope.payloadType !== opts.payloadType) return bad(`it is a ${envelope.payloadType} statement`);
  const key = opts.keyFor(envelope.signatures[0].keyid);
  if (!key) return bad('it is signed by a key this host does not know for it');
  const body = Buffer.from(envelope.payload, 'base64');
  if (!verify(Buffer.from(envelope.signatures[0].sig, 'base64'), pae(envelope.payloadType, body), key.raw)) return bad('the signature does not verify');
  let payload: unknown;
  try {
    payload = parseStrictJson(body);
  } catch (e) {
    return bad('its payload is not strict JSON', e);
  }
  if (!opts.validate(payload)) return bad(`its payload is malformed (${describeSchemaError(opts.validate.errors)})`);
  return { payload, key };
}
