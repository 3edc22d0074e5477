/**
 * Tool calls from the editor go through the governed call path every face
 * shares (runtime/governance ToolHost: package re-verified -> caller identity
 * -> agent restrictions -> stored grants, asking consent -> confirmation with
 * a one-time attestation -> sandbox -> redaction -> audit). What the editor
 * adds is its faces: the consent and confirmation dialogs, and its settings
 * as stricter-only policy overrides.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { openAuditLog, type AuditEvent, type AuditLog } from '../runtime/audit/log.ts';
import type { PiiClass } from '../runtime/format/manifest.ts';
import { describeCaller } from '../runtime/governance/caller-text.ts';
import type { ConfirmationRequest, Confirmer } from '../runtime/governance/confirm.ts';
import type { ConsentAnswer, ConsentPrompter, ConsentRequest } from '../runtime/governance/consent.ts';
import { ToolHost, type ToolCallResult } from '../runtime/governance/tool-host.ts';
import type { CallerClaim } from '../runtime/identity/credential.ts';
import type { HostPolicy } from '../runtime/policy/host-policy.ts';
import { DEFAULT_POOL_OPTIONS, SandboxPool } from '../runtime/run/sandbox-pool.ts';
import type { LogRecord } from '../runtime/sandbox/host-services.ts';
import { FS_PLATFORM_REFUSAL } from '../runtime/sandbox/fs-strategy.ts';
import { isMppError } from '../runtime/errors.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import type { ConfirmDialog, ConsentDialog } from '../webview/protocol.ts';
import { DialogPanel } from './panel.ts';
import { parseJson } from '../runtime/format/strict-json.ts';

export interface CallRequest {
  readonly packageName: string;
  readonly tool: string;
  /** The input JSON text. */
  readonly input: string;
  /** Who asks: an agent credential to verify, or only a label (recorded as `unverified:<label>`). */
  readonly caller: CallerClaim;
}

const PERSONAL: readonly PiiClass[] = ['email', 'phone', 'payment-card', 'iban', 'national-id', 'ip-address', 'secret'];

/** The editor's settings as policy overrides; ToolHost merges them stricter-only over policy.json. */
export function editorPolicy(): Partial<HostPolicy> {
  const settings = vscode.workspace.getConfiguration('mpp');
  const seconds = settings.get<number>('confirmation.timeoutSeconds');
  return {
    ...(seconds ? { confirmTimeoutMs: seconds * 1000 } : {}),
    privacyMinimum: settings.get<string>('privacy.minimumRedaction') === 'personal' ? PERSONAL : ['secret'],
  };
}

/** Per-call limits from the settings: they only lower what the package asks. */
export function editorLimits(): { timeoutMs?: number; memoryBytes?: number } {
  const settings = vscode.workspace.getConfiguration('mpp');
  const timeoutMs = settings.get<number>('limits.timeoutMs');
  const memoryMb = settings.get<number>('limits.memoryMb');
  return { ...(timeoutMs ? { timeoutMs } : {}), ...(memoryMb ? { memoryBytes: memoryMb * 1024 * 1024 } : {}) };
}

export function workspaceOpen(): boolean {
  return vscode.workspace.workspaceFolders?.[0]?.uri.scheme === 'file';
}

/**
 * The folder `${workspace}` stands for: the first folder open. With none, an
 * empty folder in the MPP home, so a workspace grant reaches nothing of the user's.
 */
export function workspaceFolder(home: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder?.scheme === 'file') return folder.fsPath;
  const empty = join(home, 'no-workspace');
  mkdirSync(empty, { recursive: true });
  return empty;
}

export function consentDialog(request: Pick<ConsentRequest, 'package' | 'version' | 'publisher' | 'capabilities'>, reason: ConsentDialog['reason'], current?: string): ConsentDialog {
  return {
    kind: 'consent',
    packageName: request.package,
    version: request.version,
    publisher: request.publisher.name ?? 'an unnamed key',
    fingerprint: fingerprint(request.publisher.keyid),
    permissions: request.capabilities.map((c) => ({ id: c.id, text: c.target ? `${c.text} (${c.target})` : c.text, ...(c.reason ? { reason: c.reason } : {}), grantable: c.grantable, state: c.state, ...(c.blockedBy ? { blockedBy: c.blockedBy } : {}) })),
    reason,
    workspaceOpen: workspaceOpen(),
    ...(current ? { current } : {}),
  };
}

/** Shows the consent dialog; undefined when the user closed it (nothing is recorded). */
export async function askConsent(extensionUri: vscode.Uri, dialog: ConsentDialog): Promise<ConsentAnswer | undefined> {
  const answer = await new DialogPanel(extensionUri, dialog).answer;
  if (answer?.kind !== 'consent') return undefined;
  // A deny without a scope choice covers the narrowest scope there is.
  if (answer.decision === 'deny') return { decision: 'deny', capabilities: [], scope: dialog.workspaceOpen ? 'workspace' : 'global' };
  return { decision: 'grant', capabilities: answer.ids, scope: answer.scope };
}

/** Consent before a first run and after an update that asks for more: the consent dialog; `answered` is told of each answer. */
function editorConsent(extensionUri: vscode.Uri, answered: () => void): ConsentPrompter {
  return {
    async ask(request) {
      const answer = await askConsent(extensionUri, consentDialog(request, request.reason));
      // The host records the answer as soon as this returns, before any view can ask for it again.
      if (answer) answered();
      return answer;
    },
  };
}

