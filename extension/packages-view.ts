import * as vscode from 'vscode';
import { isMppError } from '../runtime/errors.ts';
import { describeSensitivity } from '../runtime/format/describe.ts';
import type { Outdated } from '../runtime/registry/client/install.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import type { PackageEntry, PermissionState } from './listing.ts';

export type { PackageEntry } from './listing.ts';

export type Node =
  | { readonly type: 'package'; readonly entry: PackageEntry }
  | { readonly type: 'tool'; readonly entry: PackageEntry; readonly tool: string }
  | { readonly type: 'permission'; readonly entry: PackageEntry; readonly permission: PermissionState }
  | { readonly type: 'problem'; readonly entry: PackageEntry; readonly text: string };

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
  constructor(load: () => PackageEntry[], permissions: (name: string) => PermissionState[], checkOutdated: () => Promise<readonly Outdated[]>) {
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
      return entries.map((entry) => ({ type: 'package', entry }));
    }
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

  getTreeItem(node: Node): vscode.TreeItem {
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
