import * as vscode from 'vscode';
import { describeSensitivity } from '../runtime/format/describe.ts';
import type { InstalledRecord } from '../runtime/store/packages.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import type { KeyState } from '../runtime/trust/store.ts';
import { permissionItems } from './dialogs.ts';

/** What the view shows of one installed package: read from the store on refresh, never from a tool. */
export interface PackageEntry {
  readonly record: InstalledRecord;
  readonly keyState: KeyState;
  /** State of each declared capability id, e.g. `granted (workspace)`, `not granted`. */
  readonly permissionStates: ReadonlyMap<string, string>;
}

export type Node =
  | { readonly type: 'package'; readonly entry: PackageEntry }
  | { readonly type: 'tool'; readonly entry: PackageEntry; readonly tool: string }
  | { readonly type: 'permission'; readonly entry: PackageEntry; readonly id: string; readonly text: string; readonly state: string };

/**
 * The MPP activity-bar view: packages, and under each its tools and its
 * permissions with their state. Context menus key on `contextValue`.
 */
export class PackagesView implements vscode.TreeDataProvider<Node> {
  readonly #changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;

  readonly #load: () => PackageEntry[];

  constructor(load: () => PackageEntry[]) {
    this.#load = load;
  }

  refresh(): void {
    this.#changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.#load().map((entry) => ({ type: 'package', entry }));
    if (node.type !== 'package') return [];
    const { entry } = node;
    const tools: Node[] = entry.record.manifest.tools.map((t) => ({ type: 'tool', entry, tool: t.name }));
    const permissions: Node[] = permissionItems(entry.record).map((p) => ({ type: 'permission', entry, id: p.id, text: p.text, state: entry.permissionStates.get(p.id) ?? 'not granted' }));
    return [...tools, ...permissions];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const { record } = node.entry;
    if (node.type === 'package') {
      const verified = node.entry.keyState === 'trusted';
      const item = new vscode.TreeItem(record.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `pkg:${record.name}`;
      item.description = `${record.version} · ${record.publisher.name ?? 'unnamed key'}${verified ? ' ✓' : ` (key ${node.entry.keyState})`}`;
      item.tooltip = new vscode.MarkdownString(
        `**${record.name}@${record.version}**\n\n${record.manifest.description}\n\nPublisher: ${record.publisher.name ?? 'unnamed'} — key ${fingerprint(record.publisher.keyid)} (${verified ? 'verified: trusted key' : node.entry.keyState})\n\nInstalled ${record.installedAt}`,
      );
      item.iconPath = new vscode.ThemeIcon(verified ? 'verified-filled' : 'unverified');
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
    const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    item.id = `perm:${record.name}:${node.id}`;
    item.description = node.state;
    item.tooltip = `${node.id}: ${node.state}`;
    item.iconPath = new vscode.ThemeIcon(node.state.startsWith('granted') ? 'pass' : 'circle-slash');
    item.contextValue = 'mpp.permission';
    return item;
  }
}
