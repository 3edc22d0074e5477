import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIT_EVENT_TYPES, type AuditEvent } from '../../../runtime/audit/events.ts';
import { activityByDay, describeEvent } from '../../../runtime/audit/sentences.ts';
import { SAMPLE_EVENTS } from '../../helpers/audit.ts';

describe('audit records as sentences', () => {
  it('every event type reads as one sentence naming who, what, which package and the outcome, without raw JSON or envelopes', () => {
    for (const type of AUDIT_EVENT_TYPES) {
      const e = SAMPLE_EVENTS[type];
      const { text } = describeEvent(e);
      assert.match(text, /^\S[^\n]*\.$/, `${type}: ${text}`);
      assert.doesNotMatch(text, /[{}[\]]|e30|payloadType/, `${type}: ${text}`);
      if ('package' in e && e.package) assert.ok(text.includes(e.package), `${type} names its package: ${text}`);
      if ('agent' in e) assert.ok(text.includes('test-agent (unverified)'), `${type} names its agent: ${text}`);
    }
    assert.equal(describeEvent(SAMPLE_EVENTS.invoke).text, 'test-agent (unverified) called search of acme/notes 1.2.0: done in 42 ms, 2 values redacted.');
    assert.equal(describeEvent(SAMPLE_EVENTS.deny).outcome, 'refused');
    assert.equal(describeEvent(SAMPLE_EVENTS['confirm-asked']).outcome, 'asked');
  });

  it('counts calls, denials and confirmations per package and UTC day, every day in between included', () => {
    const at = (time: string, event: AuditEvent) => ({ time, event });
    const started = { ...SAMPLE_EVENTS.invoke, outcome: 'started' } as AuditEvent;
    const a = activityByDay([
      at('2026-12-01T10:00:00.000Z', started),
      at('2026-12-01T11:00:00.000Z', SAMPLE_EVENTS.invoke), // an outcome record is not a second call
      at('2026-12-03T09:00:00.000Z', SAMPLE_EVENTS.deny),
      at('2026-12-03T09:00:01.000Z', SAMPLE_EVENTS['confirm-asked']),
      at('2026-12-03T09:00:02.000Z', { ...started, package: 'acme/other' } as AuditEvent),
      at('2026-12-03T09:00:03.000Z', SAMPLE_EVENTS.install),
    ]);
    assert.deepEqual(a.days, ['2026-12-01', '2026-12-02', '2026-12-03']);
    assert.deepEqual(a.packages, [
      { name: 'acme/notes', calls: [1, 0, 0], denials: [0, 0, 1], confirmations: [0, 0, 1] },
      { name: 'acme/other', calls: [0, 0, 1], denials: [0, 0, 0], confirmations: [0, 0, 0] },
    ]);
    assert.deepEqual(activityByDay([at('2026-12-01T10:00:00.000Z', SAMPLE_EVENTS.install)]), { days: [], packages: [] });
  });
});
