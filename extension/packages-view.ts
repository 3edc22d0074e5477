import * as vscode from 'vscode';
import { isMppError } from '../runtime/errors.ts';
import { describeSensitivity } from '../runtime/format/describe.ts';
import type { Outdated } from '../runtime/registry/client/install.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import type { PackageEntry, PermissionState } from './listing.ts';
import { describeOrgPolicy } from '../runtime/policy/org-describe.ts';
import { loadOrgPolicy, type OrgPolicy } from '../runtime/policy/org-policy.ts';

export type { PackageEntry } from './listing.ts';

export type Node =
  | { readonly type: 'package'; readonly entry: PackageEntry }
  | { readonly type: 'tool'; readonly entry: PackageEntry; readonly tool: string }
  | { readonly type: 'permission'; readonly entry: PackageEntry; readonly permission: PermissionState }
  | { readonly type: 'problem'; readonly entry: PackageEntry; readonly text: string }
  | { readonly type: 'org-policy'; readonly lines: readonly string[]; readonly files: readonly string[] }
  | { readonly type: 'org-rule'; readonly text: string; readonly index: number };

/**
 * The MPP activity-bar view: packages, and under each its tools and its
 * permissions with their state. Context menus key on `contextValue`.
 * Which packages a registry has a newer version of is asked after the list
 * shows, in the background: listing never waits for the network.
 */
export class PackagesView implements vscode.TreeDataProvider<Node> {
  readonly #changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;

  readonly #load: () => PackageEntry[];
  readonly #permissions: (name: string) => PermissionState[];
  readonly #checkOutdated: () => Promise<readonly Outdated[]>;
  #outdated = new Map<string, Outdated>();
  /** The list changed since the last check for updates. */
  #stale = true;
  #checking: Promise<void> | undefined;

  /** `checkOutdated` resolves with nothing when no registry is configured, and reports its own failures. */
  readonly #orgPolicy: () => OrgPolicy | undefined;

  constructor(load: () => PackageEntry[], permissions: (name: string) => PermissionState[], checkOutdated: () => Promise<readonly Outdated[]>, orgPolicy: () => OrgPolicy | undefined = loadOrgPolicy) {
    this.#orgPolicy = orgPolicy;
    this.#load = load;
    this.#permissions = permissions;
    this.#checkOutdated = checkOutdated;
  }

  /** Redraws; asks the registries again only when `packagesChanged` (an install, update, uninstall, another home, the Refresh command). */
  refresh(opts: { packagesChanged?: boolean } = {}): void {
    if (opts.packagesChanged) this.#stale = true;
    this.#changed.fire(undefined);
  }

