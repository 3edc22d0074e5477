import { MppError, isMppError } from '../errors.ts';
import type { Manifest } from '../format/manifest.ts';
import type { AuditEvent, GrantEvent } from '../audit/events.ts';
import { canonicalCapabilityId, checkCapabilityId, declaredCapabilities, grantableIds } from '../policy/capabilities.ts';
import { GrantStore, scopeKey, type GrantRecord, type GrantScope } from '../state/grants.ts';
import { loadInstalled } from '../store/packages.ts';
import { TrustStore } from '../trust/store.ts';
import { consentRequest, type ConsentCapability } from './consent.ts';
import { loadOrgPolicy } from '../policy/org-policy.ts';
import { blockingRule, refuseCapability } from '../policy/org-rules.ts';

/**
 * Permission decisions made outside a call (`mpp grant`, `mpp revoke`, the
 * editor's Permissions view). Each one is audited before it is stored.
 */
type Audit = (event: AuditEvent) => void;

const auditScope = (s: GrantScope) => (s.kind === 'global' ? ('global' as const) : { workspace: s.path });

export interface GrantOrder {
  readonly package: string;
  /** Capability ids to add, or every grantable one. Ignored with `deny`. */
  readonly capabilities: readonly string[] | 'all';
  readonly scope: GrantScope;
  /** Record "deny": the package does not run in this scope. */
  readonly deny?: boolean;
  /** The capabilities are the whole grant (a dialog's answer), not additions: one write, one record. */
  readonly exact?: boolean;
  readonly source: 'cli' | 'editor';
}

/** Adds capabilities to the decision in `scope` (or records a deny); it covers the package as installed now. */
export function grantPermissions(home: string, order: GrantOrder, audit: Audit): GrantRecord {
  // The publisher the call path will look the decision up under: the trusted signer as verified now.
  const { pkg } = loadInstalled(home, order.package, TrustStore.load(home));
  const m = pkg.manifest;
  const org = loadOrgPolicy();
  // Named ids the organisation forbids are refused; `all` means all that may be granted here.
  const requested = order.deny
    ? []
    : order.capabilities === 'all'
      ? grantableIds(m).filter((id) => !blockingRule(org, id))
      : order.capabilities.map((id) => {
          const checked = checkCapabilityId(m, id);
          refuseCapability(org, m.name, checked);
          return checked;
        });
  const store = GrantStore.open(home);
  try {
    let previous: GrantRecord | undefined;
    try {
      previous = store.get(m.name, pkg.publisher.keyid, order.scope);
    } catch (e) {
      // A damaged row is replaced by this decision (the way out its hint names).
      if (!(isMppError(e) && e.code === 'MPP_E_STORE_CORRUPT')) throw e;
    }
    const kept = !order.deny && !order.exact && previous?.decision === 'granted' ? previous.capabilities : [];
    return recordDecision(store, audit, {
      manifest: m,
      publisher: pkg.publisher.keyid,
      scope: order.scope,
      decision: order.deny ? 'denied' : 'granted',
      capabilities: [...kept, ...requested],
      reviewed: previous?.reviewed ?? [],
      source: order.source,
    });
  } finally {
    store.close();
  }
}

export interface Decision {
  readonly manifest: Manifest;
  readonly publisher: string;
  readonly scope: GrantScope;
  readonly decision: 'granted' | 'denied';
  /** Ids to grant: anything the manifest does not offer is dropped; ignored on deny. */
  readonly capabilities: readonly string[];
  /** Ids shown before; every id declared now is added (the user decided on the package as it is). */
  readonly reviewed: readonly string[];
  readonly source: GrantEvent['source'];
}

