import { randomBytes } from 'node:crypto';
import { MppError } from '../errors.ts';
import { homePaths } from '../home.ts';
import { StateTable } from '../state/sqlite.ts';
import type { PrivateKey, PublicKey } from '../trust/keys.ts';
import { openStatement, payloadValidator, signStatement } from '../trust/statement.ts';

/**
 * One-time attestations (spec/governance.md): when the human approves an
 * operation, the host signs a statement binding exactly what was approved
 * (package digest, tool, operation, arguments digest, agent) with a nonce and
 * an expiry. The call consumes it once, in the one UPDATE that checks
 * it was never consumed; auditors verify it offline with the host's public key.
 */
const PAYLOAD_TYPE = 'application/vnd.mpp.attestation.v1+json';
const KIND = 'https://mpp.dev/attestation/v1';

export interface AttestationBinding {
  readonly package: { readonly name: string; readonly version: string; readonly digest: string };
  readonly tool: string;
  readonly operation: string;
  readonly argumentsSha256: string;
  readonly agent: { readonly id: string; readonly verified: boolean };
}

export interface AttestationPayload extends AttestationBinding {
  readonly _type: typeof KIND;
  readonly nonce: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

export interface Attestation {
  /** The signed envelope, compact JSON: what the audit log keeps. */
  readonly envelope: string;
  readonly payload: AttestationPayload;
}

const validatePayload = payloadValidator<AttestationPayload>('attestation');

const SCHEMA = `CREATE TABLE IF NOT EXISTS attestations (
  nonce TEXT PRIMARY KEY NOT NULL,
  expires_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('issued', 'consumed'))
) STRICT`;

/** The table of issued nonces: an attestation counts only if this host issued it and it was never consumed. */
export class AttestationLedger extends StateTable {
  private constructor(path: string) {
    super(path, 'attestation ledger', SCHEMA);
  }

  static open(home: string): AttestationLedger {
    return new AttestationLedger(homePaths(home).db);
  }

  issue(key: PrivateKey, binding: AttestationBinding, ttlMs: number, now = new Date()): Attestation {
    const payload: AttestationPayload = {
      _type: KIND,
      package: { name: binding.package.name, version: binding.package.version, digest: binding.package.digest },
      tool: binding.tool,
      operation: binding.operation,
      argumentsSha256: binding.argumentsSha256,
      agent: { id: binding.agent.id, verified: binding.agent.verified },
      nonce: randomBytes(16).toString('hex'),
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    };
    const envelope = signStatement(key, PAYLOAD_TYPE, payload);
    this.guard(() => {
      // Expired nonces are dropped as new ones come: the table stays small,
      // and an expired attestation is refused on its expiry before its nonce is looked up.
      this.db.prepare('DELETE FROM attestations WHERE expires_at < ?').run(new Date(now.getTime() - 3600_000).toISOString());
      this.db.prepare("INSERT INTO attestations (nonce, expires_at, state) VALUES (?, ?, 'issued')").run(payload.nonce, payload.expiresAt);
    });
    return Object.freeze({ envelope, payload: Object.freeze(payload) });
  }

  /**
   * Checks `envelope` against the call being made and consumes it: a forged,
   * altered, mismatched, expired, replayed or unknown attestation is refused
   * with its own code.
   */
  consume(hostKey: PublicKey, envelope: string, expected: AttestationBinding, now = new Date()): AttestationPayload {
    const payload = verifyAttestation(envelope, hostKey);
    const mismatch = differs(payload, expected);
    if (mismatch) throw new MppError('MPP_E_ATTESTATION_MISMATCH', `The attestation was issued for another ${mismatch}.`, { detail: { nonce: payload.nonce, field: mismatch } });
    if (Date.parse(payload.expiresAt) <= now.getTime()) throw new MppError('MPP_E_ATTESTATION_EXPIRED', `The attestation expired at ${payload.expiresAt}.`, { detail: { nonce: payload.nonce } });
    // One UPDATE is atomic: of two racing consumers exactly one changes the row.
    const consumed = this.guard(() => Number(this.db.prepare("UPDATE attestations SET state = 'consumed' WHERE nonce = ? AND state = 'issued'").run(payload.nonce).changes));
    if (consumed !== 1) throw new MppError('MPP_E_ATTESTATION_REPLAYED', `The attestation ${payload.nonce} was already used, or was not issued by this host.`, { detail: { nonce: payload.nonce } });
    return payload;
  }
}

function differs(p: AttestationPayload, e: AttestationBinding): string | undefined {
  if (p.package.name !== e.package.name || p.package.version !== e.package.version || p.package.digest !== e.package.digest) return 'package';
  if (p.tool !== e.tool) return 'tool';
  if (p.operation !== e.operation) return 'operation';
  if (p.argumentsSha256 !== e.argumentsSha256) return 'set of arguments';
  if (p.agent.id !== e.agent.id || p.agent.verified !== e.agent.verified) return 'agent';
  return undefined;
}

/** Offline check (auditors): the envelope is well-formed and signed by `hostKey`. Says nothing about consumption. */
export function verifyAttestation(envelope: string, hostKey: PublicKey): AttestationPayload {
  return openStatement<AttestationPayload>(envelope, {
    payloadType: PAYLOAD_TYPE,
    validate: validatePayload,
    keyFor: (keyid) => (keyid === hostKey.keyid ? hostKey : undefined),
    code: 'MPP_E_ATTESTATION_INVALID',
    what: 'attestation',
  }).payload;
}