  #startCheck(): void {
    this.#stale = false;
    const previous = this.#checking ?? Promise.resolve();
    // One check at a time; a refresh during one checks again after it.
    this.#checking = previous.then(async () => {
      const found = await this.#checkOutdated();
      const next = new Map(found.map((o) => [o.name, o]));
      const same = next.size === this.#outdated.size && [...next].every(([name, o]) => this.#outdated.get(name)?.latest === o.latest);
      this.#outdated = next;
      // Redrawing does not list again as stale, so this does not loop.
      if (!same) this.#changed.fire(undefined);
    });
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      const entries = this.#load();
      if (this.#stale) this.#startCheck();
      return [...this.#policyNode(), ...entries.map((entry): Node => ({ type: 'package', entry }))];
    }
    if (node.type === 'org-policy') return node.lines.map((text, index) => ({ type: 'org-rule', text, index }));
    if (node.type !== 'package') return [];
    const { entry } = node;
    const tools: Node[] = entry.record.manifest.tools.map((t) => ({ type: 'tool', entry, tool: t.name }));
    let permissions: Node[];
    try {
      permissions = this.#permissions(entry.record.name).map((permission) => ({ type: 'permission', entry, permission }));
    } catch (e) {
      // Reading permissions verifies the package again: a tampered or broken one says so here.
      permissions = [{ type: 'problem', entry, text: isMppError(e) ? `${e.message} (${e.code})` : String(e) }];
    }
    return [...tools, ...permissions];
  }

  /** Shown first while an organisation policy is in force; a broken one says so (nothing runs until it is fixed). */
  #policyNode(): Node[] {
    let policy: OrgPolicy | undefined;
    try {
      policy = this.#orgPolicy();
    } catch (e) {
      return [{ type: 'org-policy', lines: [isMppError(e) ? `${e.message} (${e.code})` : String(e)], files: [] }];
    }
    return policy ? [{ type: 'org-policy', lines: describeOrgPolicy(policy), files: policy.files }] : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.type === 'org-policy') {
      const item = new vscode.TreeItem("Organisation policy active", vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'org-policy';
      item.description = node.files.length ? `${node.lines.length} restriction${node.lines.length === 1 ? '' : 's'}` : 'refused';
      item.tooltip = `Set by your administrator in ${node.files.join(', ') || 'the system policy folder'}; your settings cannot loosen it.`;
      item.iconPath = new vscode.ThemeIcon(node.files.length ? 'law' : 'error');
      item.contextValue = 'mpp.orgPolicy';
      return item;
    }
    if (node.type === 'org-rule') {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.id = `org-rule:${node.index}`;
      item.tooltip = node.text;
      item.iconPath = new vscode.ThemeIcon('circle-small-filled');
      return item;
    }
    const { record } = node.entry;
    if (node.type === 'package') {
      const verified = node.entry.keyState === 'trusted';
      const item = new vscode.TreeItem(record.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `pkg:${record.name}`;
      // Only a newer version of what is installed now (an update just done leaves no stale marker).
      const update = this.#outdated.get(record.name);
      const newer = update && update.installed === record.version ? update : undefined;
      item.description = `${record.version}${record.development ? ' (development)' : ''}${newer ? ` · update available: ${newer.latest}` : ''} · ${record.publisher.name ?? 'unnamed key'}${verified ? ' ✓' : ` (key ${node.entry.keyState})`}`;
      item.tooltip = new vscode.MarkdownString(
        `**${record.name}@${record.version}**\n\n${record.manifest.description}\n\nPublisher: ${record.publisher.name ?? 'unnamed'} — key ${fingerprint(record.publisher.keyid)} (${verified ? 'verified: trusted key' : node.entry.keyState})${record.development ? '\n\nDevelopment build: installed from your own project, signed with your key (trusted for this package only); never published.' : ''}\n\nInstalled ${record.installedAt}${newer ? `\n\nUpdate available: ${newer.latest} from registry "${newer.registry}" (MPP: Update Packages)` : ''}`,
      );
      // The icon stays visible in a narrow view; a key that is not trusted is shown before any update.
      item.iconPath = !verified ? new vscode.ThemeIcon('unverified') : newer ? new vscode.ThemeIcon('arrow-circle-up', new vscode.ThemeColor('notificationsInfoIcon.foreground')) : new vscode.ThemeIcon('verified-filled');
      item.contextValue = 'mpp.package';
      return item;
    }
    if (node.type === 'tool') {
      const tool = record.manifest.tools.find((t) => t.name === node.tool)!;
      const item = new vscode.TreeItem(tool.name, vscode.TreeItemCollapsibleState.None);
      item.id = `tool:${record.name}:${tool.name}`;
      item.description = tool.sensitivity === 'none' ? '' : tool.sensitivity;
      item.tooltip = `${tool.description}\n(${describeSensitivity(tool)})`;
      item.iconPath = new vscode.ThemeIcon(tool.sensitivity === 'destructive' ? 'warning' : 'tools');
      item.contextValue = 'mpp.tool';
      item.command = { command: 'mpp.runTool', title: 'Run', arguments: [node] };
      return item;
    }
    if (node.type === 'problem') {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.id = `problem:${record.name}`;
      item.iconPath = new vscode.ThemeIcon('error');
      return item;
    }
    const p = node.permission;
    const item = new vscode.TreeItem(p.text, vscode.TreeItemCollapsibleState.None);
    item.id = `perm:${record.name}:${p.id}`;
    item.description = p.state;
    item.tooltip = `${p.id}: ${p.state}`;
    item.iconPath = new vscode.ThemeIcon(p.granted ? 'pass' : 'circle-slash');
    item.contextValue = 'mpp.permission';
    return item;
  }
}
