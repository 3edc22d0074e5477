/**
 * The audit events (spec/audit-event.schema.json): what MPP records, one
 * type per kind of event. Events hold identities, outcomes, digests and
 * counts; never the data a tool read or returned.
 */
import { MppError } from '../errors.ts';
import type { RedactionCounts } from '../privacy/index.ts';
import { compileSchema, describeSchemaError } from '../schema.ts';
import eventSchema from '../../spec/audit-event.schema.json' with { type: 'json' };
import { canonicalJson } from './hash.ts';
import { parseJson } from '../format/strict-json.ts';

/** Who called: the agent id of a verified credential, or `unverified:<label>`. */
export interface AuditAgent {
  readonly id: string;
  readonly verified: boolean;
}

/** Redacted values per PII class; classes with none may be left out. */
type PiiCounts = Readonly<RedactionCounts>;

export type GrantScope = 'global' | { readonly workspace: string };

export interface InstallEvent {
  readonly type: 'install';
  readonly package: string;
  readonly version: string;
  /** The package digest the author signed. */
  readonly digest: string;
  readonly publisher: { readonly keyid: string; readonly name?: string };
  readonly change: 'installed' | 'unchanged' | 'upgraded' | 'downgraded' | 'replaced';
  /** Where it came from: the file's absolute path, the registry's name, or the oci:// reference. */
  readonly source?: string;
  /** Present: a development package (spec/format.md). */
  readonly development?: true;
}

/** The `install` record of an installed package: one shape for the record owed at the commit and the one appended after it (with its source). */
export function installEvent(
  r: { readonly name: string; readonly version: string; readonly digest: string; readonly publisher: { readonly keyid: string; readonly name?: string }; readonly development?: boolean },
  change: InstallEvent['change'],
  source?: string,
): InstallEvent {
  const publisher = { keyid: r.publisher.keyid, ...(r.publisher.name !== undefined ? { name: r.publisher.name } : {}) };
  return { type: 'install', package: r.name, version: r.version, digest: r.digest, publisher, change, ...(source !== undefined ? { source } : {}), ...(r.development ? { development: true as const } : {}) };
}

export interface UninstallEvent {
  readonly type: 'uninstall';
  readonly package: string;
  /** Absent when only leftover data was purged. */
  readonly version?: string;
  readonly purge: boolean;
}

export interface VerifyEvent {
  readonly type: 'verify';
  readonly outcome: 'pass' | 'fail';
  readonly package?: string;
  readonly version?: string;
  readonly digest?: string;
  /** The refusal's error code, for `fail`. */
  readonly code?: string;
  /** The absolute path of the package file checked; absent for a package downloaded from a registry. */
  readonly file?: string;
}

export interface TrustEvent {
  readonly type: 'trust';
  readonly action: 'add' | 'remove' | 'revoke';
  readonly keyid: string;
  readonly name?: string;
  /** Present: the key was trusted for development builds of this package only. */
  readonly development?: { readonly package: string };
  /** For `add`: a person's command, a "yes" to trust on first use, or a signed key rotation. */
  readonly via?: 'command' | 'first-use' | 'rotation';
  /** For `add` via rotation: the trusted key that signed the hand-over. */
  readonly from?: string;
}

export interface AgentEvent {
  readonly type: 'agent';
  readonly action: 'add' | 'remove';
  readonly agentId: string;
  readonly keyid: string;
}

export interface GrantEvent {
  readonly type: 'grant';
  readonly package: string;
  /** The publisher key id the grant is bound to. */
  readonly publisher: string;
  readonly scope: GrantScope;
  readonly decision: 'granted' | 'denied';
  /** Capability ids (manifest.md section 5). */
  readonly capabilities: readonly string[];
  readonly source: 'prompt' | 'cli' | 'editor' | 'command-line-flags';
}

export interface RevokeEvent {
  readonly type: 'revoke';
  readonly package: string;
  readonly scope: GrantScope | 'all';
  readonly capabilities: readonly string[] | 'all';
}

export interface InvokeEvent {
  readonly type: 'invoke';
  readonly package: string;
  readonly version: string;
  readonly digest: string;
  readonly tool: string;
  readonly agent: AuditAgent;
  /** Whole milliseconds. */
  readonly durationMs: number;
  /** `started`: recorded before the tool runs (durationMs 0); `ok`/`error`: the outcome. */
  readonly outcome: 'started' | 'ok' | 'error';
  readonly code?: string;
  /** SHA-256 of the input JSON text as the tool received it. */
  readonly inputSha256: string;
  /** SHA-256 of the output JSON text as passed on (after redaction). */
  readonly outputSha256?: string;
  readonly redactions: PiiCounts;
}

