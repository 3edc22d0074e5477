import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MppError } from '../errors.ts';
import type { PiiClass, Sensitivity } from '../format/manifest.ts';
import { parseStrictJson } from '../format/strict-json.ts';
import { compileSchema, describeSchemaError } from '../schema.ts';
import { SENSITIVITY_RANK } from './confirmation.ts';
import policySchema from '../../spec/host-policy.schema.json' with { type: 'json' };

/**
 * What the user or organisation sets for every package on this host
 * (`policy.json` in the MPP home; spec/governance.md). Each field can only
 * make the host stricter than the built-in defaults, never laxer than a
 * manifest asks.
 */
export interface HostPolicy {
  /** Calls of tools at or above this sensitivity need a confirmation (at most `write`). */
  readonly confirmAtOrAbove: Sensitivity;
  /** How long a confirmation waits for the human before it counts as deny. */
  readonly confirmTimeoutMs: number;
  /** Mid-call confirmations a tool may ask for in one call; more are denied without asking. */
  readonly maxConfirmationsPerCall: number;
  /** How long an attestation stays valid after approval. */
  readonly attestationTtlMs: number;
  /** PII classes redacted from every package's outputs and requests, whatever it declares. */
  readonly privacyMinimum: readonly PiiClass[];
}

export const DEFAULT_POLICY: HostPolicy = Object.freeze({
  confirmAtOrAbove: 'write',
  confirmTimeoutMs: 60_000,
  maxConfirmationsPerCall: 3,
  attestationTtlMs: 60_000,
  privacyMinimum: Object.freeze(['secret'] as PiiClass[]),
});

const validate = compileSchema<Partial<HostPolicy>>(policySchema);

export function policyPath(home: string): string {
  return join(home, 'policy.json');
}

/** The host policy: `policy.json` over the defaults; a broken file is refused, never ignored. */
export function loadHostPolicy(home: string): HostPolicy {
  let bytes: Buffer;
  try {
    bytes = readFileSync(policyPath(home));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_POLICY;
    throw new MppError('MPP_E_POLICY_INVALID', `Cannot read ${policyPath(home)}: ${(e as Error).message}.`, { cause: e });
  }
  let value: unknown;
  try {
    value = parseStrictJson(bytes);
  } catch (e) {
    throw new MppError('MPP_E_POLICY_INVALID', `${policyPath(home)} is not strict JSON: ${(e as Error).message}.`, { cause: e });
  }
  if (!validate(value)) throw new MppError('MPP_E_POLICY_INVALID', `${policyPath(home)} does not match the host policy schema: ${describeSchemaError(validate.errors)}.`);
  return mergePolicy(DEFAULT_POLICY, value);
}

/**
 * Combines a base policy with overrides (a file, editor settings) so that the
 * result is never laxer than the base: lower thresholds, shorter waits and
 * lifetimes, fewer confirmations, more redaction.
 */
export function mergePolicy(base: HostPolicy, over: Partial<HostPolicy>): HostPolicy {
  const lowerSensitivity = (a: Sensitivity, b: Sensitivity | undefined) => (b !== undefined && SENSITIVITY_RANK[b] < SENSITIVITY_RANK[a] ? b : a);
  const min = (a: number, b: number | undefined) => (b === undefined ? a : Math.min(a, b));
  return Object.freeze({
    confirmAtOrAbove: lowerSensitivity(base.confirmAtOrAbove, over.confirmAtOrAbove),
    confirmTimeoutMs: min(base.confirmTimeoutMs, over.confirmTimeoutMs),
    maxConfirmationsPerCall: min(base.maxConfirmationsPerCall, over.maxConfirmationsPerCall),
    attestationTtlMs: min(base.attestationTtlMs, over.attestationTtlMs),
    privacyMinimum: Object.freeze([...new Set([...base.privacyMinimum, ...(over.privacyMinimum ?? [])])]),
  });
}
