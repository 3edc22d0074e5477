import { MppError, isMppError } from '../errors.ts';
import { redactJson, redactText, type RedactionCounts, type RedactionPolicy } from '../privacy/index.ts';
import type { LogRecord } from '../sandbox/host-services.ts';

/**
 * Everything a tool says passes the privacy filters (spec/privacy.md) before
 * a face shows it, sends it or records it: its output, its log lines, the
 * operation and details of a mid-call confirmation, the message and details
 * of its errors. One filter per call, so every text is redacted alike.
 */
export interface ToolTexts {
  text(s: string): string;
  /** Redacts a JSON value; its counts are returned (the output's go into the `invoke` record). */
  json(v: unknown): { value: unknown; counts: RedactionCounts };
  log(r: LogRecord): LogRecord;
  /** An error from the sandbox with the tool's words (message, detail) redacted; anything else as it is. */
  error(e: unknown): unknown;
}

export function toolTexts(policy: RedactionPolicy): ToolTexts {
  const text = (s: string): string => redactText(s, policy).text;
  return {
    text,
    json: (v) => redactJson(v, policy),
    log: (r) => ({ ...r, message: text(r.message) }),
    error(e) {
      if (!isMppError(e)) return e;
      const detail = e.detail ? (redactJson(e.detail, policy).value as Record<string, unknown>) : undefined;
      return new MppError(e.code, text(e.message), { hint: e.hint, ...(e.cause !== undefined ? { cause: e.cause } : {}), ...(detail ? { detail } : {}) });
    },
  };
}
