import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { compileSchema } from '../runtime/schema.ts';
import { WEBVIEW_MESSAGE_SCHEMA, type Answer, type Dialog, type WebviewMessage } from '../webview/protocol.ts';

const validMessage = compileSchema<WebviewMessage>(WEBVIEW_MESSAGE_SCHEMA);

const TITLES: Record<Dialog['kind'], string> = {
  consent: 'MPP: Permissions',
  confirm: 'MPP: Confirm',
  trust: 'MPP: Trust Publisher',
  inspect: 'MPP: Inspect',
  audit: 'MPP: Audit Log',
};

/**
 * One dialog in a webview panel. The page runs no script but ours (CSP
 * `default-src 'none'`, script and style by a per-load crypto nonce), loads
 * only from dist/webview, and every message it sends is validated before use.
 * `answer` settles with the user's answer, or undefined when the panel is
 * closed (callers treat it as "deny"; a caller with a deadline disposes it).
 */
export class DialogPanel implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  readonly dialog: Dialog;
  readonly answer: Promise<Answer | undefined>;
  readonly #disposables: vscode.Disposable[] = [];
  #settle!: (a: Answer | undefined) => void;
  readonly #onExport: (() => void) | undefined;

  constructor(extensionUri: vscode.Uri, dialog: Dialog, opts: { onExport?: () => void } = {}) {
    this.dialog = dialog;
    this.answer = new Promise((resolve) => (this.#settle = resolve));
    const media = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel(`mpp.${dialog.kind}`, TITLES[dialog.kind], { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    this.panel.webview.html = page(this.panel.webview, media);
    this.#onExport = opts.onExport;
    this.#disposables.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => this.#receive(m)),
      this.panel.onDidDispose(() => this.#finish(undefined, false)),
    );
  }

  #receive(m: unknown): void {
    if (!validMessage(m)) return; // Not ours: a page that sends garbage gets nothing.
    if (m.type === 'ready') {
      void this.panel.webview.postMessage({ type: 'show', dialog: this.dialog });
      return;
    }
    if (m.type === 'export') {
      this.#onExport?.();
      return;
    }
    if (m.kind !== this.dialog.kind) return;
    if (m.kind === 'consent' && m.decision === 'grant' && this.dialog.kind === 'consent') {
      const offered = new Set(this.dialog.permissions.filter((p) => p.grantable).map((p) => p.id));
      if (!m.ids.every((id) => offered.has(id))) return; // Only what the dialog offered can be granted.
    }
    this.#finish(m, true);
  }

  #finish(a: Answer | undefined, close: boolean): void {
    this.#settle(a);
    for (const d of this.#disposables.splice(0)) d.dispose();
    if (close) this.panel.dispose();
  }

  dispose(): void {
    this.#finish(undefined, true);
  }
}

/** The page of a webview: `script` and `styles` from dist/webview, under the CSP above with a fresh nonce. */
export function page(webview: vscode.Webview, media: vscode.Uri, script = 'dialog.js', styles: readonly string[] = ['dialog.css']): string {
  const nonce = randomBytes(18).toString('base64');
  const scriptUri = webview.asWebviewUri(vscode.Uri.joinPath(media, script));
  const links = styles.map((s) => `<link rel="stylesheet" nonce="${nonce}" href="${webview.asWebviewUri(vscode.Uri.joinPath(media, s))}">`).join('\n');
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${webview.cspSource} 'nonce-${nonce}'`, `font-src ${webview.cspSource}`, `img-src ${webview.cspSource}`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${links}
</head>
<body>
<main id="root"></main>
<script type="module" nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
