import { resolve } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../runtime/audit/events.ts';
import { auditLogExists, openAuditLog, readAuditHead, tamperedReport, verifyAuditExport, type AuditFilter, type AuditLog, type AuditRecord, type ChainHead, type ChainReport, type VerifyOptions } from '../../runtime/audit/log.ts';
import { writeFileAtomic } from '../../runtime/store/atomic.ts';
import { forwardOnce } from '../../runtime/audit/forward/forwarder.ts';
import { loadOrgPolicy } from '../../runtime/policy/org-policy.ts';
import { MppError } from '../../runtime/errors.ts';
import { checkAuditAttestations } from '../../runtime/attest/audit-check.ts';
import { readHostKey } from '../../runtime/attest/host-key.ts';
import { fingerprint, parsePublicKeyPem, publicKeyToPem } from '../../runtime/trust/keys.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { formatTable, integerOption, printable, usage } from '../output.ts';

interface ListOptions {
  type?: string;
  package?: string;
  agent?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

export const registerAudit: RegisterCommand = (program, run) => {
  const audit = program.command('audit').description('The tamper-evident audit log: show it (the default), verify it, anchor, rotate and export it.');

  // The default subcommand, so that `mpp audit --json` and `mpp audit verify --json` each reach their own --json.
  audit
    .command('list', { isDefault: true })
    .description('Show audit records: installs, verifications, trust changes, grants, tool calls, denials, confirmations (newest last).')
    .option('--type <type>', `only events of this type (${AUDIT_EVENT_TYPES.join(', ')})`)
    .option('--package <name>', 'only events about this package (scope/name)')
    .option('--agent <id>', 'only events of this agent')
    .option('--since <iso>', 'only events at or after this time (ISO 8601)')
    .option('--until <iso>', 'only events at or before this time (ISO 8601)')
    .option('--limit <n>', 'only the newest N matching events')
    .option('--json', 'print the records (with their hashes) as JSON')
    .action((opts: ListOptions) =>
      run(async ({ out }) => {
        const filter = parseFilter(opts);
        const records = readOnly((log) => log.query(filter));
        const text = records.length === 0 ? 'No audit records match.' : table(records);
        out.result(text, { records });
      }, opts),
    );

  audit
    .command('forward')
    .description("Send the audit records the organisation's collector has not got yet (auditForwarding in the organisation policy), and say how far it is.")
    .option('--timeout <ms>', 'bound on each connection to the collector (default 10000)')
    .option('--json', 'print the result as JSON')
    .action((opts: { timeout?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const rule = loadOrgPolicy()?.auditForwarding;
        if (!rule) throw usage('No organisation policy asks for audit forwarding here (`mpp policy show`).');
        const timeoutMs = opts.timeout === undefined ? undefined : integerOption(opts.timeout, '--timeout', 100, 600_000);
        const r = await forwardOnce(mppHome(), rule, timeoutMs ? { timeoutMs } : {});
        if (r.problem && r.backlog > 0) throw new MppError('MPP_E_AUDIT_FORWARD_FAILED', `Sent ${r.sent} audit records; ${r.backlog} still wait for ${rule.target}: ${r.problem}.`, { hint: 'Check that the collector runs and its certificate matches caFile/serverName; the records stay in the local log and are sent later.', detail: { ...r } });
        out.result(`Sent ${r.sent} audit records to ${rule.target}; the collector has everything up to record ${r.through}${r.backlog ? `, ${r.backlog} still wait` : ''}.`, r);
      }, opts),
    );

  audit
    .command('verify')
    .description('Check the whole audit log (archive segments, live records, head): exit 1 with MPP_E_AUDIT_TAMPERED and the record where it breaks.')
    .option('--expect-head <seq:hash>', 'also check against a head saved earlier outside this machine (`mpp audit head`)')
    .option('--file <export.jsonl>', 'check an exported log (`mpp audit export`) instead of this home\'s')
    .option('--host-key <pub.pem>', "also verify every attestation with this host public key (default: this home's host key, if any)")
    .option('--json', 'print the result as JSON')
    .action((opts: { expectHead?: string; file?: string; hostKey?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const vopts = opts.expectHead === undefined ? {} : { expect: parseHead(opts.expectHead) };
        // One read of the log or the file: the lines whose chain was checked are the lines whose attestations are checked.
        const { report, lines } = opts.file === undefined ? readOnly((log) => log.verifyAndExport(vopts)) : checkExport(opts.file, vopts);
        if (!report.ok) throw tamperedReport(report);
        const head = report.head ? `${report.head.seq}:${report.head.hash}` : 'none';
        const hostKey = opts.hostKey ? parsePublicKeyPem(readUserFile(opts.hostKey, 'host public key').toString('utf8'), opts.hostKey) : readHostKey(mppHome())?.publicKey;
        const attestations = hostKey ? checkAuditAttestations(lines, hostKey) : undefined;
        const attested = attestations ? ` ${attestations.issued} attestations verified with host key ${fingerprint(hostKey!.keyid)}, ${attestations.consumed} consumed.` : '';
        out.result(`Chain intact: ${report.records} records, head ${head}.${attested}`, { records: report.records, head: report.head, ...(attestations ? { attestations, hostKey: hostKey!.keyid } : {}) });
      }, opts),
    );

  audit
    .command('host-key')
    .description("Print this host's public key (SPKI PEM), which signs attestations: give it to auditors.")
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const key = readHostKey(mppHome());
        if (!key) {
          out.result('No host key yet: it is made at the first confirmed operation.', { keyid: null, publicKey: null });
          return;
        }
        out.result(publicKeyToPem(key.publicKey), { keyid: key.publicKey.keyid, publicKey: publicKeyToPem(key.publicKey) });
      }, opts),
    );

  audit
    .command('head')
    .description('Print the chain head as <seq>:<hash>. Keep it somewhere else; `mpp audit verify --expect-head` checks the log still contains it.')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const head = readAuditHead(mppHome());
        out.result(head ? `${head.seq}:${head.hash}` : 'No audit records yet.', { head });
      }, opts),
    );

  audit
    .command('rotate')
    .description('Move old records into an archive segment (JSONL under $MPP_HOME/audit): all but the newest N, or those older than D days; `mpp audit verify` still checks them.')
    .option('--keep <n>', 'how many of the newest records stay live (at least 1)')
    .option('--older-than <days>', 'archive the records older than this many days (the newest record always stays live)')
    .option('--json', 'print the result as JSON')
    .action((opts: { keep?: string; olderThan?: string; json?: boolean }) =>
      run(async ({ out }) => {
        if ((opts.keep === undefined) === (opts.olderThan === undefined)) throw usage('Give either --keep <n> or --older-than <days>.');
        const keep = opts.keep === undefined ? undefined : integerOption(opts.keep, '--keep', 1);
        const days = opts.olderThan === undefined ? undefined : integerOption(opts.olderThan, '--older-than', 1);
        const home = mppHome();
        if (!auditLogExists(home)) {
          out.result('No audit records yet; nothing to rotate.', { archived: 0, segment: null });
          return;
        }
        const log = openAuditLog(home);
        try {
          const r = keep !== undefined ? log.rotate({ keep }) : log.archiveBefore(new Date(Date.now() - days! * 86_400_000).toISOString());
          out.result(r.segment ? `Archived ${r.archived} records in ${r.segment}.` : 'Nothing to rotate.', r);
        } finally {
          log.close();
        }
      }, opts),
    );

  audit
    .command('export')
    .description('Write every record (archived and live, with hashes) to one JSONL file that `mpp audit verify --file` or another implementation can check.')
    .requiredOption('--out <file.jsonl>', 'where to write it')
    .option('--json', 'print the result as JSON')
    .action((opts: { out: string; json?: boolean }) =>
      run(async ({ out }) => {
        const lines = readOnly((log) => log.exportLines());
        writeFileAtomic(opts.out, lines);
        const records = lines === '' ? 0 : lines.split('\n').length - 1;
        out.result(`Wrote ${records} records to ${opts.out}.`, { records, file: resolve(opts.out) });
      }, opts),
    );
};

