/**
 * What the MPP view lists, read from the stores (never from a tool), without
 * the editor API, so bench/extension.ts measures the same code path.
 * Listing reads only the install index and the trust store; a package's
 * permissions are read (and the package verified again) when it is expanded.
 */
import { MppError } from '../runtime/errors.ts';
import { permissionsOf } from '../runtime/governance/decisions.ts';
import { parseToolId } from '../runtime/mcp/names.ts';
import { GLOBAL_SCOPE, workspaceScope } from '../runtime/state/grants.ts';
import type { ToolDefinition } from '../runtime/format/manifest.ts';
import { listInstalled, type InstalledRecord } from '../runtime/store/packages.ts';
import { TrustStore, type KeyState } from '../runtime/trust/store.ts';

export interface PackageEntry {
  readonly record: InstalledRecord;
  readonly keyState: KeyState;
}

export interface PermissionState {
  /** Capability id (spec/manifest.md section 5). */
  readonly id: string;
  readonly text: string;
  readonly granted: boolean;
  /** e.g. `granted (this workspace)`, `not granted`, `not decided`, `denied (all workspaces)`. */
  readonly state: string;
}

export interface InstalledTool extends Pick<ToolDefinition, 'description' | 'sensitivity' | 'inputSchema'> {
  /** `scope/name/tool`. */
  readonly id: string;
}

/** Every installed package's tools, by id: what agents are offered and the command palette picks from. */
export function installedTools(home: string): InstalledTool[] {
  return listInstalled(home).flatMap((r) => r.manifest.tools.map((t) => ({ id: `${r.name}/${t.name}`, description: t.description, sensitivity: t.sensitivity, inputSchema: t.inputSchema })));
}

/** `scope/name/tool` -> package and tool, or MPP_E_TOOL_UNKNOWN saying what a tool id is. */
export function toolTarget(id: string, hint: string): { packageName: string; tool: string } {
  const target = parseToolId(id);
  if (!target) throw new MppError('MPP_E_TOOL_UNKNOWN', `${JSON.stringify(id.slice(0, 200))} is not an MPP tool id (scope/package/tool).`, { hint });
  return target;
}

export function packageEntries(home: string): PackageEntry[] {
  const trust = TrustStore.load(home);
  // A development package is accepted on its author's key trusted for it alone, not as a publisher key.
  const keyState = (r: InstalledRecord): KeyState =>
    r.development && trust.state(r.publisher.keyid) !== 'revoked' ? (trust.trustsForDevelopment(r.publisher.keyid, r.name) ? 'trusted' : 'unknown') : trust.state(r.publisher.keyid);
  return listInstalled(home).map((record) => ({ record, keyState: keyState(record) }));
}

/** The state of each capability `name` declares, under the decision in force in `workspace` (else the global one). */
export function permissionStates(home: string, name: string, workspace: string | undefined): PermissionState[] {
  const view = permissionsOf(home, name, workspace ? workspaceScope(workspace) : GLOBAL_SCOPE);
  const decision = view.effective;
  const where = decision?.scope.kind === 'workspace' ? 'this workspace' : 'all workspaces';
  return view.capabilities.map((c) => {
    const granted = decision?.decision === 'granted' && c.state === 'granted';
    if (c.blockedBy) return { id: c.id, text: c.text, granted: false, state: `blocked by your organisation's policy (${c.blockedBy})` };
    const state = !decision ? 'not decided' : decision.decision === 'denied' ? `denied (${where})` : granted ? `granted (${where})` : c.state === 'new' ? 'not decided' : 'not granted';
    return { id: c.id, text: c.text, granted, state };
  });
}
