/**
 * Every refusal MPP makes carries one of these stable codes. The table is the
 * single place where error texts live; spec/errors.md documents the same codes
 * (a test keeps the two in step).
 */
export const ERROR_CODES = {
  MPP_E_USAGE: 'The command line is incomplete or contradictory.',
  MPP_E_IO: 'A file could not be read or written.',
  MPP_E_INTERNAL: 'MPP failed unexpectedly.',

  MPP_E_CORRUPT_ARCHIVE: 'The package is not a well-formed ZIP archive (truncated, bad checksum, unreadable structure).',
  MPP_E_UNSAFE_ARCHIVE: 'The archive uses a feature MPP refuses because it enables attacks (unsafe names, links, encryption, hidden data, headers that disagree).',
  MPP_E_ARCHIVE_TOO_LARGE: 'The archive exceeds a size, count or compression-ratio limit.',
  MPP_E_MISSING_ENTRY: 'A required entry is missing from the package.',
  MPP_E_EXTRA_ENTRY: 'The package holds an entry the format does not allow.',
  MPP_E_UNSUPPORTED_FORMAT: 'The package declares a format version this host does not support.',
  MPP_E_INVALID_COMPONENT: 'tool.wasm is not a WebAssembly component (wrong magic number or layer).',
  MPP_E_INVALID_MANIFEST: 'manifest.json is not valid JSON or does not match the manifest schema.',

  MPP_E_UNSIGNED: 'The package carries no author signature.',
  MPP_E_BAD_SIGNATURE: 'A signature envelope is malformed or its signature does not verify.',
  MPP_E_DIGEST_MISMATCH: 'A signature was made over different content than this package holds.',
  MPP_E_UNTRUSTED_KEY: 'The package is signed, but by no key this host trusts.',
  MPP_E_REVOKED_KEY: 'The package is signed by a key that has been revoked.',

  MPP_E_KEY_INVALID: 'A key file is not a valid Ed25519 key in the expected PEM format.',
  MPP_E_KEY_EXISTS: 'A key file already exists and would be overwritten.',
  MPP_E_TRUST_UNKNOWN: 'The trust store has no such key.',
  MPP_E_TRUST_NEEDS_CONFIRMATION: 'Trusting a new key needs a human decision, and none could be asked for.',
  MPP_E_TRUST_STORE_CORRUPT: 'The trust store file is unreadable or does not match its schema.',

  MPP_E_PROJECT_INVALID: 'The tool project is missing a file or its manifest source is invalid.',
  MPP_E_BUILD_FAILED: 'Bundling or componentizing the tool failed.',

  MPP_E_GRANT_NOT_DECLARED: 'A capability was requested that the package manifest does not declare.',
  MPP_E_TOOL_UNKNOWN: 'The package has no tool of that name.',
  MPP_E_GRANT_INVALID: 'A capability grant is malformed: a path, host, port, method, variable or limit is not acceptable.',
  MPP_E_TOOL_INVALID: 'The tool is not a WebAssembly component this host can run.',
  MPP_E_TOOL_UNSUPPORTED_IMPORT: 'The tool imports an interface this host does not provide.',
  MPP_E_TOOL_TIMEOUT: 'The tool call ran past its time limit and was stopped.',
  MPP_E_TOOL_MEMORY: 'The tool needed more memory than its limit allows and was stopped.',
  MPP_E_TOOL_CRASHED: 'The tool trapped, exited or broke the component contract; its instance was discarded.',
  MPP_E_TOOL_ERROR: 'The tool returned an error for this call.',
  MPP_E_INPUT_TOO_LARGE: 'The tool input is larger than the input size limit.',
  MPP_E_INPUT_INVALID: 'The tool input is not valid JSON text or does not match the tool input schema.',
  MPP_E_OUTPUT_TOO_LARGE: 'The tool output is larger than the output size limit.',
  MPP_E_OUTPUT_INVALID: 'The tool returned output that is not valid JSON text or does not match its output schema.',
  MPP_E_KV_CORRUPT: 'A package key-value store is damaged, not an SQLite database, or written by a newer MPP.',
  MPP_E_NOT_INSTALLED: 'No installed package has that name.',
  MPP_E_VERSION_CONFLICT: 'That version of the package is already installed with different content.',
  MPP_E_STORE_CORRUPT: 'The local install store is damaged: an installed package file is missing or is not what was installed.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface MppErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
  /** Machine-readable context (entry name, key id...). Never secrets. */
  detail?: Record<string, unknown>;
}

export class MppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: MppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MppError';
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.detail ? { detail: this.detail } : {}),
    };
  }
}

export function isMppError(e: unknown): e is MppError {
  return e instanceof MppError;
}
