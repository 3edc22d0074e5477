import type { AuditAgent, AuditEvent, GrantScope } from './events.ts';

/**
 * An audit record as a sentence a person reads (who, what, which package,
 * the outcome), for the editor's audit viewer; the record itself stays one
 * click away. Agents are named by their recorded id: the log never holds a
 * display name.
 */
export type RecordOutcome = 'ok' | 'refused' | 'asked' | 'info';

export interface RecordSentence {
  readonly text: string;
  readonly outcome: RecordOutcome;
}

const who = (a: AuditAgent): string => (a.verified ? `Agent ${a.id}` : `${a.id.replace(/^unverified:/, '')} (unverified)`);
const scope = (s: GrantScope | 'all'): string => (s === 'all' ? 'in every scope' : s === 'global' ? 'globally' : `in workspace ${s.workspace}`);
const list = (ids: readonly string[] | 'all'): string => (ids === 'all' ? 'every capability' : ids.length === 0 ? 'nothing' : ids.join(', '));
const short = (hex: string): string => `${hex.slice(0, 12)}…`;

export function describeEvent(e: AuditEvent): RecordSentence {
  switch (e.type) {
    case 'install': {
      const what = e.change === 'unchanged' ? 'was installed already (nothing changed)' : e.change === 'replaced' ? 'was reinstalled' : `was ${e.change}`;
      return { text: `${e.package} ${e.version} ${what}, signed by ${e.publisher.name ?? `key ${short(e.publisher.keyid)}`}${e.source ? `, from ${e.source}` : ''}.`, outcome: 'ok' };
    }
    case 'uninstall':
      return { text: `${e.package}${e.version ? ` ${e.version}` : ''} was uninstalled${e.purge ? ', and its data deleted' : ''}.`, outcome: 'ok' };
    case 'verify':
      return e.outcome === 'pass'
        ? { text: `${e.package ?? 'A package'}${e.version ? ` ${e.version}` : ''} passed verification.`, outcome: 'ok' }
        : { text: `A package${e.file ? ` (${e.file})` : ''} was refused: ${e.code ?? 'verification failed'}.`, outcome: 'refused' };
    case 'trust':
      return { text: `Publisher key ${short(e.keyid)}${e.name ? ` (${e.name})` : ''} was ${{ add: 'trusted', remove: 'removed from the trusted keys', revoke: 'revoked' }[e.action]}.`, outcome: e.action === 'revoke' ? 'refused' : 'info' };
    case 'agent':
      return { text: `Agent ${e.agentId} was ${e.action === 'add' ? 'registered' : 'removed'} (key ${short(e.keyid)}).`, outcome: 'info' };
    case 'grant':
      return e.decision === 'denied'
        ? { text: `You denied ${e.package} ${scope(e.scope)} (from ${e.source}).`, outcome: 'refused' }
        : { text: `You granted ${list(e.capabilities)} to ${e.package} ${scope(e.scope)} (from ${e.source}).`, outcome: 'info' };
    case 'revoke':
      return { text: `You revoked ${list(e.capabilities)} of ${e.package} ${scope(e.scope)}.`, outcome: 'info' };
    case 'invoke': {
      const call = `${who(e.agent)} called ${e.tool} of ${e.package} ${e.version}`;
      if (e.outcome === 'started') return { text: `${call}: started.`, outcome: 'info' };
      if (e.outcome === 'error') return { text: `${call}: it failed with ${e.code ?? 'an error'} after ${e.durationMs} ms.`, outcome: 'refused' };
      const redacted = Object.values(e.redactions).reduce((n, c) => n + (c ?? 0), 0);
      return { text: `${call}: done in ${e.durationMs} ms${redacted > 0 ? `, ${redacted} value${redacted === 1 ? '' : 's'} redacted` : ''}.`, outcome: 'ok' };
    }
    case 'deny':
      return { text: `${who(e.agent)} was refused ${e.tool ? `${e.tool} of ` : ''}${e.package}: ${e.code} (${e.reason}).`, outcome: 'refused' };
    case 'confirm-asked':
      return { text: `${who(e.agent)} asked you to confirm ${e.operation === e.tool ? `a call of ${e.tool}` : `"${e.operation}" in ${e.tool}`} of ${e.package}${e.sensitivity ? ` (${e.sensitivity})` : ''}.`, outcome: 'asked' };
    case 'confirm-answered':
      return { text: { approved: 'You approved the confirmation.', denied: 'The confirmation was denied.', 'timed-out': 'Nobody answered the confirmation in time: denied.' }[e.answer], outcome: e.answer === 'approved' ? 'ok' : 'refused' };
    case 'attestation-issued':
      return { text: `The host signed a one-time attestation for the approved operation (nonce ${e.nonce}).`, outcome: 'info' };
    case 'attestation-consumed':
      return e.outcome === 'consumed'
        ? { text: `The attestation ${e.nonce} was used by the operation it approves.`, outcome: 'ok' }
        : { text: `The attestation ${e.nonce} was refused: ${e.code ?? 'invalid'}.`, outcome: 'refused' };
    case 'redaction': {
      const counts = Object.entries(e.counts).map(([c, n]) => `${n} ${c}`).join(', ');
      return { text: `Privacy filters redacted ${counts || 'nothing'} from ${e.direction === 'http' ? 'outbound requests' : 'the output'} of ${e.tool} of ${e.package}.`, outcome: 'info' };
    }
  }
}

/** Calls, denials and confirmations of each package, per UTC day: the viewer's picture of activity over time. */
export interface Activity {
  /** `YYYY-MM-DD`, oldest first, every day from the first record to the last. */
  readonly days: readonly string[];
  readonly packages: readonly { readonly name: string; readonly calls: readonly number[]; readonly denials: readonly number[]; readonly confirmations: readonly number[] }[];
}

/** At most this many days are drawn (the newest). */
const MAX_DAYS = 31;

export function activityByDay(records: readonly { readonly time: string; readonly event: AuditEvent }[]): Activity {
  const counted = records.filter((r) => (r.event.type === 'invoke' && r.event.outcome === 'started') || r.event.type === 'deny' || r.event.type === 'confirm-asked');
  if (counted.length === 0) return { days: [], packages: [] };
  const dayOf = (t: string) => t.slice(0, 10);
  const last = Date.parse(`${dayOf(counted.map((r) => r.time).sort().at(-1)!)}T00:00:00Z`);
  const first = Math.max(Date.parse(`${dayOf(counted.map((r) => r.time).sort()[0]!)}T00:00:00Z`), last - (MAX_DAYS - 1) * 86_400_000);
  const days: string[] = [];
  for (let t = first; t <= last; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  const index = new Map(days.map((d, i) => [d, i]));
  const byPackage = new Map<string, { calls: number[]; denials: number[]; confirmations: number[] }>();
  for (const r of counted) {
    const i = index.get(dayOf(r.time));
    const name = (r.event as { package?: string }).package;
    if (i === undefined || !name) continue;
    let p = byPackage.get(name);
    if (!p) byPackage.set(name, (p = { calls: days.map(() => 0), denials: days.map(() => 0), confirmations: days.map(() => 0) }));
    const series = r.event.type === 'invoke' ? p.calls : r.event.type === 'deny' ? p.denials : p.confirmations;
    series[i]!++;
  }
  return { days, packages: [...byPackage].sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => ({ name, ...p })) };
}
