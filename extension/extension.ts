/**
 * The editor shell over runtime/: views, commands and dialogs. Nothing a tool
 * controls runs on this thread: tool code runs in the sandbox's worker threads.
 * Activation is lazy (the view, a command, or another extension asking for the
 * API) and reads nothing but the install index.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { auditLogExists, openAuditLog, recordAudit, type AuditRecord } from '../runtime/audit/log.ts';
import { isMppError } from '../runtime/errors.ts';
import { mppHome } from '../runtime/home.ts';
import { installPackage, listInstalled, loadInstalled, uninstallPackage } from '../runtime/store/packages.ts';
import { examinePackage, verifyPackage } from '../runtime/trust/gatekeeper.ts';
import { fingerprint, parsePublicKeyPem, publicKeyFromSpki } from '../runtime/trust/keys.ts';
import { addTrustedKey, TrustStore } from '../runtime/trust/store.ts';
import pkg from '../package.json' with { type: 'json' };
import type { AuditDialog } from '../webview/protocol.ts';
import { ToolCalls } from './calls.ts';
import { askTrust, showInspector } from './dialogs.ts';
import { registerLanguageModelTools, splitToolId } from './lm-tools.ts';
import { DialogPanel } from './panel.ts';
import { PackagesView, type Node, type PackageEntry } from './packages-view.ts';

export interface MppApi {
  readonly version: string;
  /** Names of the installed packages' tools, as `scope/name/tool`. */
  listTools(): string[];
  /**
   * Runs a tool for another extension's agent, guarded by the same dialogs.
   * `agent` labels the caller (recorded as `unverified:<agent>` until signed
   * agent credentials are checked).
   */
  callTool(request: { tool: string; input: unknown; agent: string }): Promise<unknown>;
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

const AUDIT_ROWS = 1000;

function auditDialog(h: string): AuditDialog {
  if (!auditLogExists(h)) return { kind: 'audit', records: [], chain: { ok: true, text: 'Nothing recorded yet.' } };
  const log = openAuditLog(h, { readOnly: true });
  try {
    const chain = log.verify();
    const records = log.query({ limit: AUDIT_ROWS }).reverse().map(auditRow);
    const text = chain.ok
      ? `Chain verified: ${chain.records} records intact${chain.head ? `, head #${chain.head.seq} ${chain.head.hash.slice(0, 16)}…` : ''}.`
      : `Chain BROKEN at record #${chain.problem?.seq}: ${chain.problem?.message}`;
    return { kind: 'audit', records, chain: { ok: chain.ok, text } };
  } finally {
    log.close();
  }
}

function auditRow(r: AuditRecord): AuditDialog['records'][number] {
  const { type, ...rest } = r.event as unknown as Record<string, unknown> & { type: string };
  const agent = (rest.agent as { id?: string } | undefined)?.id ?? '';
  const pkgName = typeof rest.package === 'string' ? rest.package : '';
  delete rest.agent;
  delete rest.package;
  return { seq: r.seq, time: r.time, type, package: pkgName, agent, detail: JSON.stringify(rest) };
}

export function activate(context: vscode.ExtensionContext): MppApi {
  const view = new PackagesView(entries);
  const calls = new ToolCalls(context.extensionUri, home);
  context.subscriptions.push(calls, ...registerLanguageModelTools(calls, home));
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
      recordAudit(h, { type: 'trust', action: 'add', keyid: author.key.keyid, name: examined.manifest.publisher.name });
      verified = verifyPackage(bytes, TrustStore.load(h));
    }
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Installing ${verified.manifest.name}` }, (progress) =>
      installPackage(h, bytes, { verified, onProgress: (message) => progress.report({ message }) }),
    );
    recordAudit(h, {
      type: 'install',
      package: result.name,
      version: result.version,
      digest: result.digest,
      publisher: result.publisher.name ? { keyid: result.publisher.keyid, name: result.publisher.name } : { keyid: result.publisher.keyid },
      change: result.change,
      source: file.fsPath,
    });
    view.refresh();
    void vscode.window.showInformationMessage(`MPP: ${result.name}@${result.version} ${result.change}, signed by ${result.publisher.name ?? 'an unnamed key'} (${fingerprint(result.publisher.keyid)}).`);
  });

  register('mpp.runTool', async (node?: Node) => {
    let id = node?.type === 'tool' ? `${node.entry.record.name}/${node.tool}` : undefined;
    if (!id) {
      const items = listInstalled(home()).flatMap((r) => r.manifest.tools.map((t) => ({ label: `${r.name}/${t.name}`, description: t.sensitivity === 'none' ? '' : t.sensitivity, detail: t.description })));
      id = (await vscode.window.showQuickPick(items, { title: 'Run MPP Tool' }))?.label;
    }
    const target = id ? splitToolId(id) : undefined;
    if (!target) return;
    const input = await vscode.window.showInputBox({ title: `Input for ${id}`, prompt: 'A JSON object matching the tool\'s input schema', value: '{}' });
    if (input === undefined) return;
    const output = await calls.call({ ...target, input, agent: 'unverified:user' });
    calls.output.info(`${id} returned ${JSON.stringify(output)}`);
    void vscode.window.showInformationMessage(`MPP: ${id} returned ${JSON.stringify(output)}`);
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
    recordAudit(home(), { type: 'uninstall', package: name, version: result.version, purge: false });
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
    recordAudit(home(), { type: 'trust', action: 'add', keyid: key.keyid, name });
    view.refresh();
  });

  register('mpp.showAuditLog', () => {
    const h = home();
    const exportLog = (): void =>
      void report(async () => {
        const target = await vscode.window.showSaveDialog({ title: 'Export MPP Audit Log', filters: { 'JSON Lines': ['jsonl'] }, defaultUri: vscode.Uri.file('mpp-audit.jsonl') });
        if (!target) return;
        const log = openAuditLog(h, { readOnly: true });
        try {
          await writeFile(target.fsPath, log.exportLines());
        } finally {
          log.close();
        }
        void vscode.window.showInformationMessage(`MPP: audit log exported to ${target.fsPath}; check it with \`mpp audit verify\`.`);
      });
    void new DialogPanel(context.extensionUri, auditDialog(h), { onExport: exportLog }).answer;
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
    callTool: async ({ tool, input, agent }) => {
      const target = splitToolId(tool);
      if (!target) throw new Error(`"${tool}" is not an MPP tool id (scope/package/tool).`);
      return calls.call({ ...target, input: JSON.stringify(input ?? {}), agent: `unverified:${agent}` });
    },
  };
}

export function deactivate(): void {}
