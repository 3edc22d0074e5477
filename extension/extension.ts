/**
 * The editor shell over runtime/: views, commands and dialogs. Nothing a tool
 * controls runs on this thread: tool code runs in the sandbox's worker threads.
 * Activation is lazy (the view, a command, or another extension asking for the
 * API) and reads nothing but the install index.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { auditLogExists, openAuditLog, type AuditRecord } from '../runtime/audit/log.ts';
import { activityByDay, describeEvent } from '../runtime/audit/sentences.ts';
import { isMppError, MppError } from '../runtime/errors.ts';
import { AuditForwarder } from '../runtime/audit/forward/forwarder.ts';
import { applyAuditRetention, recordDone, recordUninstall, withAuditLog } from '../runtime/audit/trail.ts';
import { mppHome } from '../runtime/home.ts';
import { grantPermissions, permissionsOf, revokePermissions } from '../runtime/governance/decisions.ts';
import { GLOBAL_SCOPE, workspaceScope } from '../runtime/state/grants.ts';
import { checkOutdated, type Outdated } from '../runtime/registry/client/install.ts';
import { listInstalled, loadInstalled, uninstallPackage } from '../runtime/store/packages.ts';
import { fingerprint, parsePublicKeyPem } from '../runtime/trust/keys.ts';
import { changeTrust, TrustStore } from '../runtime/trust/store.ts';
import pkg from '../package.json' with { type: 'json' };
import type { AuditDialog } from '../webview/protocol.ts';
import { askConsent, consentDialog, editorLimits, editorPolicy, ToolCalls, workspaceFolder, workspaceOpen } from './calls.ts';
import { showInspector } from './dialogs.ts';
import { describeInstall, installFile, installFromRegistries, NO_REGISTRY, parseSpec, registryConfigured, updatePackages } from './install.ts';
import { registerLanguageModelTools } from './lm-tools.ts';
import { DialogPanel } from './panel.ts';
import { installedTools, packageEntries, permissionStates, toolTarget } from './listing.ts';
import { InHostMcpServer, type McpEndpoint } from './mcp-server.ts';
import { PackagesView, type Node } from './packages-view.ts';
import { findCli } from './cli.ts';
import { buildAndInstallDevelopment, pickProject } from './dev-run.ts';
import { ToolFormPanel } from './tool-form.ts';

export interface MppApi {
  readonly version: string;
  /** Names of the installed packages' tools, as `scope/name/tool`. */
  listTools(): string[];
  /**
   * Runs a tool for another extension's agent, guarded by the same dialogs
   * and grants. `credential` (the text `mpp agent credential` writes) makes
   * the call as that verified agent; without it the caller is
   * `unverified:<agent>`. Resolves with the tool's (redacted) output.
   */
  callTool(request: { tool: string; input: unknown; agent: string; credential?: string }): Promise<unknown>;
  /**
   * The in-host MCP server (started on first use): its URL and the header
   * that authorizes a client, as the editor's MCP definition carries them.
   * Its calls are guarded by the same dialogs.
   */
  mcpServer(): Promise<McpEndpoint>;
}

/** The MPP home: the `mpp.home` setting, else the same folder the CLI uses. */
function home(): string {
  return vscode.workspace.getConfiguration('mpp').get<string>('home') || mppHome();
}

/** Every failure reaches the user as its message and hint, never as a stack. */
async function report(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    showError(e);
  }
}

function showError(e: unknown): void {
  const said = isMppError(e) && typeof e.detail?.toolMessage === 'string' ? ` The tool said: ${String(e.detail.toolCode)}: ${e.detail.toolMessage}` : '';
  const text = isMppError(e) ? `${e.message}${said}${e.hint ? ` ${e.hint}` : ''} (${e.code})` : `MPP failed: ${(e as Error).message}`;
  void vscode.window.showErrorMessage(inert(text));
}

/** The `mpp.cliPath` setting: the CLI the editor runs for builds (else `mpp` on PATH). */
function cliSetting(): string | undefined {
  return vscode.workspace.getConfiguration('mpp').get<string>('cliPath') || undefined;
}