export interface DenyEvent {
  readonly type: 'deny';
  readonly package: string;
  readonly tool?: string;
  readonly agent: AuditAgent;
  readonly code: string;
  readonly reason: string;
}

export interface ConfirmAskedEvent {
  readonly type: 'confirm-asked';
  readonly requestId: string;
  readonly package: string;
  readonly tool: string;
  readonly operation: string;
  readonly agent: AuditAgent;
  readonly argumentsSha256: string;
  readonly sensitivity?: 'none' | 'read' | 'write' | 'destructive';
}

export interface ConfirmAnsweredEvent {
  readonly type: 'confirm-answered';
  readonly requestId: string;
  readonly answer: 'approved' | 'denied' | 'timed-out';
}

export interface AttestationIssuedEvent {
  readonly type: 'attestation-issued';
  readonly nonce: string;
  /** The signed attestation as issued: digests of the arguments, never their values. Integers only. */
  readonly envelope: Readonly<Record<string, unknown>>;
}

export interface AttestationConsumedEvent {
  readonly type: 'attestation-consumed';
  readonly nonce: string;
  readonly outcome: 'consumed' | 'refused';
  readonly code?: string;
}

export interface RedactionEvent {
  readonly type: 'redaction';
  readonly package: string;
  readonly tool: string;
  readonly direction: 'output' | 'http';
  readonly counts: PiiCounts;
}

export type AuditEvent =
  | InstallEvent
  | UninstallEvent
  | VerifyEvent
  | TrustEvent
  | AgentEvent
  | GrantEvent
  | RevokeEvent
  | InvokeEvent
  | DenyEvent
  | ConfirmAskedEvent
  | ConfirmAnsweredEvent
  | AttestationIssuedEvent
  | AttestationConsumedEvent
  | RedactionEvent;

export type AuditEventType = AuditEvent['type'];

export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = Object.freeze(
  (eventSchema.oneOf as { $ref: string }[]).map((r) => r.$ref.slice('#/$defs/'.length) as AuditEventType),
);

// One validator per type, so that a refusal names the field of the event's own type. Each is
// compiled alone (its definition with the shared $defs) on first use: a command records one or
// two types, and compiling the whole oneOf costs every CLI process tens of milliseconds.
const defs = eventSchema.$defs as Record<string, object>;
const validators = new Map(AUDIT_EVENT_TYPES.map((t) => [t as string, compileSchema<AuditEvent>({ ...defs[t], $defs: defs })]));

/** Compiles the validators of these event types now (a long-running host, while idle: the first call records an `invoke`). */
export function prepareEventValidators(types: readonly AuditEventType[]): void {
  for (const t of types) validators.get(t)?.prepare();
}

/** Why `value` is not a valid audit event, or undefined when it is one. */
function whyInvalid(value: unknown): string | undefined {
  const type = (value as { type?: unknown } | null)?.type;
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validate) return `the type ${JSON.stringify(type)} is not an audit event type`;
  return validate(value) ? undefined : describeSchemaError(validate.errors);
}

export function isAuditEvent(value: unknown): value is AuditEvent {
  return whyInvalid(value) === undefined;
}

/**
 * The canonical text of `event`, checked against the schema in exactly the
 * form that is stored and hashed, with the event parsed back from that text
 * (the value the record holds). Recording data where the schema allows only
 * a digest, or an unknown field, is a bug in the recording code: refused.
 */
export function canonicalEvent(event: AuditEvent): { readonly text: string; readonly event: AuditEvent } {
  let text: string;
  try {
    text = canonicalJson(event);
  } catch (e) {
    throw invalid((e as Error).message, event);
  }
  const stored: unknown = parseJson(text);
  const why = whyInvalid(stored);
  if (why) throw invalid(why, event);
  return { text, event: stored as AuditEvent };
}

/** Parses a stored event: undefined when it is not JSON or not a valid event. */
export function parseStoredEvent(text: string): AuditEvent | undefined {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return undefined;
  }
  return isAuditEvent(value) ? value : undefined;
}

function invalid(why: string, event: unknown): MppError {
  const type = (event as { type?: unknown } | null)?.type;
  return new MppError('MPP_E_AUDIT_EVENT_INVALID', `The audit event${typeof type === 'string' ? ` "${type}"` : ''} is not valid: ${why}. Nothing was recorded.`, {
    detail: { type: typeof type === 'string' ? type : null },
  });
}
