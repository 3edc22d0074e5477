import { MppError } from '../errors.ts';
import type { Caller } from '../sandbox/host-services.ts';
import type { AgentRegistry } from '../state/agents.ts';
import { checkAgentId } from '../state/agents.ts';
import type { PrivateKey } from '../trust/keys.ts';
import { openStatement, payloadValidator, signStatement } from '../trust/statement.ts';

/**
 * Agent credentials (spec/governance.md): a statement "I am agent X until T"
 * signed with the agent's registered key. A caller without one is labelled
 * `unverified:<label>`; a credential that fails any check refuses the call,
 * so a forgery never degrades into a plausible unverified caller.
 */
const PAYLOAD_TYPE = 'application/vnd.mpp.agent-credential.v1+json';
const KIND = 'https://mpp.dev/agent-credential/v1';
/** Credentials are bearer statements: their lifetime is what bounds a leaked one. */
const MAX_CREDENTIAL_TTL_MS = 30 * 24 * 3600 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;

interface CredentialPayload {
  _type: typeof KIND;
  agent: string;
  displayName?: string;
  issuedAt: string;
  expiresAt: string;
}

const validatePayload = payloadValidator<CredentialPayload>('agentCredential');

export function createCredential(key: PrivateKey, agent: string, opts: { ttlMs: number; displayName?: string; now?: Date }): string {
  checkAgentId(agent);
  if (!(opts.ttlMs > 0 && opts.ttlMs <= MAX_CREDENTIAL_TTL_MS)) {
    throw new MppError('MPP_E_USAGE', `A credential lives between 1 ms and ${MAX_CREDENTIAL_TTL_MS / 86_400_000} days.`, { hint: 'Pass a shorter --ttl, e.g. 8h or 7d.' });
  }
  const now = opts.now ?? new Date();
  const payload: CredentialPayload = {
    _type: KIND,
    agent,
    ...(opts.displayName ? { displayName: opts.displayName } : {}),
    issuedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + opts.ttlMs).toISOString(),
  };
  return signStatement(key, PAYLOAD_TYPE, payload);
}

/** What a caller says about itself: a credential to check, or only a label to show. */
export interface CallerClaim {
  readonly credential?: string;
  /** A free-text name (an MCP clientInfo name, an extension id): never trusted. */
  readonly label?: string;
}

const LABEL_MAX = 64;

/** A label as the audit log and dialogs show it: printable, bounded, never mistaken for an id. */
function cleanLabel(label: string | undefined): string {
  const cleaned = (label ?? '').normalize('NFC').replace(/[^\p{L}\p{N} ._@/-]/gu, '').trim().slice(0, LABEL_MAX);
  return cleaned === '' ? 'anonymous' : cleaned;
}

/** A caller without a credential: named by its label, never verified (no registry is needed to say so). */
export function unverifiedCaller(claimedLabel: string | undefined): Caller {
  const label = cleanLabel(claimedLabel);
  return Object.freeze({ agentId: `unverified:${label}`, displayName: `${label} (unverified)`, verified: false });
}

export function resolveCaller(claim: CallerClaim, agents: AgentRegistry, now = new Date()): Caller {
  if (claim.credential === undefined) return unverifiedCaller(claim.label);
  const { payload, key } = openStatement<CredentialPayload>(claim.credential, {
    payloadType: PAYLOAD_TYPE,
    validate: validatePayload,
    // The signing key must be the one registered for the agent the payload
    // names; the envelope's key id only selects which registered key to try.
    keyFor: (keyid) => agents.byKeyid(keyid)?.key,
    code: 'MPP_E_AGENT_CREDENTIAL_INVALID',
    what: 'agent credential',
  });
  const registered = agents.get(payload.agent);
  if (!registered || registered.key.keyid !== key.keyid) {
    throw new MppError('MPP_E_AGENT_CREDENTIAL_INVALID', `The agent credential claims to be ${payload.agent} but is not signed by the key registered for it.`);
  }
  const issued = Date.parse(payload.issuedAt);
  const expires = Date.parse(payload.expiresAt);
  if (!(expires > issued) || expires - issued > MAX_CREDENTIAL_TTL_MS) throw new MppError('MPP_E_AGENT_CREDENTIAL_INVALID', 'The agent credential has an impossible lifetime.');
  if (issued > now.getTime() + CLOCK_SKEW_MS) throw new MppError('MPP_E_AGENT_CREDENTIAL_INVALID', 'The agent credential was issued in the future.');
  if (expires <= now.getTime()) throw new MppError('MPP_E_AGENT_CREDENTIAL_INVALID', `The agent credential of ${payload.agent} expired at ${payload.expiresAt}.`);
  return Object.freeze({ agentId: payload.agent, displayName: payload.displayName ?? payload.agent, verified: true });
}
