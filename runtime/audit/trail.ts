import { MppError, isMppError } from '../errors.ts';
import { auditLogExists, openAuditLog, type AuditEvent, type AuditLog, type RotateResult } from './log.ts';

/**
 * Runs a command that changes something with the audit log open: opening it
 * first means a log that cannot take a record (damaged, truncated, locked)
 * refuses the command before anything changes (spec/audit.md section 7).
 */
export async function withAuditLog<T>(home: string, fn: (audit: AuditLog) => Promise<T>): Promise<T> {
  const audit = openAuditLog(home);
  try {
    return await fn(audit);
  } finally {
    audit.close();
  }
}

/**
 * Records an action that is done. If the record cannot be written, the
 * command still fails (never a silent success without a record), and says
 * that the action itself happened.
 */
export function recordDone(audit: AuditLog, event: AuditEvent, done: string): void {
  try {
    audit.append(event);
  } catch (e) {
    if (!isMppError(e) || e.code === 'MPP_E_AUDIT_EVENT_INVALID') throw e;
    throw new MppError(e.code, `${done}, but its audit record could not be written: ${e.message}`, { hint: e.hint, cause: e, ...(e.detail ? { detail: e.detail } : {}) });
  }
}

/** Retention (the editor's `mpp.audit.retentionDays`): archives records older than `days`; the chain stays checkable. Undefined when nothing moved. */
export function applyAuditRetention(home: string, days: number | undefined, now = Date.now()): RotateResult | undefined {
  if (!days || days < 1 || !auditLogExists(home)) return undefined;
  const log = openAuditLog(home);
  try {
    const r = log.archiveBefore(new Date(now - days * 86_400_000).toISOString());
    return r.archived > 0 ? r : undefined;
  } finally {
    log.close();
  }
}
