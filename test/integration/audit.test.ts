/**
 * `mpp audit` end to end through the bundled CLI: install, uninstall,
 * verify and trust leave records; `mpp audit verify` exits 0 on an intact
 * log and 1 with MPP_E_AUDIT_TAMPERED and the place of the break; head,
 * rotate and export; read-only subcommands create nothing; a log that was
 * cut refuses the next audited command before it acts.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { homePaths } from '../../runtime/home.ts';
import { generateKey, publicKeyToPem, type PrivateKey } from '../../runtime/trust/keys.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { mpp, tempDir } from '../helpers/cli.ts';
import { editAuditDb } from '../helpers/audit.ts';
import { exampleBuild, examplePackage } from '../helpers/installable.ts';

const json = <T>(s: string): T => JSON.parse(s) as T;
interface Listed {
  records: { seq: number; type: string; event: Record<string, unknown>; hash: string }[];
}
interface Fail {
  error: { code: string; detail: { seq: number; kind: string } };
}

describe('mpp audit', () => {
  const dir = tempDir({ after }, 'audit-cli');
  const home = join(dir, 'home');
  const file = (n: string) => join(dir, n);
  let key: PrivateKey;

  before(async () => {
    const build = await exampleBuild();
    key = generateKey();
    writeFileSync(file('v1.mpp'), examplePackage(build, key, { version: '0.1.0' }));
    writeFileSync(file('key.pub.pem'), publicKeyToPem(key.publicKey));
  });

  it('read-only subcommands create no home and no database', async () => {
    const fresh = join(dir, 'never');
    for (const args of [['audit'], ['audit', 'verify'], ['audit', 'head'], ['audit', '--type', 'install', '--json']]) {
      const r = await mpp(args, { home: fresh, cwd: dir });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const hostKey = await mpp(['audit', 'host-key', '--json'], { home: fresh, cwd: dir });
    assert.equal(hostKey.code, 0, hostKey.stderr);
    assert.equal(json<{ keyid: string | null }>(hostKey.stdout).keyid, null, 'no host key yet is an answer, not an error');
    const anchored = await mpp(['audit', 'verify', '--expect-head', `1:${'0'.repeat(64)}`, '--json'], { home: fresh, cwd: dir });
    assert.equal(anchored.code, 1);
    assert.deepEqual([json<Fail>(anchored.stdout).error.detail.seq, json<Fail>(anchored.stdout).error.detail.kind], [1, 'truncated'], 'an anchor for a home without a log');
    assert.equal(existsSync(fresh), false);
  });

  it('install, verify (pass and fail), trust and uninstall leave one record each, in order', async () => {
    assert.equal((await mpp(['verify', file('v1.mpp'), '--json'], { home })).code, 1, 'unknown key: refused');
    assert.equal((await mpp(['trust', 'add', file('key.pub.pem'), '--name', 'Examples'], { home })).code, 0);
    assert.equal((await mpp(['verify', file('v1.mpp')], { home })).code, 0);
    const installed = await mpp(['install', file('v1.mpp')], { home });
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal((await mpp(['uninstall', 'mpp-examples/hello'], { home })).code, 0);
    assert.equal((await mpp(['trust', 'revoke', key.publicKey.keyid], { home })).code, 0);
    assert.equal((await mpp(['trust', 'remove', key.publicKey.keyid], { home })).code, 0);

    const { records } = json<Listed>((await mpp(['audit', '--json'], { home })).stdout);
    assert.deepEqual(records.map((r) => [r.type, r.event.outcome ?? r.event.action ?? r.event.change ?? r.event.purge]), [
      ['verify', 'fail'],
      ['trust', 'add'],
      ['verify', 'pass'],
      ['install', 'installed'],
      ['uninstall', false],
      ['trust', 'revoke'],
      ['trust', 'remove'],
    ]);
    assert.equal(records[0]!.event.code, 'MPP_E_UNTRUSTED_KEY');
    assert.equal(records[0]!.event.file, file('v1.mpp'));
    assert.deepEqual(records[3]!.event.publisher, { keyid: key.publicKey.keyid, name: 'Examples' });
    assert.match(String(records[3]!.event.digest), /^[0-9a-f]{64}$/);

    const table = await mpp(['audit', '--type', 'trust'], { home });
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^SEQ +TIME +TYPE +SUBJECT +AGENT +OUTCOME\n/);
    assert.equal(table.stdout.trimEnd().split('\n').length, 4);
    const limited = json<Listed>((await mpp(['audit', '--package', 'mpp-examples/hello', '--limit', '2', '--json'], { home })).stdout);
    assert.deepEqual(limited.records.map((r) => r.type), ['install', 'uninstall']);
  });

  it('audit verify: exit 0 with the head; --expect-head checks an anchor; rotate and export keep it checkable', async () => {
    const head = (await mpp(['audit', 'head'], { home })).stdout.trim();
    assert.match(head, /^7:[0-9a-f]{64}$/);
    const ok = await mpp(['audit', 'verify'], { home });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), `Chain intact: 7 records, head ${head}.`);
    assert.equal((await mpp(['audit', 'verify', '--expect-head', head], { home })).code, 0);
    const wrong = await mpp(['audit', 'verify', '--expect-head', `3:${'0'.repeat(64)}`, '--json'], { home });
    assert.equal(wrong.code, 1);
    assert.deepEqual(json<Fail>(wrong.stdout).error.detail.kind, 'anchor-mismatch');

    assert.equal(json<{ archived: number }>((await mpp(['audit', 'rotate', '--keep', '2', '--json'], { home })).stdout).archived, 5);
    assert.equal((await mpp(['audit', 'verify', '--expect-head', head], { home })).code, 0);
    const exported = await mpp(['audit', 'export', '--out', file('audit.jsonl'), '--json'], { home });
    assert.equal(json<{ records: number }>(exported.stdout).records, 7);
    assert.equal((await mpp(['audit', 'verify', '--file', file('audit.jsonl'), '--expect-head', head], { home })).code, 0);
    assert.equal((await mpp(['audit', 'rotate', '--keep', '0'], { home })).code, 2);
  });

  it('audit verify: exit 1 with MPP_E_AUDIT_TAMPERED, the seq and the kind, after an edit', async () => {
    editAuditDb(home, (db) => db.prepare(`UPDATE audit_records SET event = replace(event, '"action":"remove"', '"action":"add"') WHERE seq = 7`).run());
    const r = await mpp(['audit', 'verify', '--json'], { home });
    assert.equal(r.code, 1);
    const { error } = json<Fail>(r.stdout);
    assert.equal(error.code, 'MPP_E_AUDIT_TAMPERED');
    assert.deepEqual([error.detail.seq, error.detail.kind], [7, 'edited']);
    const human = await mpp(['audit', 'verify'], { home });
    assert.match(human.stderr, /^error MPP_E_AUDIT_TAMPERED: The audit log is broken at record 7 \(edited, in live\)/);
  });

  it('a log whose newest records were deleted refuses audited commands before they act (fail closed)', async () => {
    const cut = join(dir, 'cut');
    assert.equal((await mpp(['trust', 'add', file('key.pub.pem'), '--name', 'A'], { home: cut })).code, 0);
    assert.equal((await mpp(['trust', 'revoke', key.publicKey.keyid], { home: cut })).code, 0);
    assert.equal((await mpp(['trust', 'remove', key.publicKey.keyid], { home: cut })).code, 0);
    editAuditDb(cut, (db) => db.prepare('DELETE FROM audit_records WHERE seq >= 2').run());
    const verify = json<Fail>((await mpp(['audit', 'verify', '--json'], { home: cut })).stdout);
    assert.deepEqual([verify.error.detail.seq, verify.error.detail.kind], [2, 'truncated']);
    const refused = await mpp(['trust', 'add', file('key.pub.pem'), '--name', 'B', '--json'], { home: cut });
    assert.equal(refused.code, 1);
    assert.equal(json<Fail>(refused.stdout).error.code, 'MPP_E_AUDIT_TAMPERED');
    assert.deepEqual(TrustStore.load(cut).records, [], 'the key was not trusted');
    assert.ok(existsSync(homePaths(cut).auditHead));
  });
});