/** Notifications turn `[label](command:…)` into links: text from a tool must not become one. */
function inert(text: string): string {
  return text.replace(/\]\(/g, ']\u200b(');
}

async function pickPackage(node: Node | undefined, title: string): Promise<string | undefined> {
  if (node && 'entry' in node) return node.entry.record.name;
  const items = listInstalled(home()).map((r) => ({ label: r.name, description: r.version }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No MPP packages are installed. Install one with "MPP: Install Package from File…".');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title }))?.label;
}

const AUDIT_ROWS = 1000;

function auditDialog(h: string): AuditDialog {
  if (!auditLogExists(h)) return { kind: 'audit', records: [], chain: { ok: true, text: 'Nothing recorded yet.' }, activity: { days: [], packages: [] } };
  const log = openAuditLog(h, { readOnly: true });
  try {
    const chain = log.verify();
    const recent = log.query({ limit: AUDIT_ROWS });
    const text = chain.ok
      ? `Chain verified: ${chain.records} records intact${chain.head ? `, head #${chain.head.seq} ${chain.head.hash.slice(0, 16)}…` : ''}.`
      : `Chain BROKEN at record #${chain.problem?.seq}: ${chain.problem?.message}`;
    return { kind: 'audit', records: recent.reverse().map(auditRow), chain: { ok: chain.ok, text }, activity: activityByDay(recent) };
  } finally {
    log.close();
  }
}

function auditRow(r: AuditRecord): AuditDialog['records'][number] {
  const e = r.event as unknown as Record<string, unknown>;
  const agent = (e.agent as { id?: string } | undefined)?.id ?? (typeof e.agentId === 'string' ? e.agentId : '');
  const { text, outcome } = describeEvent(r.event);
  // The raw record whole, as `mpp audit export` writes it: nothing shortened.
  return { seq: r.seq, time: r.time.slice(0, 19).replace('T', ' '), type: r.type, package: typeof e.package === 'string' ? e.package : '', agent, sentence: text, outcome, raw: JSON.stringify(r, null, 2) };
}

/** The in-host MCP server as the editor's agent mode sees it (spec/mcp.md §7). */
function mcpProvider(mcp: InHostMcpServer): vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition> {
  return {
    // Eager and cheap: the server starts only when the editor resolves the definition to use it.
    provideMcpServerDefinitions: () => [new vscode.McpHttpServerDefinition('MPP tools', vscode.Uri.parse('http://127.0.0.1/mcp'), {}, pkg.version)],
    resolveMcpServerDefinition: async (definition) => {
      const endpoint = await mcp.start();
      definition.uri = vscode.Uri.parse(endpoint.url);
      definition.headers = { ...endpoint.headers };
      return definition;
    },
  };
}

/** Checking for updates never gets in the way: no registry, no check; a failure goes to the MPP log only. */
async function newerVersions(calls: ToolCalls): Promise<Outdated[]> {
  const h = home();
  try {
    if (!registryConfigured(h)) return [];
    return await checkOutdated(h, { transfer: { timeoutMs: 15_000, idleTimeoutMs: 15_000 }, onUnavailable: (e, name) => calls.output.warn(`checking for an update of ${name}: ${(e as Error).message}`) });
  } catch (e) {
    calls.output.warn(`checking for updates failed: ${isMppError(e) ? `${e.message} (${e.code})` : String(e)}`);
    return [];
  }
}

let running: ToolCalls | undefined;

export function activate(context: vscode.ExtensionContext): MppApi {
  // A consent answered anywhere (a command, an agent, MCP, the API) changes the permissions the view shows.
  const calls = new ToolCalls(context.extensionUri, home, () => view.refresh());
  running = calls;
  const view = new PackagesView(
    () => packageEntries(home()),
    (name) => permissionStates(home(), name, workspaceOpen() ? workspaceFolder(home()) : undefined),
    () => newerVersions(calls),
  );
  const mcp = new InHostMcpServer(() => ({
    home: home(),
    workspace: workspaceFolder(home()),
    audit: calls.audit,
    auditGrouped: calls.auditGrouped,
    log: calls.toolLog,
    limits: editorLimits(),
    onCall: calls.track,
    policy: editorPolicy(),
    confirmer: calls.confirmer,
    consent: calls.consent,
    sandboxes: calls.sandboxes,
    serverInfo: { name: 'mpp-vscode', version: pkg.version },
  }));
  context.subscriptions.push(
    calls,
    mcp,
    ...registerLanguageModelTools(calls, home),
    vscode.lm.registerMcpServerDefinitionProvider('mpp.tools', mcpProvider(mcp)),
  );
  const register = (id: string, run: (...args: never[]) => Promise<void> | void): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: never[]) => report(async () => run(...args))));
  };

  context.subscriptions.push(
    vscode.window.createTreeView('mpp.packages', { treeDataProvider: view, showCollapseAll: true }),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('mpp.home') && view.refresh({ packagesChanged: true })),
  );

  // Retention: archive audit records older than the setting, soon after start and daily (never blocking activation).
  const retention = (): void => {
    try {
      const archived = applyAuditRetention(home(), vscode.workspace.getConfiguration('mpp').get<number>('audit.retentionDays'));
      if (archived) calls.output.info(`audit retention: archived ${archived.archived} records in ${archived.segment}`);
    } catch (e) {
      calls.output.warn(`audit retention failed: ${isMppError(e) ? `${e.message} (${e.code})` : String(e)}`);
    }
  };
  const first = setTimeout(retention, 10_000);
  const daily = setInterval(retention, 86_400_000);
  first.unref();
  daily.unref();
  context.subscriptions.push({ dispose: () => (clearTimeout(first), clearInterval(daily)) });

  // The organisation's audit collector, when its policy names one: records of every host on this home, in order.
  const forwarder = new AuditForwarder(home, { onProblem: (p) => calls.output.warn(`audit forwarding: ${p}`) }).start();
  context.subscriptions.push({ dispose: () => void forwarder.stop() });

  register('mpp.showVersion', () => void vscode.window.showInformationMessage(`MPP ${pkg.version}`));
  register('mpp.refresh', () => view.refresh({ packagesChanged: true }));

  register('mpp.installFromFile', async (uri?: vscode.Uri) => {
    const file = uri ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'MPP package': ['mpp'] }, title: 'Install MPP Package' }))?.[0];
    if (!file) return;
    const result = await installFile(context.extensionUri, home(), file.fsPath);
    view.refresh({ packagesChanged: true });
    void vscode.window.showInformationMessage(`MPP: ${describeInstall(result)}`);
  });

  /** Opens the tool form for `id`: the input is entered in a form made from its input schema; each result shows in the form. */
  const openToolForm = (id: string): void => {
    const target = toolTarget(id, 'Pick a tool in the MPP view.');
    const record = listInstalled(home()).find((r) => r.name === target.packageName);
    const tool = record?.manifest.tools.find((t) => t.name === target.tool);
    if (!record || !tool) throw new MppError('MPP_E_TOOL_UNKNOWN', `${id} is not an installed tool.`, { hint: 'Pick a tool in the MPP view.' });
    ToolFormPanel.open(
      context.extensionUri,
      {
        packageName: record.name,
        version: record.version,
        development: record.development,
        tool: tool.name,
        title: tool.title ?? tool.name,
        description: tool.description,
        sensitivity: tool.sensitivity,
        inputSchema: tool.inputSchema as Record<string, unknown>,
      },
      async (input) => {
        try {
          const result = await calls.call({ ...target, input, caller: { label: 'vscode-user' } });
          calls.output.info(`${id} returned ${JSON.stringify(result.output)}`);
          void vscode.window.showInformationMessage(inert(`MPP: ${id} returned ${JSON.stringify(result.output)}`));
          return result;
        } catch (e) {
          showError(e);
          throw e;
        }
      },
    );
  };

  register('mpp.runTool', async (node?: Node) => {
    let id = node?.type === 'tool' ? `${node.entry.record.name}/${node.tool}` : undefined;
    if (!id) {
      const items = installedTools(home()).map((t) => ({ label: t.id, description: t.sensitivity === 'none' ? '' : t.sensitivity, detail: t.description }));
      id = (await vscode.window.showQuickPick(items, { title: 'Run MPP Tool' }))?.label;
    }
    if (!id) return;
    openToolForm(id);
  });

  register('mpp.buildInstallRun', async () => {
    const cli = findCli(cliSetting());
    const projectDir = await pickProject();
    if (!projectDir) return;
    const h = home();
    const dev = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'MPP' }, (p) => buildAndInstallDevelopment(cli, h, projectDir, (message) => p.report({ message })));
    view.refresh({ packagesChanged: true });
    const { name, version } = dev.installed;
    calls.output.info(`installed ${name}@${version} (development) from ${dev.file}`);
    const tools = dev.installed.manifest.tools;
    const tool = tools.length === 1 ? tools[0]!.name : (await vscode.window.showQuickPick(tools.map((t) => ({ label: t.name, detail: t.description })), { title: `Run which tool of ${name}?` }))?.label;
    if (!tool) return;
    openToolForm(`${name}/${tool}`);
  });

  register('mpp.managePermissions', async (node?: Node) => {
    const name = await pickPackage(node, 'Manage MPP Permissions');
    if (!name) return;
    const h = home();
    const here = workspaceOpen() ? workspaceScope(workspaceFolder(h)) : GLOBAL_SCOPE;
    const now = permissionsOf(h, name, here);
    const where = now.effective?.scope.kind === 'global' ? 'all workspaces' : 'this workspace';
    const granted = now.effective?.capabilities.length ?? 0;
    const current = !now.effective
      ? 'no decision yet: it asks before its first run'
      : now.effective.decision === 'denied'
        ? `denied (${where})`
        : `allowed to run with ${granted} of ${now.capabilities.length} permissions granted (${where})`;
    const answer = await askConsent(context.extensionUri, consentDialog(now, 'manage', current));
    if (!answer) return;
    const scope = answer.scope === 'global' ? GLOBAL_SCOPE : here;
    // The dialog's answer is the whole grant: one write and one audit record, never a grant then a revoke.
    grantPermissions(h, { package: name, capabilities: answer.capabilities, scope, deny: answer.decision === 'deny', exact: true, source: 'editor' }, calls.audit);
    view.refresh();
    void vscode.window.showInformationMessage(`MPP: permissions of ${name} saved (${answer.decision === 'deny' ? 'denied' : `${answer.capabilities.length} granted`}, ${answer.scope === 'global' ? 'all workspaces' : 'this workspace'}).`);
  });

  register('mpp.revokePermissions', async (node?: Node) => {
    const name = await pickPackage(node, 'Revoke MPP Permissions');
    if (!name) return;
    const answer = await vscode.window.showWarningMessage(`Revoke every permission of ${name}, in every workspace? Its next calls run with nothing granted.`, { modal: true }, 'Revoke All');
    if (answer !== 'Revoke All') return;
    const h = home();
    revokePermissions(h, { package: name, capabilities: 'all', scope: 'all' }, calls.audit);
    view.refresh();
    void vscode.window.showInformationMessage(`MPP: revoked every permission of ${name}.`);
  });

  register('mpp.installFromRegistry', async () => {
    const h = home();
    if (!registryConfigured(h)) {
      void vscode.window.showWarningMessage(NO_REGISTRY);
      return;
    }
    const spec = await vscode.window.showInputBox({
      title: 'Install MPP Package from Registry',
      prompt: 'scope/name, optionally with a version or range: acme/word-tools, acme/word-tools@1.2.0, acme/word-tools@^1.2',
      placeHolder: 'scope/name[@range]',
      validateInput: (v) => (v === '' || parseSpec(v.trim()) ? undefined : 'A package name is scope/name in lower case, e.g. acme/word-tools, optionally @version or @range.'),
    });
    if (!spec?.trim()) return;
    const result = await installFromRegistries(context.extensionUri, h, spec.trim());
    view.refresh({ packagesChanged: true });
    if (result.offline) void vscode.window.showWarningMessage(`MPP: no registry for ${result.name} could be reached; installed the copy downloaded earlier, as the last signed index seen names it.`);
    if (result.trustedByRotation) void vscode.window.showWarningMessage(`MPP: the publisher of ${result.name} moved to key ${fingerprint(result.trustedByRotation)}; trusted it because your trusted key signed the hand-over.`);
    void vscode.window.showInformationMessage(`MPP: ${describeInstall(result, result.registry)}`);
  });

  register('mpp.updatePackages', async (node?: Node) => {
    const h = home();
    if (!registryConfigured(h)) {
      void vscode.window.showWarningMessage(`${NO_REGISTRY} A package installed from a file is updated by installing its new .mpp file.`);
      return;
    }
    const report = await updatePackages(context.extensionUri, h, node && 'entry' in node ? [node.entry.record.name] : 'all');
    view.refresh({ packagesChanged: true });
    for (const k of report.kept) calls.output.info(`kept ${k.name}: ${k.code} ${k.message}`);
    const updated = report.updated.map((u) => `${u.name} ${u.from} → ${u.to}`).join(', ');
    const kept = report.kept.length ? ` ${report.kept.length} not updated (${report.kept.map((k) => `${k.name}: ${k.code}`).join(', ')}; details in the MPP output).` : '';
    const unlisted = report.unlisted.length ? ` ${report.unlisted.length} not in any registry (installed from a file).` : '';
    // An update that asks for more permissions asks again before its next run (the consent dialog).
    // A package kept back (a refused attack, a registry down) is a warning, never a plain success, as the CLI exits 1.
    const summary = inert(`MPP: ${updated ? `updated ${updated}.` : report.kept.length ? 'nothing was updated.' : 'everything a registry has is up to date.'}${kept}${unlisted}`);
    void (report.kept.length ? vscode.window.showWarningMessage(summary) : vscode.window.showInformationMessage(summary));
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
    const h = home();
    // The log is opened first: one that cannot take the record refuses before anything is removed.
    const result = await withAuditLog(h, async (audit) => {
      const done = await uninstallPackage(h, name);
      recordUninstall(audit, name, done, false);
      return done;
    });
    view.refresh({ packagesChanged: true });
    void vscode.window.showInformationMessage(result.version ? `MPP: uninstalled ${name}@${result.version}.` : `MPP: ${name} was not installed.`);
  });

  register('mpp.trustPublisherKey', async () => {
    const file = (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Public key (PEM)': ['pem', 'pub'] }, title: 'Trust Publisher Key' }))?.[0];
    if (!file) return;
    const key = parsePublicKeyPem(await readFile(file.fsPath, 'utf8'));
    const name = await vscode.window.showInputBox({ title: `Name for key ${fingerprint(key.keyid)}`, prompt: 'The publisher this key belongs to (as they told you)' });
    if (!name) return;
    const answer = await vscode.window.showWarningMessage(`Trust key ${fingerprint(key.keyid)} as "${name}"? Packages it signs will install without asking.`, { modal: true }, 'Trust');
    if (answer !== 'Trust') return;
    const h = home();
    await withAuditLog(h, (audit) => changeTrust(h, audit, { action: 'add', key, name, via: 'command' }));
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
    // Never `npx mpp`: that would fetch and run whatever a registry serves under that name.
    const cli = findCli(cliSetting());
    const terminal = vscode.window.createTerminal({ name: 'MPP Build', cwd: vscode.workspace.workspaceFolders?.[0]?.uri });
    terminal.show();
    terminal.sendText(`${cli.shellText} build`);
  });

  return {
    version: pkg.version,
    listTools: () => installedTools(home()).map((t) => t.id),
    callTool: async ({ tool, input, agent, credential }) => {
      const target = toolTarget(tool, 'Use one of the ids listTools() returns.');
      const result = await calls.call({ ...target, input: JSON.stringify(input ?? {}), caller: { label: agent, ...(credential !== undefined ? { credential } : {}) } });
      return result.output;
    },
    mcpServer: () => mcp.start(),
  };
}

/** Waits for the kept sandboxes to stop. */
export function deactivate(): Promise<void> | undefined {
  return running?.sandboxes.dispose();
}
