import { homedir } from 'node:os';
import type { PermissionDescription } from '../format/describe.ts';
import type { Manifest } from '../format/manifest.ts';
import { declaredCapabilities, grantableIds } from '../policy/capabilities.ts';
import { folderTarget } from '../policy/grant.ts';
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
  /** For a folder: where it really is on this host (symbolic links followed), so the user sees what a grant reaches. */
  readonly target?: string;
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

export function consentRequest(m: Manifest, publisher: ConsentRequest['publisher'], workspace: string, previous: GrantRecord | undefined, home = homedir()): ConsentRequest {
  const grantable = new Set(grantableIds(m));
  const org = loadOrgPolicy();
  const capabilities = declaredCapabilities(m).map((c) => {
    const target = folderTargetText(c.id, workspace, home);
    const blockedBy = blockingRule(org, c.id);
    return {
      ...c,
      state: previous?.capabilities.includes(c.id) ? ('granted' as const) : previous?.reviewed.includes(c.id) ? ('declined' as const) : ('new' as const),
      grantable: grantable.has(c.id) && !blockedBy,
      ...(target ? { target } : {}),
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

/**
 * Where a folder capability leads on this host, in words: its real path, the
 * link it goes through, or why it is never granted. Undefined for other
 * capabilities, and for `${workspace}` without a workspace (a global view).
 */
function folderTargetText(id: string, workspace: string, home: string): string | undefined {
  const fs = /^fs:(\$\{(workspace|home)\}.*):(read|read-write)$/.exec(id);
  if (!fs || (fs[2] === 'workspace' && workspace === '')) return undefined;
  const t = folderTarget(fs[1]!, { workspace, home });
  if (t.realPath === undefined) return `${t.hostPath} (does not exist)`;
  if (!t.insideRoot) return `${t.hostPath} is a link to ${t.realPath}, outside the ${fs[2] === 'workspace' ? 'workspace' : 'home'} folder: never granted`;
  return t.realPath === t.hostPath ? t.realPath : `${t.hostPath}, a link to ${t.realPath}`;
}

/** Declared ids the user has never been shown (an update widened the request). */
export function unreviewed(m: Manifest, record: GrantRecord): string[] {
  return declaredCapabilities(m)
    .map((c) => c.id)
    .filter((id) => !record.reviewed.includes(id));
}

/**
 * A stored decision the user must take again: a grant whose every
 * capability was revoked (the store empties its `reviewed`; a decision
 * taken by the user always holds every declared id there).
 */
export function undecided(m: Manifest, record: GrantRecord): boolean {
  return record.decision === 'granted' && record.capabilities.length === 0 && record.reviewed.length === 0 && declaredCapabilities(m).length > 0;
}
