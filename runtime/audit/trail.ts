import { MppError, isMppError } from '../errors.ts';
import { homePaths } from '../home.ts';
import { owedRecords, settleRecord } from '../store/audit-owed.ts';
import type { InstallResult, UninstallResult } from '../store/packages.ts';
import { installEvent, type VerifyEvent } from './events.ts';
import { auditLogExists, openAuditLog, recordAudit, type AuditEvent, type AuditLog, type RotateResult } from './log.ts';

/**
 * Runs a command that changes something with the audit log open: opening it
 * first means a log that cannot take a record (damaged, truncated, locked)
 * refuses the command before anything changes (spec/audit.md section 7).
 */
export async function withAuditLog<T>(home: string, fn: (audit: AuditLog) => Promise<T>): Promise<T> {
  const audit = openAuditLog(home);
  try {
    recordOwed(audit);
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

/** Appends each event to the home's log, opening it per event: for one-shot commands (long-running hosts keep an AuditLog open). */
export function auditTo(home: string): (event: AuditEvent) => void {
  return (event) => void recordAudit(home, event);
}

/** Records an install that is done (`source`: the file's path, the registry's name or the oci:// reference). */
export function recordInstall(audit: AuditLog, r: InstallResult, source: string): void {
  recordDone(audit, installEvent(r, r.change, source), `${r.name}@${r.version} was installed`);
  if (r.owedRecord !== undefined) settleRecord(audit.home, r.owedRecord);
}

/** Records an uninstall that is done. */
export function recordUninstall(audit: AuditLog, name: string, r: UninstallResult, purge: boolean): void {
  recordDone(audit, { type: 'uninstall', package: name, ...(r.version ? { version: r.version } : {}), purge }, `${name} was uninstalled`);
  if (r.owedRecord !== undefined) settleRecord(audit.home, r.owedRecord);
}

/**
 * Appends the records that committed changes still owe: a process killed
 * between a commit and its record left them (audit-owed.ts). One already in
 * the log (killed between the append and the settle) is not appended twice:
 * it is the newest record of its package.
 */
function recordOwed(audit: AuditLog): void {
  for (const owed of owedRecords(audit.home)) {
    if (owed.event === undefined) {
      // A damaged row cannot say what it owed: the damage itself is recorded, so it blocks nothing and hides nothing.
      audit.append({ type: 'verify', outcome: 'fail', code: 'MPP_E_STORE_CORRUPT', file: homePaths(audit.home).db });
      settleRecord(audit.home, owed.id);
      continue;
    }
    const e = owed.event as AuditEvent & { package: string };
    const newest = audit.query({ package: e.package, limit: 1 })[0]?.event as Record<string, unknown> | undefined;
    const same = newest !== undefined && Object.entries(e).every(([k, v]) => JSON.stringify(newest[k]) === JSON.stringify(v));
    if (!same) audit.append(e);
    settleRecord(audit.home, owed.id);
  }
}

/** A log that cannot take records: its failure is the answer, not one more record. */
const LOG_FAILURES = new Set(['MPP_E_AUDIT_UNAVAILABLE', 'MPP_E_AUDIT_TAMPERED']);

/** Refusals already in the log, so a flow nested in another (the gatekeeper inside an install) records each once. */
const recorded = new WeakSet<object>();

/**
 * Records a refusal as a failed `verify` (its code, and what was refused).
 * A failing audit log is not recorded in itself, and a refusal that cannot be
 * recorded does not hide it: `warn` says so and the refusal stays the answer.
 */
export function recordRefusal(audit: AuditLog, e: unknown, source: Pick<VerifyEvent, 'file' | 'package'>, warn: (message: string) => void = () => {}): void {
  if (!isMppError(e) || recorded.has(e) || LOG_FAILURES.has(e.code)) return;
  try {
    audit.append({ type: 'verify', outcome: 'fail', code: e.code, ...source });
    recorded.add(e);
  } catch (auditError) {
    warn(`the refusal could not be recorded in the audit log: ${(auditError as Error).message}`);
  }
}