/** Runs a display on the log without creating a home or a database (a home without a log reads as empty). */
function readOnly<T>(fn: (log: AuditLog) => T): T {
  const log = openAuditLog(mppHome(), { readOnly: true });
  try {
    return fn(log);
  } finally {
    log.close();
  }
}

/** An exported log, read once: its chain checked, its lines kept for the attestation check. */
function checkExport(file: string, opts: VerifyOptions): { report: ChainReport; lines: string } {
  const lines = readUserFile(file, 'audit export').toString('utf8');
  return { report: verifyAuditExport(lines, file, opts), lines };
}

function parseFilter(opts: ListOptions): AuditFilter {
  if (opts.type !== undefined && !(AUDIT_EVENT_TYPES as readonly string[]).includes(opts.type)) throw usage(`--type must be one of ${AUDIT_EVENT_TYPES.join(', ')}.`);
  return {
    ...(opts.type !== undefined ? { type: opts.type as AuditEventType } : {}),
    ...(opts.package !== undefined ? { package: opts.package } : {}),
    ...(opts.agent !== undefined ? { agent: opts.agent } : {}),
    ...(opts.since !== undefined ? { since: isoTime(opts.since, '--since') } : {}),
    ...(opts.until !== undefined ? { until: isoTime(opts.until, '--until') } : {}),
    ...(opts.limit !== undefined ? { limit: integerOption(opts.limit, '--limit', 1) } : {}),
  };
}

/** Records keep UTC times as `toISOString` writes them, so bounds are compared in that form. */
function isoTime(text: string, option: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw usage(`${option} takes an ISO 8601 date or time, such as 2025-01-31 or 2025-01-31T12:00:00Z.`);
  return new Date(ms).toISOString();
}


function parseHead(text: string): ChainHead {
  const m = /^([1-9]\d{0,14}):([0-9a-f]{64})$/.exec(text);
  if (!m) throw usage('--expect-head takes <seq>:<hash> as `mpp audit head` prints it.');
  return { seq: Number(m[1]), hash: m[2]! };
}

function table(records: readonly AuditRecord[]): string {
  return formatTable([['SEQ', 'TIME', 'TYPE', 'SUBJECT', 'AGENT', 'OUTCOME'], ...records.map(row)]);
}

/** Every cell can hold text from a package or an agent: escaped before it reaches the terminal. */
function row(r: AuditRecord): string[] {
  const e = r.event as unknown as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const subject = e.package ? `${str(e.package)}${e.tool ? ` ${str(e.tool)}` : ''}` : e.keyid ? `key ${str(e.keyid).slice(0, 16)}` : e.nonce ? `nonce ${str(e.nonce)}` : e.requestId ? `request ${str(e.requestId)}` : '';
  const agent = str((e.agent as { id?: unknown } | undefined)?.id) || str(e.agentId);
  const outcome = [e.outcome, e.decision, e.answer, e.action, e.change, e.code].filter((v) => typeof v === 'string').join(' ');
  return [String(r.seq), r.time, r.type, subject, agent, outcome].map(printable);
}
