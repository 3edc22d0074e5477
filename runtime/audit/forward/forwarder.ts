import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { connect } from 'node:tls';
import { MppError } from '../../errors.ts';
import { DEFAULT_MAX_BACKLOG } from '../../policy/org-describe.ts';
import { loadOrgPolicy, type AuditForwardingRule } from '../../policy/org-policy.ts';
import { auditLogExists, openAuditLog, readAuditHead } from '../log.ts';
import { CursorDb, forwardedThrough } from './cursor.ts';
import { frame, syslogMessage } from './syslog.ts';

/**
 * Audit forwarding (spec/org-policy.md §4): the audit log itself is the
 * durable queue. A round takes the home's lease, sends the records after
 * the cursor in order over one TLS connection, half-closes it, and moves
 * the cursor only when the collector has read to the end and closed its
 * side. Any failure leaves the cursor where it was: the next round sends
 * the same records again (at least once; duplicates carry the same seq).
 */
export interface ForwardResult {
  readonly sent: number;
  /** Records up to this seq are at the collector. */
  readonly through: number;
  /** Records still waiting. */
  readonly backlog: number;
  /** Why this round sent nothing or not everything (collector down, lease held elsewhere). */
  readonly problem?: string;
}

export interface ForwardOptions {
  /** Bound on one round's connection (default 10 s): forwarding never holds anyone longer. */
  readonly timeoutMs?: number;
  /** Records per connection (default 500). */
  readonly batch?: number;
  /** Stop after this many batches (default: until caught up). */
  readonly maxBatches?: number;
  readonly holder?: string;
}

const LEASE_MS = 30_000;

function parseTarget(target: string): { host: string; port: number } {
  const m = /^syslog-tls:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(target);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new MppError('MPP_E_ORG_POLICY_INVALID', `The audit forwarding target ${JSON.stringify(target)} is not syslog-tls://host:port.`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Sends frames on one connection; resolves once the collector has read them all and closed its side. */
function sendBatch(rule: AuditForwardingRule, frames: readonly Buffer[], timeoutMs: number): Promise<void> {
  const { host, port } = parseTarget(rule.target);
  const ca = rule.caFile ? readFileSync(rule.caFile) : undefined;
  const servername = rule.serverName ?? (isIP(host) ? undefined : host);
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (e) reject(e);
      else resolve();
    };
    const socket = connect({ host, port, ...(ca ? { ca } : {}), ...(servername ? { servername } : {}), minVersion: 'TLSv1.2' });
    const timer = setTimeout(() => done(new Error(`no answer from ${rule.target} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      for (const f of frames) socket.write(f);
      // Our end of stream comes after every frame: the collector sees it only once it has read them all.
      socket.end();
    });
    socket.on('data', () => {}); // syslog collectors send nothing; read to reach 'end'
    socket.once('end', () => done());
    socket.once('error', (e) => done(e));
    socket.once('close', () => done(new Error(`${rule.target} closed the connection before reading everything`)));
  });
}

/** Records after the cursor; with no log yet, nothing waits. */
export function forwardBacklog(home: string): number {
  if (!auditLogExists(home)) return 0;
  return Math.max(0, (readAuditHead(home)?.seq ?? 0) - forwardedThrough(home));
}

/** One forwarding round: sends what waits, in batches, until caught up, out of batches, or a failure. */
export async function forwardOnce(home: string, rule: AuditForwardingRule, opts: ForwardOptions = {}): Promise<ForwardResult> {
  const holder = opts.holder ?? `${process.pid}:${randomUUID()}`;
  const batch = opts.batch ?? 500;
  const db = new CursorDb(home);
  let sent = 0;
  try {
    if (!db.takeLease(holder, LEASE_MS)) return { sent, through: db.read().seq, backlog: forwardBacklog(home), problem: 'another MPP host on this home is forwarding' };
    const { source } = db.read();
    const host = hostname();
    for (let n = 0; opts.maxBatches === undefined || n < opts.maxBatches; n++) {
      const from = db.read().seq;
      if (!auditLogExists(home)) break;
      const log = openAuditLog(home, { readOnly: true });
      let records;
      try {
        records = log.query({ afterSeq: from, first: batch });
      } finally {
        log.close();
      }
      if (records.length === 0) break;
      try {
        await sendBatch(rule, records.map((r) => frame(syslogMessage(r, source, host))), opts.timeoutMs ?? 10_000);
      } catch (e) {
        return { sent, through: from, backlog: forwardBacklog(home), problem: (e as Error).message };
      }
      db.advance(holder, records.at(-1)!.seq);
      db.takeLease(holder, LEASE_MS);
      sent += records.length;
    }
    return { sent, through: db.read().seq, backlog: forwardBacklog(home) };
  } finally {
    db.releaseLease(holder);
    db.close();
  }
}

/**
 * The call path's check (a cheap count, never a network wait): with
 * forwarding required and the backlog past its bound, `stop-calls` refuses
 * the call; `continue` lets it run (the records wait in the log, nothing is
 * dropped) and says so.
 */
export function checkForwardBacklog(home: string, rule: AuditForwardingRule | undefined): string | undefined {
  if (!rule?.required) return undefined;
  const max = rule.maxBacklog ?? DEFAULT_MAX_BACKLOG;
  const waiting = forwardBacklog(home);
  if (waiting <= max) return undefined;
  if (rule.whenBacklogFull === 'continue') return `${waiting} audit records have not reached ${rule.target} yet (bound ${max}); they wait in the local log.`;
  throw new MppError('MPP_E_AUDIT_FORWARD_BACKLOG', `${waiting} audit records have not reached the collector ${rule.target} (the organisation policy allows ${max}), so tool calls are stopped.`, {
    detail: { waiting, maxBacklog: max, target: rule.target, rule: 'auditForwarding.whenBacklogFull' },
  });
}

/** A long-running host's forwarder: a round every `intervalMs`, with the policy read again each time. */
export class AuditForwarder {
  /** The editor's home can change with a setting: read at each round. */
  readonly #home: () => string;
  readonly #intervalMs: number;
  readonly #onProblem: (problem: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  readonly #holder = `${process.pid}:${randomUUID()}`;

  constructor(home: string | (() => string), opts: { intervalMs?: number; onProblem?: (problem: string) => void } = {}) {
    this.#home = typeof home === 'string' ? () => home : home;
    this.#intervalMs = opts.intervalMs ?? 2000;
    this.#onProblem = opts.onProblem ?? (() => {});
  }

  start(): this {
    this.#timer ??= setInterval(() => void this.flush(), this.#intervalMs);
    this.#timer.unref();
    return this;
  }

  /** One round now (rounds never overlap); problems are reported, never thrown. */
  flush(timeoutMs?: number): Promise<unknown> {
    this.#running ??= (async () => {
      try {
        const rule = loadOrgPolicy()?.auditForwarding;
        if (!rule) return;
        const r = await forwardOnce(this.#home(), rule, { holder: this.#holder, ...(timeoutMs ? { timeoutMs } : {}) });
        if (r.problem) this.#onProblem(r.problem);
      } catch (e) {
        this.#onProblem((e as Error).message);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async stop(timeoutMs = 2000): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush(timeoutMs);
  }
}
