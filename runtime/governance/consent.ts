import type { PermissionDescription } from '../format/describe.ts';
import type { Manifest } from '../format/manifest.ts';
import { declaredCapabilities, grantableIds } from '../policy/capabilities.ts';
import type { GrantRecord } from '../state/grants.ts';
import { loadOrgPolicy } from '../policy/org-policy.ts';
import { blockingRule } from '../policy/org-rules.ts';

/**
 * Consent: before a package's first run, and after an update that asks for
 * more, the user decides per capability. The host's face (a terminal prompt,
 * an editor dialog) implements ConsentPrompter; the policy of what to ask and
 * what a decision means is here.
 */
export interface ConsentCapability extends PermissionDescription {
  /** `granted`: granted before; `declined`: shown before and not granted; `new`: never shown. */
  readonly state: 'granted' | 'declined' | 'new';
  /** False for a wildcard host, which is granted by naming concrete hosts (`mpp grant`), and for what the organisation policy forbids. */
  readonly grantable: boolean;
  /** The organisation policy rule that forbids granting it (shown as "blocked by your organisation's policy"). */
  readonly blockedBy?: string;
}

export interface ConsentRequest {
  readonly package: string;
  readonly version: string;
  readonly description: string;
  readonly publisher: { readonly keyid: string; readonly name: string | undefined };
  /** The workspace folder of the call (a workspace-scoped decision applies to it). */
  readonly workspace: string;
  readonly reason: 'first-run' | 'widened';
  readonly capabilities: readonly ConsentCapability[];
}

export interface ConsentAnswer {
  readonly decision: 'grant' | 'deny';
  /** Ids to grant (a subset of the grantable ones); ignored on deny. */
  readonly capabilities: readonly string[];
  readonly scope: 'workspace' | 'global';
}

export interface ConsentPrompter {
  /** Resolves with the user's answer, or undefined when the user dismissed the question (nothing is recorded). */
  ask(request: ConsentRequest): Promise<ConsentAnswer | undefined>;
}

export function consentRequest(m: Manifest, publisher: ConsentRequest['publisher'], workspace: string, previous: GrantRecord | undefined): ConsentRequest {
  const grantable = new Set(grantableIds(m));
  const org = loadOrgPolicy();
  const capabilities = declaredCapabilities(m).map((c) => {
    const blockedBy = blockingRule(org, c.id);
    return {
      ...c,
      state: previous?.capabilities.includes(c.id) ? ('granted' as const) : previous?.reviewed.includes(c.id) ? ('declined' as const) : ('new' as const),
      grantable: grantable.has(c.id) && !blockedBy,
      ...(blockedBy ? { blockedBy } : {}),
    };
  });
  return Object.freeze({
    package: m.name,
    version: m.version,
    description: m.description,
    publisher,
    workspace,
    reason: previous ? 'widened' : 'first-run',
    capabilities: Object.freeze(capabilities),
  });
}

/** Declared ids the user has never been shown (an update widened the request). */
export function unreviewed(m: Manifest, record: GrantRecord): string[] {
  return declaredCapabilities(m)
    .map((c) => c.id)
    .filter((id) => !record.reviewed.includes(id));
}