/** Audits, then stores, one decision (a consent answer, `mpp grant`, the editor): a decision that cannot be audited is not taken. */
export function recordDecision(store: GrantStore, audit: Audit, d: Decision): GrantRecord {
  const offered = new Set(grantableIds(d.manifest));
  const org = loadOrgPolicy();
  // What the organisation forbids is never stored, whoever answered.
  const capabilities = d.decision === 'granted' ? [...new Set(d.capabilities)].filter((c) => offered.has(c) && !blockingRule(org, c)) : [];
  const reviewed = [...new Set([...d.reviewed, ...declaredCapabilities(d.manifest).map((c) => c.id)])];
  audit({ type: 'grant', package: d.manifest.name, publisher: d.publisher, scope: auditScope(d.scope), decision: d.decision, capabilities, source: d.source });
  return store.put({ package: d.manifest.name, publisher: d.publisher, scope: d.scope, decision: d.decision, capabilities, reviewed, source: d.source });
}

export interface RevokeOrder {
  readonly package: string;
  readonly capabilities: readonly string[] | 'all';
  /** One scope, or every scope and publisher. */
  readonly scope: GrantScope | 'all';
}

/** Takes capabilities back; takes effect at the next call, in every process. */
export function revokePermissions(home: string, order: RevokeOrder, audit: Audit): GrantRecord[] {
  if (order.capabilities !== 'all' && order.capabilities.length === 0) {
    throw new MppError('MPP_E_USAGE', 'No capability was named to revoke.', { hint: `Name capability ids (see \`mpp permissions ${order.package}\`), or revoke everything with --all.` });
  }
  const store = GrantStore.open(home);
  try {
    const rows = store.list(order.package).filter((r) => order.scope === 'all' || sameScope(r.scope, order.scope));
    if (rows.length === 0) {
      throw new MppError('MPP_E_USAGE', `${order.package} has no recorded permissions${order.scope === 'all' ? '' : ` in the ${order.scope.kind === 'global' ? 'global scope' : 'workspace ' + order.scope.path}`}.`, {
        hint: `See them with \`mpp permissions ${order.package}\`.`,
      });
    }
    // Ids are compared in canonical form (`net:https://API.example.com:443` is `net:https://api.example.com`),
    // and one that no decision holds is refused: a revocation never reports success without taking something away.
    let held: string[] | 'all' = 'all';
    if (order.capabilities !== 'all') {
      const stored = rows.flatMap((r) => r.capabilities);
      held = [];
      for (const id of order.capabilities) {
        const matches = stored.filter((c) => canonicalCapabilityId(c) === canonicalCapabilityId(id));
        if (matches.length === 0) {
          throw new MppError('MPP_E_USAGE', `${order.package} is not granted ${JSON.stringify(id)} in the scope given, so there is nothing to revoke.`, {
            hint: `See what is granted with \`mpp permissions ${order.package}\`, or revoke everything with --all.`,
          });
        }
        held.push(...matches);
      }
      held = [...new Set(held)];
    }
    audit({ type: 'revoke', package: order.package, scope: order.scope === 'all' ? 'all' : auditScope(order.scope), capabilities: held });
    return store.revoke(order.package, order.scope, held);
  } finally {
    store.close();
  }
}

function sameScope(a: GrantScope, b: GrantScope): boolean {
  return scopeKey(a) === scopeKey(b);
}

export interface PermissionsView {
  readonly package: string;
  readonly version: string;
  readonly publisher: { readonly keyid: string; readonly name: string | undefined };
  /** The decision in force in `workspace` (workspace first, then global). */
  readonly effective: GrantRecord | undefined;
  readonly capabilities: readonly ConsentCapability[];
  /** Every recorded decision for this package (any publisher key, any scope). */
  readonly records: readonly GrantRecord[];
}

export function permissionsOf(home: string, name: string, scope: GrantScope): PermissionsView {
  const { pkg } = loadInstalled(home, name, TrustStore.load(home));
  const store = GrantStore.open(home);
  try {
    const effective = store.effective(name, pkg.publisher.keyid, scope);
    const request = consentRequest(pkg.manifest, pkg.publisher, scopeKey(scope), effective);
    return Object.freeze({ package: name, version: pkg.manifest.version, publisher: pkg.publisher, effective, capabilities: request.capabilities, records: store.list(name) });
  } finally {
    store.close();
  }
}
