/**
 * The editor shell over runtime/: views, commands and dialogs. Nothing a tool
 * controls runs on this thread: tool code runs in the sandbox's worker threads.
 * Activation is lazy (the view, a command, or another extension asking for the
 * API) and reads nothing but the install index.
 */
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { isMppError } from '../runtime/errors.ts';
import { mppHome } from '../runtime/home.ts';
import { installPackage, listInstalled, loadInstalled, uninstallPackage } from '../runtime/store/packages.ts';
import { examinePackage, verifyPackage } from '../runtime/trust/gatekeeper.ts';
import { fingerprint, parsePublicKeyPem, publicKeyFromSpki } from '../runtime/trust/keys.ts';
import { addTrustedKey, TrustStore } from '../runtime/trust/store.ts';
import pkg from '../package.json' with { type: 'json' };
import { askTrust, showInspector } from './dialogs.ts';
import { PackagesView, type Node, type PackageEntry } from './packages-view.ts';

export interface MppApi {
  readonly version: string;
  /** Names of the installed packages' tools, as `scope/name/tool`. */
  listTools(): string[];
}

/** The MPP home: the `mpp.home` setting, else the same folder the CLI uses. */
function home(): string {
  return vscode.workspace.getConfiguration('mpp').get<string>('home') || mppHome();
}

function entries(): PackageEntry[] {
  const h = home();
  const trust = TrustStore.load(h);
  return listInstalled(h).map((record) => ({ record, keyState: trust.state(record.publisher.keyid), permissionStates: new Map() }));
}

/** Every failure reaches the user as its message and hint, never as a stack. */
async function report(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    const text = isMppError(e) ? `${e.message}${e.hint ? ` ${e.hint}` : ''} (${e.code})` : `MPP failed: ${(e as Error).message}`;
    void vscode.window.showErrorMessage(text);
  }
}

async function pickPackage(node: Node | undefined, title: string): Promise<string | undefined> {
  if (node) return node.entry.record.name;
  const items = listInstalled(home()).map((r) => ({ label: r.name, description: r.version }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No MPP packages are installed. Install one with "MPP: Install Package from File…".');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title }))?.label;
}

export function activate(context: vscode.ExtensionContext): MppApi {
  const view = new PackagesView(entries);
  const register = (id: string, run: (...args: never[]) => Promise<void> | void): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: never[]) => report(async () => run(...args))));
  };

  context.subscriptions.push(
    vscode.window.createTreeView('mpp.packages', { treeDataProvider: view, showCollapseAll: true }),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('mpp.home') && view.refresh()),
  );

  register('mpp.showVersion', () => void vscode.window.showInformationMessage(`MPP ${pkg.version}`));
  register('mpp.refresh', () => view.refresh());

  register('mpp.installFromFile', async (uri?: vscode.Uri) => {
    const file = uri ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'MPP package': ['mpp'] }, title: 'Install MPP Package' }))?.[0];
    if (!file) return;
    const bytes = new Uint8Array(await readFile(file.fsPath));
    const h = home();
    let verified;
    try {
      verified = verifyPackage(bytes, TrustStore.load(h));
    } catch (e) {
      // Trust on first use, never silently: only the user's click in the trust dialog adds the key.
      if (!(isMppError(e) && e.code === 'MPP_E_UNTRUSTED_KEY')) throw e;
      const examined = examinePackage(bytes);
      if (!(await askTrust(context.extensionUri, examined))) throw e;
      const author = examined.signatures.find((s) => s.role === 'author')!;
      await addTrustedKey(h, publicKeyFromSpki(author.key.spki), examined.manifest.publisher.name);
      verified = verifyPackage(bytes, TrustStore.load(h));
    }
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Installing ${verified.manifest.name}` }, (progress) =>
      installPackage(h, bytes, { verified, onProgress: (message) => progress.report({ message }) }),
    );
    view.refresh();
    void vscode.window.showInformationMessage(`MPP: ${result.name}@${result.version} ${result.change}, signed by ${result.publisher.name ?? 'an unnamed key'} (${fingerprint(result.publisher.keyid)}).`);
  });

  register('mpp.installFromRegistry', () => {
    void vscode.window.showWarningMessage('MPP: no package registry is available yet; install a .mpp file with "MPP: Install Package from File…".');
  });

  register('mpp.inspectPackage', async (node?: Node) => {
    const name = await pickPackage(node, 'Inspect MPP Package');
    if (!name) return;
    const h = home();
    const trust = TrustStore.load(h);
    showInspector(context.extensionUri, loadInstalled(h, name, trust).pkg, trust);
  });

  register('mpp.uninstallPackage', async (node?: Node) => {
    const name = await pickPackage(node, 'Uninstall MPP Package');
    if (!name) return;
    const answer = await vscode.window.showWarningMessage(`Uninstall ${name}? Its stored data is kept.`, { modal: true }, 'Uninstall');
    if (answer !== 'Uninstall') return;
    const result = await uninstallPackage(home(), name);
    view.refresh();
    void vscode.window.showInformationMessage(`MPP: uninstalled ${name}@${result.version}.`);
  });

  register('mpp.trustPublisherKey', async () => {
    const file = (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Public key (PEM)': ['pem', 'pub'] }, title: 'Trust Publisher Key' }))?.[0];
    if (!file) return;
    const key = parsePublicKeyPem(await readFile(file.fsPath, 'utf8'));
    const name = await vscode.window.showInputBox({ title: `Name for key ${fingerprint(key.keyid)}`, prompt: 'The publisher this key belongs to (as they told you)' });
    if (!name) return;
    const answer = await vscode.window.showWarningMessage(`Trust key ${fingerprint(key.keyid)} as "${name}"? Packages it signs will install without asking.`, { modal: true }, 'Trust');
    if (answer !== 'Trust') return;
    await addTrustedKey(home(), key, name);
    view.refresh();
  });

  register('mpp.buildPackage', () => {
    // The build needs the componentizer (large, native helpers), which the extension does not ship: the CLI builds.
    const terminal = vscode.window.createTerminal({ name: 'MPP Build', cwd: vscode.workspace.workspaceFolders?.[0]?.uri });
    terminal.show();
    terminal.sendText('npx mpp build');
  });

  return {
    version: pkg.version,
    listTools: () => listInstalled(home()).flatMap((r) => r.manifest.tools.map((t) => `${r.name}/${t.name}`)),
  };
}

export function deactivate(): void {}
