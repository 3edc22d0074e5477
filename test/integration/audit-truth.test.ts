import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordHash } from '../../runtime/audit/hash.ts';
import { recordLine, type RecordFields } from '../../runtime/audit/segments.ts';
import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { generateKey, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { mpp, mppInTerminal, tempDir } from '../helpers/cli.ts';

/**
 * `mpp audit verify` reports only what it proves (issue 14, item 4), through
 * the built CLI, against exports forged the way a careful attacker would:
 * rewritten consistently (every hash recomputed), so the chain alone holds.
 */
const any = { type: 'object' } as const;
interface Fail {
  error: { code: string; message: string; detail: { seq: number; kind: string; intact?: number } };
}

/** The export's records from `from` (1-based seq) on, changed by `edit` and chained again: a consistent rewrite. */
function rewrite(lines: string, from: number, edit: (r: RecordFields) => RecordFields = (r) => r, extra: Omit<RecordFields, 'prev' | 'hash' | 'seq'>[] = []): string {
  const records = lines.trim().split('\n').map((l) => JSON.parse(l) as RecordFields);
  let prev = '';
  const out: RecordFields[] = [];
  for (const r of [...records, ...extra.map((e, i) => ({ ...e, seq: records.length + i + 1, prev: '', hash: '' }))]) {
    if (r.seq < from) {
      out.push(r);
    } else {
      const changed = { ...edit(r), prev: prev === '' ? r.prev : prev };
      out.push({ ...changed, hash: recordHash(changed) });
    }
    prev = out.at(-1)!.hash;
  }
  return out.map(recordLine).join('');
}

describe('audit verify tells only what it proves', () => {
  const dir = tempDir({ after }, 'audit-truth');
  const home = join(dir, 'home');
  const file = (n: string) => join(dir, n);
  const verify = (args: string[]) => mpp(['audit', 'verify', ...args, '--json'], { home: join(dir, 'auditor') });
  let exported = '';
  let anchor = '';

  before(async () => {
    const key = generateKey();
    const m: Manifest = {
      mpp: 1,
      name: 'probes/audit',
      version: '1.0.0',
      description: 'A probe.',
      publisher: { name: 'Probes' },
      tools: [{ name: 'delete', description: 'Deletes.', sensitivity: 'destructive', inputSchema: any, outputSchema: any }],
    };
    writeFileSync(file('p.mpp'), signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', await fixtureComponent('misc-probe')]])), key));
    writeFileSync(file('pub.pem'), publicKeyToPem(key.publicKey));
    assert.equal((await mpp(['trust', 'add', file('pub.pem'), '--name', 'Probes'], { home })).code, 0);
    assert.equal((await mpp(['install', file('p.mpp')], { home })).code, 0);
    // Two approved calls: two attestations issued and consumed.
    for (let i = 0; i < 2; i++) {
      const r = await mppInTerminal(['run', 'probes/audit', 'delete', '--input', `{"i":${i}}`], { home, answers: 'y' });
      assert.equal(r.code, 0, r.stdout);
    }
    anchor = (await mpp(['audit', 'head'], { home })).stdout.trim();
    assert.equal((await mpp(['audit', 'export', '--out', file('audit.jsonl')], { home })).code, 0);
    exported = readFileSync(file('audit.jsonl'), 'utf8');
    writeFileSync(file('host.pub.pem'), (JSON.parse((await mpp(['audit', 'host-key', '--json'], { home })).stdout) as { publicKey: string }).publicKey);
  });

  it('the export as made verifies against its anchor and host key', async () => {
    const r = await verify(['--file', file('audit.jsonl'), '--expect-head', anchor, '--host-key', file('host.pub.pem')]);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual((JSON.parse(r.stdout) as { attestations: unknown }).attestations, { issued: 2, consumed: 2 });
  });

  it('a consistent rewrite is an anchor mismatch, and no record before the anchor is claimed intact', async () => {
    const count = exported.trim().split('\n').length;
    const forged = rewrite(exported, 3, (r) => (r.seq === 3 ? { ...r, time: '2000-01-01T00:00:00.000Z' } : r));
    writeFileSync(file('forged.jsonl'), forged);
    // The chain alone holds: nothing but the anchor can tell.
    assert.equal((await verify(['--file', file('forged.jsonl')])).code, 0);
    const r = await verify(['--file', file('forged.jsonl'), '--expect-head', anchor]);
    assert.equal(r.code, 1);
    const fail = JSON.parse(r.stdout) as Fail;
    assert.equal(fail.error.code, 'MPP_E_AUDIT_TAMPERED');
    assert.deepEqual([fail.error.detail.kind, fail.error.detail.seq, fail.error.detail.intact], ['anchor-mismatch', count, 0]);
    assert.doesNotMatch(fail.error.message, /records before it are intact/);
    assert.match(fail.error.message, /No record before it can be proven intact/);
  });

  it('an export in which one attestation is consumed twice fails the offline check', async () => {
    const records = exported.trim().split('\n').map((l) => JSON.parse(l) as RecordFields);
    const consumedRecord = records.find((r) => r.type === 'attestation-consumed')!;
    const replayed = rewrite(exported, records.length + 1, undefined, [{ time: new Date().toISOString(), type: consumedRecord.type, event: consumedRecord.event }]);
    writeFileSync(file('replayed.jsonl'), replayed);
    const r = await verify(['--file', file('replayed.jsonl'), '--host-key', file('host.pub.pem')]);
    assert.equal(r.code, 1, r.stdout);
    const fail = JSON.parse(r.stdout) as Fail;
    assert.equal(fail.error.code, 'MPP_E_ATTESTATION_INVALID');
    assert.match(fail.error.message, /a second time/);
    assert.equal(fail.error.detail.seq, records.length + 1);
  });
});
