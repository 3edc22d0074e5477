/**
 * Messages between the extension and the tool form (webview/tool-form.ts):
 * the extension sends the tool and its input schema, the page sends inputs
 * to run (JSON text, checked against the schema by the extension again
 * before any call) and gets each result back to show.
 */

export interface ToolForm {
  readonly packageName: string;
  readonly version: string;
  readonly development: boolean;
  readonly tool: string;
  readonly title: string;
  readonly description: string;
  readonly sensitivity: string;
  /** The tool's input schema (a JSON Schema object from the verified manifest). */
  readonly inputSchema: Record<string, unknown>;
}

export type RunOutcome =
  | { readonly ok: true; readonly output: string; readonly durationMs: number }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly hint?: string };

/** Extension -> page. */
export type FormHostMessage =
  | { readonly type: 'show'; readonly form: ToolForm }
  | { readonly type: 'result'; readonly outcome: RunOutcome };

/** Page -> extension. */
export type FormMessage = { readonly type: 'ready' } | { readonly type: 'run'; readonly input: string };

/** Inputs are bounded like any call's (governance checks the exact limit again). */
export const MAX_FORM_INPUT = 1024 * 1024;

export const FORM_MESSAGE_SCHEMA = {
  oneOf: [
    { type: 'object', properties: { type: { const: 'ready' } }, required: ['type'], additionalProperties: false },
    { type: 'object', properties: { type: { const: 'run' }, input: { type: 'string', maxLength: MAX_FORM_INPUT } }, required: ['type', 'input'], additionalProperties: false },
  ],
} as const;
