/**
 * The extension's dialogs as webview panels: publisher trust on first use and
 * the package inspector. Every answer comes from the user's click in the
 * panel; closing it is a "no".
 */
import type * as vscode from 'vscode';
import { declaredCapabilities, grantableIds } from '../runtime/policy/capabilities.ts';
import { loadOrgPolicy } from '../runtime/policy/org-policy.ts';
import { blockingRule } from '../runtime/policy/org-rules.ts';
import type { ExaminedPackage } from '../runtime/trust/gatekeeper.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import type { TrustView } from '../runtime/trust/store.ts';
import type { InspectDialog, PermissionItem, TrustDialog } from '../webview/protocol.ts';
import { DialogPanel } from './panel.ts';

function permissionItems(pkg: Pick<ExaminedPackage, 'manifest'>): PermissionItem[] {
  // A wildcard host is granted by naming concrete hosts, which a checkbox cannot do.
  const grantable = new Set(grantableIds(pkg.manifest));
  const org = loadOrgPolicy();
  return declaredCapabilities(pkg.manifest).map((p) => {
    const blockedBy = blockingRule(org, p.id);
    return { ...p, grantable: grantable.has(p.id) && !blockedBy, ...(blockedBy ? { blockedBy } : {}) };
  });
}

/** Asks whether to trust the author key of `pkg`; true only on the user's explicit approval. */
export async function askTrust(extensionUri: vscode.Uri, pkg: ExaminedPackage): Promise<boolean> {
  const author = pkg.signatures.find((s) => s.role === 'author');
  if (!author) return false;
  const dialog: TrustDialog = {
    kind: 'trust',
    packageName: pkg.manifest.name,
    version: pkg.manifest.version,
    claimedName: pkg.manifest.publisher.name,
    keyid: author.key.keyid,
    fingerprint: fingerprint(author.key.keyid),
  };
  const answer = await new DialogPanel(extensionUri, dialog).answer;
  return answer?.kind === 'trust' && answer.decision === 'approve';
}

function inspectDialog(pkg: ExaminedPackage, trust: TrustView): InspectDialog {
  const author = pkg.signatures.find((s) => s.role === 'author');
  return {
    kind: 'inspect',
    packageName: pkg.manifest.name,
    version: pkg.manifest.version,
    publisher: `${pkg.manifest.publisher.name}${author ? ` (${fingerprint(author.key.keyid)})` : ''}`,
    digest: pkg.digest.sha256,
    manifest: JSON.stringify(pkg.manifest, null, 2),
    tools: pkg.manifest.tools.map((t) => ({
      name: t.name,
      description: t.description,
      sensitivity: t.sensitivity,
      inputSchema: JSON.stringify(t.inputSchema, null, 2),
      outputSchema: JSON.stringify(t.outputSchema, null, 2),
    })),
    files: pkg.digest.entries.map((e) => ({ path: e.name, size: e.size, sha256: e.sha256 })),
    signatures: pkg.signatures.map((s) => ({ role: s.role, keyid: s.key.keyid, fingerprint: fingerprint(s.key.keyid), trusted: trust.state(s.key.keyid) })),
    permissions: permissionItems(pkg),
  };
}

export function showInspector(extensionUri: vscode.Uri, pkg: ExaminedPackage, trust: TrustView): void {
  // Nothing to answer: the panel lives until the user closes it.
  void new DialogPanel(extensionUri, inspectDialog(pkg, trust)).answer;
}
