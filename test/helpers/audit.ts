import type { AuditEvent, AuditEventType } from '../../runtime/audit/events.ts';
import { openDatabase, type Database } from '../../runtime/state/sqlite.ts';
import { homePaths } from '../../runtime/home.ts';

const hex = (c: string) => c.repeat(64);
const agent = { id: 'unverified:test-agent', verified: false };

/** One valid event of every type, in schema order. */
export const SAMPLE_EVENTS: Readonly<Record<AuditEventType, AuditEvent>> = {
  install: { type: 'install', package: 'acme/notes', version: '1.2.0', digest: hex('a'), publisher: { keyid: hex('b'), name: 'Acme' }, change: 'installed', source: '/tmp/notes.mpp' },
  uninstall: { type: 'uninstall', package: 'acme/notes', version: '1.2.0', purge: false },
  verify: { type: 'verify', outcome: 'fail', code: 'MPP_E_UNTRUSTED_KEY', file: '/tmp/x.mpp' },
  trust: { type: 'trust', action: 'add', keyid: hex('c'), name: 'Acme' },
  agent: { type: 'agent', action: 'add', agentId: 'copilot', keyid: hex('d') },
  grant: { type: 'grant', package: 'acme/notes', publisher: hex('b'), scope: { workspace: '/work/w' }, decision: 'granted', capabilities: ['fs:/work/w/src:read', 'kv'], source: 'prompt' },
  revoke: { type: 'revoke', package: 'acme/notes', scope: 'all', capabilities: 'all' },
  invoke: { type: 'invoke', package: 'acme/notes', version: '1.2.0', digest: hex('a'), tool: 'search', agent, durationMs: 42, outcome: 'ok', inputSha256: hex('e'), outputSha256: hex('f'), redactions: { email: 2, secret: 0 } },
  deny: { type: 'deny', package: 'acme/notes', tool: 'search', agent, code: 'MPP_E_GRANT_NOT_DECLARED', reason: 'net:https://evil.example:443 is not declared' },
  'confirm-asked': { type: 'confirm-asked', requestId: 'r-1', package: 'acme/notes', tool: 'delete', operation: 'delete 3 notes', agent, argumentsSha256: hex('1'), sensitivity: 'destructive' },
  'confirm-answered': { type: 'confirm-answered', requestId: 'r-1', answer: 'approved' },
  'attestation-issued': { type: 'attestation-issued', nonce: 'n-1', envelope: { payloadType: 'application/vnd.mpp.attestation.v1+json', payload: 'e30', signatures: [{ keyid: hex('2'), sig: 'AA' }] } },
  'attestation-consumed': { type: 'attestation-consumed', nonce: 'n-1', outcome: 'consumed' },
  redaction: { type: 'redaction', package: 'acme/notes', tool: 'search', direction: 'output', counts: { email: 1, 'ip-address': 3 } },
};

/** The audit database of `home`, opened directly, as someone editing the file would. */
export function rawAuditDb(home: string): Database {
  return openDatabase(homePaths(home).audit);
}

/** Runs SQL on the audit database and closes it. */
export function editAuditDb(home: string, fn: (db: Database) => void): void {
  const db = rawAuditDb(home);
  try {
    fn(db);
  } finally {
    db.close();
  }
}
