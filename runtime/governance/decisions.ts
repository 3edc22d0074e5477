import { MppError } from '../errors.ts';
import type { AuditEvent } from '../audit/events.ts';
import { canonicalCapabilityId, checkCapabilityId, declaredCapabilities, grantableIds } from '../policy/capabilities.ts';
import { GLOBAL_SCOPE, GrantStore, type GrantRecord, type GrantScope } from '../state/grants.ts';
import { loadInstalled } from '../store/packages.ts';
import { TrustStore } from '../trust/store.ts';
import { consentRequest, type ConsentCapability } from './consent.ts';

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
  readonly source: 'cli' | 'editor';
}

/** Adds capabilities to the decision in `scope` (or records a deny); it covers the package as installed now. */
export function grantPermissions(home: string, order: GrantOrder, audit: Audit): GrantRecord {
  const { record: installed, pkg } = loadInstalled(home, order.package, TrustStore.load(home));
  const m = pkg.manifest;
  const requested = order.deny ? [] : order.capabilities === 'all' ? grantableIds(m) : order.capabilities.map((id) => checkCapabilityId(m, id));
  const store = GrantStore.open(home);
  try {
    const previous = store.get(m.name, installed.publisher.keyid, order.scope);
    const kept = !order.deny && previous?.decision === 'granted' ? previous.capabilities : [];
    const capabilities = [...new Set([...kept, ...requested])];
    const reviewed = [...new Set([...(previous?.reviewed ?? []), ...declaredCapabilities(m).map((c) => c.id)])];
    const decision = order.deny ? 'denied' : 'granted';
    audit({ type: 'grant', package: m.name, publisher: installed.publisher.keyid, scope: auditScope(order.scope), decision, capabilities, source: order.source });
    return store.put({ package: m.name, publisher: installed.publisher.keyid, scope: order.scope, decision, capabilities, reviewed, source: order.source });
  } finally {
    store.close();
  }
}

export interface RevokeOrder {
  readonly package: string;
  readonly capabilities: readonly string[] | 'all';
  /** One scope, or every scope and publisher. */
  readonly scope: GrantScope | 'all';
}

/** Takes capabilities back; takes effect at the next call, in every process. */
export function revokePermissions(home: string, order: RevokeOrder, audit: Audit): GrantRecord[] {
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
  return a.kind === b.kind && (a.kind === 'global' || a.path === (b as { path: string }).path);
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

export function permissionsOf(home: string, name: string, workspace: GrantScope): PermissionsView {
  const { record: installed, pkg } = loadInstalled(home, name, TrustStore.load(home));
  const store = GrantStore.open(home);
  try {
    const effective = store.effective(name, installed.publisher.keyid, workspace.kind === 'workspace' ? workspace : GLOBAL_SCOPE);
    const request = consentRequest(pkg.manifest, installed.publisher, workspace.kind === 'workspace' ? workspace.path : '', effective);
    return Object.freeze({ package: name, version: installed.version, publisher: installed.publisher, effective, capabilities: request.capabilities, records: store.list(name) });
  } finally {
    store.close();
  }
}
