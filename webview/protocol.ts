/**
 * The messages between the extension and its dialog webviews. The extension
 * sends one `show` with the dialog's content; the webview answers at most once.
 * Everything a webview sends is validated against WEBVIEW_MESSAGE_SCHEMA on arrival
 * (extension/panel.ts) and then checked against the dialog it answers.
 */

export interface PermissionItem {
  /** Capability id (spec/manifest.md section 5), e.g. `fs:${workspace}/src:read`. */
  readonly id: string;
  readonly text: string;
  readonly reason?: string;
  /** Whether this capability can be granted from the dialog (wildcard hosts cannot). */
  readonly grantable: boolean;
  /** In a consent dialog: granted before, shown before and not granted, or never shown. */
  readonly state?: 'granted' | 'declined' | 'new';
  /** The organisation policy rule that forbids granting it. */
  readonly blockedBy?: string;
}

export interface ConsentDialog {
  readonly kind: 'consent';
  readonly packageName: string;
  readonly version: string;
  readonly publisher: string;
  readonly fingerprint: string;
  readonly permissions: readonly PermissionItem[];
  /** Why it is asked: before a first run, after an update that asks for more, or the user opened it (Manage Permissions). */
  readonly reason: 'first-run' | 'widened' | 'manage';
  /** The decision in force now (Manage Permissions), e.g. `denied (this workspace)`. */
  readonly current?: string;
  readonly workspaceOpen: boolean;
}

export interface ConfirmDialog {
  readonly kind: 'confirm';
  readonly packageName: string;
  readonly tool: string;
  /** The tool's description and what its sensitivity means. */
  readonly operation: string;
  readonly sensitivity: string;
  /** The call's input, pretty-printed JSON. */
  readonly args: string;
  /** Who asks, as runtime/governance/caller-text.ts words it: the verified id, a display name only as a claim. */
  readonly agent: string;
  readonly timeoutSeconds: number;
}

export interface TrustDialog {
  readonly kind: 'trust';
  readonly packageName: string;
  readonly version: string;
  /** The publisher name the package claims (not verified by anyone). */
  readonly claimedName: string;
  readonly keyid: string;
  readonly fingerprint: string;
}

export interface InspectDialog {
  readonly kind: 'inspect';
  readonly packageName: string;
  readonly version: string;
  readonly publisher: string;
  readonly digest: string;
  readonly manifest: string;
  readonly tools: readonly { name: string; description: string; sensitivity: string; inputSchema: string; outputSchema: string }[];
  readonly files: readonly { path: string; size: number; sha256: string }[];
  readonly signatures: readonly { role: string; keyid: string; fingerprint: string; trusted: string }[];
  readonly permissions: readonly PermissionItem[];
}

export interface AuditDialog {
  readonly kind: 'audit';
  /** Newest first: each as a sentence (runtime/audit/sentences.ts), with the whole record as JSON one click away. */
  readonly records: readonly { seq: number; time: string; type: string; package: string; agent: string; sentence: string; outcome: 'ok' | 'refused' | 'asked' | 'info'; raw: string }[];
  readonly chain: { readonly ok: boolean; readonly text: string };
  /** Calls, denials and confirmations per package and UTC day. */
  readonly activity: { readonly days: readonly string[]; readonly packages: readonly { name: string; calls: readonly number[]; denials: readonly number[]; confirmations: readonly number[] }[] };
}

export type Dialog = ConsentDialog | ConfirmDialog | TrustDialog | InspectDialog | AuditDialog;

/** Extension -> webview. */
export type HostMessage = { readonly type: 'show'; readonly dialog: Dialog };

export type Answer =
  | { readonly type: 'answer'; readonly kind: 'consent'; readonly decision: 'grant'; readonly ids: readonly string[]; readonly scope: 'global' | 'workspace' }
  | { readonly type: 'answer'; readonly kind: 'consent'; readonly decision: 'deny' }
  | { readonly type: 'answer'; readonly kind: 'confirm' | 'trust'; readonly decision: 'approve' | 'deny' };

/** Webview -> extension. */
export type WebviewMessage = { readonly type: 'ready' } | { readonly type: 'export' } | Answer;

const capabilityId = { type: 'string', minLength: 1, maxLength: 2048 } as const;

export const WEBVIEW_MESSAGE_SCHEMA = {
  oneOf: [
    { type: 'object', properties: { type: { enum: ['ready', 'export'] } }, required: ['type'], additionalProperties: false },
    {
      type: 'object',
      properties: {
        type: { const: 'answer' },
        kind: { const: 'consent' },
        decision: { const: 'grant' },
        ids: { type: 'array', items: capabilityId, maxItems: 256, uniqueItems: true },
        scope: { enum: ['global', 'workspace'] },
      },
      required: ['type', 'kind', 'decision', 'ids', 'scope'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { type: { const: 'answer' }, kind: { const: 'consent' }, decision: { const: 'deny' } },
      required: ['type', 'kind', 'decision'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { type: { const: 'answer' }, kind: { enum: ['confirm', 'trust'] }, decision: { enum: ['approve', 'deny'] } },
      required: ['type', 'kind', 'decision'],
      additionalProperties: false,
    },
  ],
} as const;
