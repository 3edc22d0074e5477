/**
 * The tool form: one webview panel at a time that runs one tool with inputs
 * entered in a form generated from its input schema, and shows each result
 * formatted. CSP and nonce as every MPP webview (panel.ts); every message from
 * the page is validated, and every input is checked against the tool's schema
 * here before the governed call (which checks it once more).
 */
import * as vscode from 'vscode';
import { isMppError } from '../runtime/errors.ts';
import { compileSchema, describeToolSchemaErrors, toolSchemaValidator } from '../runtime/schema.ts';
import { FORM_MESSAGE_SCHEMA, type FormHostMessage, type FormMessage, type RunOutcome, type ToolForm } from '../webview/tool-form-protocol.ts';
import { page } from './panel.ts';

const validMessage = compileSchema<FormMessage>(FORM_MESSAGE_SCHEMA);

export type RunInput = (input: string) => Promise<{ readonly output: unknown; readonly durationMs: number }>;

export class ToolFormPanel implements vscode.Disposable {
  static #current: ToolFormPanel | undefined;

  /** Opens the form for `form`'s tool, replacing the one open before. */
  static open(extensionUri: vscode.Uri, form: ToolForm, run: RunInput): ToolFormPanel {
    ToolFormPanel.#current?.dispose();
    ToolFormPanel.#current = new ToolFormPanel(extensionUri, form, run);
    return ToolFormPanel.#current;
  }

  readonly panel: vscode.WebviewPanel;
  readonly #form: ToolForm;
  readonly #run: RunInput;
  readonly #disposables: vscode.Disposable[] = [];
  #running = false;
  #disposed = false;

  private constructor(extensionUri: vscode.Uri, form: ToolForm, run: RunInput) {
    this.#form = form;
    this.#run = run;
    const media = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel('mpp.toolForm', `MPP: Run ${form.packageName}/${form.tool}`, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, {
      enableScripts: true,
      localResourceRoots: [media],
      // Consent and confirmation dialogs open over it: the entered input must survive.
      retainContextWhenHidden: true,
    });
    this.panel.webview.html = page(this.panel.webview, media, 'tool-form.js', ['dialog.css', 'tool-form.css']);
    this.#disposables.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => void this.#receive(m)),
      this.panel.onDidDispose(() => this.#release()),
    );
  }

  async #receive(m: unknown): Promise<void> {
    if (!validMessage(m)) return; // Not ours: a page that sends garbage gets nothing.
    if (m.type === 'ready') return this.#post({ type: 'show', form: this.#form });
    if (this.#running) return; // One run at a time: the page disables Run until the result comes.
    this.#running = true;
    try {
      this.#post({ type: 'result', outcome: await this.#outcome(m.input) });
    } finally {
      this.#running = false;
    }
  }

  async #outcome(input: string): Promise<RunOutcome> {
    let value: unknown;
    try {
      value = JSON.parse(input);
    } catch {
      return { ok: false, code: 'MPP_E_INPUT_INVALID', message: 'The input is not valid JSON.' };
    }
    const validate = toolSchemaValidator(this.#form.inputSchema);
    if (!validate(value)) {
      return { ok: false, code: 'MPP_E_INPUT_INVALID', message: `The input does not match the tool's input schema: ${describeToolSchemaErrors(validate.errors, 'input')}.`, hint: 'Correct the fields and run again.' };
    }
    try {
      const { output, durationMs } = await this.#run(input);
      return { ok: true, output: JSON.stringify(output, null, 2) ?? 'null', durationMs };
    } catch (e) {
      if (!isMppError(e)) return { ok: false, code: 'MPP_E_INTERNAL', message: (e as Error).message };
      const said = typeof e.detail?.toolMessage === 'string' ? ` The tool said: ${String(e.detail.toolCode)}: ${e.detail.toolMessage}` : '';
      return { ok: false, code: e.code, message: `${e.message}${said}`, ...(e.hint ? { hint: e.hint } : {}) };
    }
  }

  #post(m: FormHostMessage): void {
    // A run may end after its form was closed: its result is in the notification and the MPP output.
    if (!this.#disposed) void this.panel.webview.postMessage(m).then(undefined, () => {});
  }

  #release(): void {
    this.#disposed = true;
    for (const d of this.#disposables.splice(0)) d.dispose();
    if (ToolFormPanel.#current === this) ToolFormPanel.#current = undefined;
  }

  dispose(): void {
    this.#release();
    this.panel.dispose();
  }
}
