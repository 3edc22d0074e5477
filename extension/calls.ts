/**
 * Tool calls from the editor. Until runtime/governance's ToolHost is merged,
 * this is the interim path: the package re-verified on load -> confirmation
 * dialog for write/destructive tools (deny on timeout or close) -> the
 * sandbox with an empty grant (deny by default: no files, network,
 * environment or storage) -> output checked against its schema. Stored
 * grants, consent and audit of calls come with the ToolHost.
 */
import * as vscode from 'vscode';
import { MppError } from '../runtime/errors.ts';
import { describeSensitivity } from '../runtime/format/describe.ts';
import { homePaths } from '../runtime/home.ts';
import { effectiveLimits } from '../runtime/policy/limits.ts';
import { findTool, invokeTool } from '../runtime/run/invoke.ts';
import type { LogRecord } from '../runtime/sandbox/host-services.ts';
import { loadInstalled } from '../runtime/store/packages.ts';
import { TrustStore } from '../runtime/trust/store.ts';
import type { ConfirmDialog } from '../webview/protocol.ts';
import { DialogPanel } from './panel.ts';

export interface CallRequest {
  readonly packageName: string;
  readonly tool: string;
  /** The input JSON text. */
  readonly input: string;
  /** Who asks: `unverified:<label>` until agent credentials are checked by the ToolHost. */
  readonly agent: string;
}

export class ToolCalls implements vscode.Disposable {
  readonly #status: vscode.StatusBarItem;
  readonly #log: vscode.OutputChannel;
  readonly #extensionUri: vscode.Uri;
  readonly #home: () => string;
  #running = 0;

  constructor(extensionUri: vscode.Uri, home: () => string) {
    this.#extensionUri = extensionUri;
    this.#home = home;
    this.#status = vscode.window.createStatusBarItem('mpp.running', vscode.StatusBarAlignment.Left, 10);
    this.#status.name = 'MPP tool calls';
    this.#log = vscode.window.createOutputChannel('MPP', { log: true });
  }

  get output(): vscode.LogOutputChannel {
    return this.#log as vscode.LogOutputChannel;
  }

  async call(req: CallRequest): Promise<unknown> {
    const home = this.#home();
    const { pkg } = loadInstalled(home, req.packageName, TrustStore.load(home));
    const tool = findTool(pkg, req.tool);
    if (tool.sensitivity === 'write' || tool.sensitivity === 'destructive') await this.#confirm(req, pkg.manifest.name, tool.description, tool.sensitivity, describeSensitivity(tool));
    const settings = vscode.workspace.getConfiguration('mpp');
    const limits = effectiveLimits(pkg.manifest, { timeoutMs: settings.get<number>('limits.timeoutMs'), memoryBytes: (settings.get<number>('limits.memoryMb') ?? 256) * 1024 * 1024 });
    this.#changeRunning(+1, `${req.packageName}/${req.tool}`);
    try {
      return await invokeTool({
        pkg,
        tool: tool.name,
        input: req.input,
        grant: { fs: [], net: [], env: {}, limits },
        services: { log: (r: LogRecord) => this.#log.appendLine(`[${req.packageName}/${req.tool}] ${r.level}: ${r.message}`) },
        cacheDir: homePaths(home).componentCache,
      });
    } finally {
      this.#changeRunning(-1);
    }
  }

  /** Only the user's click in the dialog approves; closing it, or no answer in time, denies. */
  async #confirm(req: CallRequest, packageName: string, description: string, sensitivity: string, meaning: string): Promise<void> {
    const timeoutSeconds = vscode.workspace.getConfiguration('mpp').get<number>('confirmation.timeoutSeconds') ?? 60;
    let args: string;
    try {
      args = JSON.stringify(JSON.parse(req.input), null, 2);
    } catch {
      args = req.input;
    }
    const dialog: ConfirmDialog = { kind: 'confirm', packageName, tool: req.tool, operation: `${description} (${meaning})`, sensitivity, args, agent: req.agent, timeoutSeconds };
    const answer = await new DialogPanel(this.#extensionUri, dialog, { timeoutMs: timeoutSeconds * 1000 }).answer;
    if (answer?.kind === 'confirm' && answer.decision === 'approve') return;
    throw new MppError('MPP_E_CONFIRMATION_DENIED', `${req.tool} of ${packageName} was not run: ${answer ? 'you denied it' : 'the confirmation was closed or timed out'}.`);
  }

  #changeRunning(delta: number, what?: string): void {
    this.#running += delta;
    if (this.#running === 0) {
      this.#status.hide();
      return;
    }
    this.#status.text = `$(sync~spin) MPP: ${this.#running} running`;
    if (what) this.#status.tooltip = `Running ${what}`;
    this.#status.show();
  }

  dispose(): void {
    this.#status.dispose();
    this.#log.dispose();
  }
}
