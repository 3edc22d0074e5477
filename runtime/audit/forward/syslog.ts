import type { AuditRecord } from '../log.ts';

/**
 * Audit records as RFC 5424 syslog messages, framed by octet counting
 * (RFC 6587 §3.4.1, as RFC 5425 requires over TLS). The structured data
 * carries what a collector needs to detect gaps and duplicates per MPP home
 * (`source`, `seq`) and to check the hash chain (`hash`, `prev`); the
 * message is the event exactly as recorded (digests and counts, never data).
 */
// 32473 is the enterprise number RFC 5612 reserves for documentation and examples.
export const SD_ID = 'mpp@32473';
const FACILITY_LOG_AUDIT = 13;
const SEVERITY = { warning: 4, info: 6 } as const;

/** RFC 5424 §6.3.3: inside a PARAM-VALUE, `"`, `\` and `]` are escaped. */
const sdValue = (v: string): string => v.replace(/["\\\]]/g, (c) => `\\${c}`);
/** HOSTNAME, APP-NAME, MSGID: printable US-ASCII without spaces, bounded. */
const header = (v: string, max: number): string => (v.replace(/[^\x21-\x7e]/g, '').slice(0, max) || '-');

export function syslogMessage(record: AuditRecord, source: string, hostname: string): string {
  const severity = record.type === 'deny' ? SEVERITY.warning : SEVERITY.info;
  const pri = FACILITY_LOG_AUDIT * 8 + severity;
  const sd = `[${SD_ID} source="${sdValue(source)}" seq="${record.seq}" hash="${sdValue(record.hash)}" prev="${sdValue(record.prev)}"]`;
  return `<${pri}>1 ${record.time} ${header(hostname, 255)} mpp ${process.pid} ${header(record.type, 32)} ${sd} ${JSON.stringify(record.event)}`;
}

/** Octet-counting frame: the message length in bytes, a space, the message. */
export function frame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