/** Confirmations: the confirmation dialog. Only the user's click approves; closing it, or the host's timeout, denies. */
function editorConfirmer(extensionUri: vscode.Uri): Confirmer {
  return {
    async confirm(request: ConfirmationRequest, signal: AbortSignal) {
      let args: string;
      try {
        args = JSON.stringify(parseJson(request.arguments), null, 2);
      } catch {
        args = request.arguments;
      }
      const dialog: ConfirmDialog = {
        kind: 'confirm',
        packageName: `${request.package}@${request.version}`,
        tool: request.tool,
        // Mid-call, the words are the tool's own: marked as such, never shown as the host's.
        operation: request.kind === 'call' ? `Run ${request.tool} (${request.sensitivity})` : `The tool says: ${request.operation}`,
        sensitivity: request.sensitivity,
        args,
        agent: describeCaller(request.agent),
        timeoutSeconds: Math.round(request.timeoutMs / 1000),
      };
      const panel = new DialogPanel(extensionUri, dialog);
      // The host stopped waiting (its deadline, the only timer): the dialog goes, its late click counts for nothing.
      signal.addEventListener('abort', () => panel.dispose(), { once: true });
      const answer = await panel.answer;
      return answer?.kind === 'confirm' && answer.decision === 'approve' ? 'approved' : 'denied';
    },
  };
}

export class ToolCalls implements vscode.Disposable {
  readonly #status: vscode.StatusBarItem;
  readonly #log: vscode.LogOutputChannel;
  readonly #home: () => string;
  readonly consent: ConsentPrompter;
  readonly confirmer: Confirmer;
  /**
   * Kept for the extension's lifetime, shared with the in-host MCP server: a
   * call finds its fresh instance already prepared. Keyed by component and
   * exact grant, so after a revocation the old sandbox is never used again.
   */
  readonly sandboxes = new SandboxPool(DEFAULT_POOL_OPTIONS);
  #running = 0;
  /** Opened on first use and kept: an event is one append, not an open and a close. */
  #audit: { readonly home: string; readonly log: AuditLog } | undefined;

  /** `onConsent`: a consent answer was recorded (from any face: commands, agents, MCP, the API). */
  constructor(extensionUri: vscode.Uri, home: () => string, onConsent: () => void) {
    this.#home = home;
    this.consent = editorConsent(extensionUri, onConsent);
    this.confirmer = editorConfirmer(extensionUri);
    this.#status = vscode.window.createStatusBarItem('mpp.running', vscode.StatusBarAlignment.Left, 10);
    this.#status.name = 'MPP tool calls';
    this.#log = vscode.window.createOutputChannel('MPP', { log: true });
  }

  get output(): vscode.LogOutputChannel {
    return this.#log;
  }

  readonly toolLog = (pkg: string, r: LogRecord): void => this.#log.appendLine(`[${pkg}] ${r.level}: ${r.message}`);

  /** Appends to the log of the MPP home in force now (reopened when `mpp.home` changed); a failure refuses the call. */
  readonly audit = (event: AuditEvent): void => void this.#auditLog().append(event);
  /** A call's outcome, group-committed (spec/audit.md §2.1). */
  readonly auditGrouped = (event: AuditEvent): void => this.#auditLog().appendGrouped(event);

  #auditLog(): AuditLog {
    const home = this.#home();
    if (this.#audit?.home !== home) {
      this.#audit?.log.close();
      this.#audit = undefined; // never a closed log kept, should the open below fail
      this.#audit = { home, log: openAuditLog(home) };
    }
    return this.#audit.log;
  }

  /** Counts a call in the status bar until the returned function is called (the in-host MCP server's calls too). */
  readonly track = (what: string): (() => void) => {
    this.#changeRunning(+1, what);
    return () => this.#changeRunning(-1);
  };

  async call(req: CallRequest): Promise<ToolCallResult> {
    const home = this.#home();
    const host = new ToolHost({ home, consent: this.consent, confirmer: this.confirmer, consentSource: 'editor', policy: editorPolicy(), audit: this.audit, auditGrouped: this.auditGrouped, log: this.toolLog, sandboxes: this.sandboxes });
    const done = this.track(`${req.packageName}/${req.tool}`);
    try {
      const result = await host.call({ target: { installed: req.packageName }, tool: req.tool, input: req.input, caller: req.caller, workspace: workspaceFolder(home), ...editorLimits() });
      for (const notice of result.notices) void vscode.window.showWarningMessage(`MPP: ${notice}`);
      return result;
    } catch (e) {
      // A folder grant this platform cannot honour: the user, not only the agent, needs to know.
      if (isMppError(e) && e.detail?.reason === FS_PLATFORM_REFUSAL) void vscode.window.showErrorMessage(`MPP: ${e.message} ${e.hint}`);
      throw e;
    } finally {
      done();
    }
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

  /** Stops the kept sandboxes (their worker threads); `deactivate` is what waits for them. */
  dispose(): void {
    this.#status.dispose();
    this.#log.dispose();
    this.#audit?.log.close();
    this.#audit = undefined;
    void this.sandboxes.dispose();
  }
}
