/**
 * The two kinds of error a tool meets: a ToolRefusal is the host saying no
 * (not granted, read-only, not found...), with a stable code a tool can
 * branch on; a ToolError is the tool's own answer to the agent, returned as
 * the `err` side of the call (see tools.ts). An uncaught ToolRefusal reaches
 * the agent as a tool error with the refusal's code.
 */
import { take } from 'mpp:tool/refusal@0.1.0';
import type { HostError } from 'mpp:tool/types@0.1.0';

export type RefusalCode =
  /** No granted folder contains the path, the variable is not granted, or the capability is not offered. */
  | 'not-granted'
  /** The path resolves (through `..` or a symbolic link) outside the granted folder. */
  | 'outside-grant'
  /** A write to a folder granted read-only. */
  | 'read-only'
  | 'not-found'
  | 'already-exists'
  | 'not-a-directory'
  | 'is-a-directory'
  | 'not-empty'
  /** The file (or value) is larger than the read's `maxBytes`, or than the host accepts at once. */
  | 'too-large'
  /** Tools can never create symbolic or hard links. */
  | 'links-refused'
  /** The request's scheme, host, port or method is not granted, or the host resolves to a private address. */
  | 'network-denied'
  /** The human, the policy or the host system (file permissions) denied, or nobody answered. */
  | 'denied'
  | 'quota-exceeded'
  | 'invalid-argument'
  /** The engine or the host does not offer this (fetch under QuickJS). */
  | 'unavailable'
  /** Any other failure of the host or the filesystem. */
  | 'failed';

export class ToolRefusal extends Error {
  readonly code: RefusalCode;
  /** The WASI error code or host-error tag underneath, when there is one. */
  readonly hostCode?: string;
  /** The guest path or URL the refused operation was about. */
  readonly target?: string;

  constructor(code: RefusalCode, message: string, opts: { hostCode?: string; target?: string } = {}) {
    super(message);
    this.name = 'ToolRefusal';
    this.code = code;
    if (opts.hostCode !== undefined) this.hostCode = opts.hostCode;
    if (opts.target !== undefined) this.target = opts.target;
  }
}

/** A failure the caller should see: becomes the `err` side of `call`'s result. */
export class ToolError extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ToolError';
    this.code = code;
    this.details = details;
  }
}

const FS_CODES: Record<string, RefusalCode> = {
  access: 'denied',
  'not-permitted': 'outside-grant',
  'read-only': 'read-only',
  'no-entry': 'not-found',
  exist: 'already-exists',
  'not-directory': 'not-a-directory',
  'is-directory': 'is-a-directory',
  'not-empty': 'not-empty',
  'file-too-large': 'too-large',
  'insufficient-memory': 'too-large',
  quota: 'quota-exceeded',
  'insufficient-space': 'quota-exceeded',
  invalid: 'invalid-argument',
  'name-too-long': 'invalid-argument',
};

const FS_TEXT: Partial<Record<RefusalCode, string>> = {
  'not-found': 'no such file or folder',
  'already-exists': 'it already exists',
  'not-a-directory': 'a part of the path is not a folder',
  'is-a-directory': 'it is a folder',
  'not-empty': 'the folder is not empty',
  'too-large': 'too large for one operation',
  'read-only': 'the folder is granted read-only',
};

/** The WASI filesystem error code inside a thrown binding error, if it is one. */
function wasiCodeOf(e: unknown): string | undefined {
  const payload = (e as { payload?: unknown } | null)?.payload;
  return typeof payload === 'string' ? payload : undefined;
}

/**
 * A failed WASI filesystem call as a ToolRefusal: the code from the WASI
 * error, refined by the host's reason when the host gave one for this error
 * (mpp:tool/refusal).
 */
export function fsRefusal(e: unknown, path: string): ToolRefusal | unknown {
  const wasi = wasiCodeOf(e);
  if (wasi === undefined) return e;
  const why = take();
  if (why && why.wasiCode === wasi) {
    const code = (KNOWN_REASONS as readonly string[]).includes(why.code) ? (why.code as RefusalCode) : FS_CODES[wasi] ?? 'failed';
    return new ToolRefusal(code, `${path}: ${why.message}`, { hostCode: wasi, target: path });
  }
  const code = FS_CODES[wasi] ?? 'failed';
  return new ToolRefusal(code, `${path}: ${FS_TEXT[code] ?? wasi}`, { hostCode: wasi, target: path });
}

const KNOWN_REASONS = ['outside-grant', 'read-only', 'links-refused', 'network-denied'] as const;

const HOST_CODES: Record<HostError['tag'], RefusalCode> = {
  'not-available': 'not-granted',
  denied: 'denied',
  'quota-exceeded': 'quota-exceeded',
  'invalid-argument': 'invalid-argument',
  internal: 'failed',
};

/** Runs an mpp:tool host import, turning its host-error into a ToolRefusal. */
export function hostCall<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = (e as { payload?: unknown } | null)?.payload as HostError | undefined;
    if (err && typeof err === 'object' && typeof err.tag === 'string' && err.tag in HOST_CODES) {
      throw new ToolRefusal(HOST_CODES[err.tag], `${what}: ${err.val}`, { hostCode: err.tag });
    }
    throw e;
  }
}

/** The host's reason for a refused network request, if the latest refusal was one. */
export function takeNetworkReason(): string | undefined {
  const why = take();
  return why && why.code === 'network-denied' ? why.message : undefined;
}
