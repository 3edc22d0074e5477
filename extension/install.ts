/**
 * Installs in the editor, from a file or from the configured registries, and
 * updates, audited as the CLI audits them (cli/commands/install.ts): the audit
 * log is opened first, so a log that cannot take a record refuses before
 * anything changes; a package signed by an unknown key passes only after the
 * user approves the key in the trust dialog (recorded as `trust`); a refusal
 * is recorded as a failed `verify`; every install as an `install` event.
 */
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { AuditLog } from '../runtime/audit/log.ts';
import type { VerifyEvent } from '../runtime/audit/events.ts';
import { PACKAGE_NAME_RE } from '../runtime/format/manifest.ts';
import { loadRegistries } from '../runtime/registry/client/config.ts';
import { installFromRegistry, updateInstalled, type RegistryInstallOptions, type RegistryInstallResult, type UpdateReport } from '../runtime/registry/client/install.ts';
import { installPackage, type InstallResult } from '../runtime/store/packages.ts';
import { PendingTrust, verifyTrustingOnFirstUse, type FirstUseOptions } from '../runtime/trust/first-use.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import { TrustStore } from '../runtime/trust/store.ts';
// The CLI's audit helpers (they use runtime/ only), so both faces record alike.
import { recordInstall, withAuditLog } from '../runtime/audit/trail.ts';
import { askTrust } from './dialogs.ts';

/** Registries live in the MPP home, shared with the CLI; the editor does not configure them. */
export const NO_REGISTRY =
  'MPP: no package registry is configured. Registries are configured with the mpp command line, shared with the editor: `mpp registry add <name> <url> --key <registry-key.pub.pem>` (see `mpp registry list`).';

export function registryConfigured(home: string): boolean {
  return loadRegistries(home).length > 0;
}

/** Trust on first use (runtime/trust/first-use.ts) with the trust dialog as its question: only the user's click holds the key. */
function firstUseInDialog(extensionUri: vscode.Uri, audit: AuditLog, source: Pick<VerifyEvent, 'file' | 'package'>): FirstUseOptions {
  return { ask: ({ pkg }) => askTrust(extensionUri, pkg), audit, source };
}

export function describeInstall(r: InstallResult, registry?: string): string {
  const who = `signed by ${r.publisher.name ?? 'an unnamed key'} (${fingerprint(r.publisher.keyid)})`;
  const from = registry ? ` from registry "${registry}"` : '';
  return r.change === 'upgraded' || r.change === 'downgraded' ? `${r.name} ${r.change} from ${r.previousVersion} to ${r.version}${from}, ${who}.` : `${r.name}@${r.version} ${r.change}${from}, ${who}.`;
}

export async function installFile(extensionUri: vscode.Uri, home: string, path: string): Promise<InstallResult> {
  const bytes = new Uint8Array(await readFile(path));
  return withAuditLog(home, async (audit) => {
    const trust = new PendingTrust(TrustStore.load(home));
    const verified = await verifyTrustingOnFirstUse(bytes, trust, firstUseInDialog(extensionUri, audit, { file: path }));
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Installing ${verified.manifest.name}` }, (progress) =>
      installPackage(home, bytes, { verified, onProgress: (message) => progress.report({ message }), beforeCommit: () => trust.commit(home, audit) }),
    );
    recordInstall(audit, result, path);
    return result;
  });
}

/** What an install from a registry shows: steps as messages, a download as a share of its size. */
function registryOptions(extensionUri: vscode.Uri, home: string, name: string, audit: AuditLog, progress: vscode.Progress<{ message?: string; increment?: number }>): RegistryInstallOptions {
  let shown = 0;
  return {
    onProgress: (message) => progress.report({ message }),
    onTransfer: (done, total) => {
      if (!total) return;
      const percent = Math.floor((done / total) * 100);
      progress.report({ increment: percent - shown });
      shown = percent;
    },
    audit,
    verify: (bytes, trust) => verifyTrustingOnFirstUse(bytes, trust, firstUseInDialog(extensionUri, audit, { package: name })),
  };
}

/** `spec` is scope/name[@range]; never installs a lower version than the installed one. */
export function installFromRegistries(extensionUri: vscode.Uri, home: string, spec: string): Promise<RegistryInstallResult> {
  const { name, range } = parseSpec(spec)!;
  return withAuditLog(home, async (audit) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Installing ${spec}` }, async (progress) => {
      const result = await installFromRegistry(home, name, { ...registryOptions(extensionUri, home, name, audit, progress), ...(range ? { range } : {}) });
      recordInstall(audit, result, result.registry);
      return result;
    }),
  );
}

export function parseSpec(spec: string): { name: string; range?: string } | undefined {
  const at = spec.indexOf('@');
  const name = at < 0 ? spec : spec.slice(0, at);
  if (!PACKAGE_NAME_RE.test(name)) return undefined;
  return at < 0 ? { name } : { name, range: spec.slice(at + 1) };
}

/**
 * Installs the newest unyanked version of `names` from the registries, never
 * a lower one, by the loop `mpp update` runs: updating one package fails
 * loudly; updating all keeps going past a package that cannot be updated and
 * reports it.
 */
export function updatePackages(extensionUri: vscode.Uri, home: string, names: readonly string[] | 'all'): Promise<UpdateReport> {
  return withAuditLog(home, async (audit) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: names === 'all' ? 'Updating MPP packages' : `Updating ${names.join(', ')}` }, (progress) =>
      updateInstalled(
        home,
        names,
        (name) => {
          if (names === 'all') progress.report({ message: name });
          return registryOptions(extensionUri, home, name, audit, progress);
        },
        audit,
      ),
    ),
  );
}
