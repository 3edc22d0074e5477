import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { mpp, ROOT, tempDir } from '../helpers/cli.ts';
import { syslogReceiver, type SyslogReceiver } from '../helpers/syslog-receiver.ts';

/**
 * Audit forwarding against a real collector (rsyslogd over TLS): a host
 * killed with SIGKILL mid-stream and a collector down for a while lose
 * nothing; what arrives twice is exactly detectable by (source, seq), and
 * every record's hash matches the local chain.
 */
describe('audit forwarding to a real syslog collector', () => {
  const dir = tempDir({ after }, 'forward');
  const home = join(dir, 'home');
  const org = join(dir, 'org');
  let receiver: SyslogReceiver;
  const env = () => ({ MPP_ORG_POLICY_ADD: org });

  before(async () => {
    mkdirSync(home, { recursive: true });
    mkdirSync(org, { recursive: true });
    receiver = await syslogReceiver(join(dir, 'rsyslog'));
    writeFileSync(join(org, 'org-policy.json'), JSON.stringify({ mppOrgPolicy: 1, auditForwarding: { required: true, target: `syslog-tls://127.0.0.1:${receiver.port}`, caFile: receiver.caFile, maxBacklog: 100000 } }));
    await receiver.start();
  });
  after(() => receiver.kill());

  const received = () =>
    receiver.lines().map((line) => {
      const m = /source="([^"]+)" seq="(\d+)" hash="([0-9a-f]{64})" prev="([0-9a-f]{64})"\] (\{.*\})$/.exec(line);
      assert.ok(m, `a well-formed line: ${line}`);
      return { source: m[1]!, seq: Number(m[2]), hash: m[3]!, event: JSON.parse(m[5]!) as { type: string } };
    });

  it('survives a host killed mid-stream and a collector outage: every record arrives, duplicates are exactly those with a repeated seq', async () => {
    // A host writing and forwarding, killed while it does both.
    const child = spawn(process.execPath, [join(ROOT, 'test', 'security', 'forward-child.ts')], { env: { ...process.env, MPP_HOME: home, ...env() }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (/^(1[5-9]\d|[2-9]\d\d)$/m.test(out)) resolve(); // at least 150 records written
      });
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    // The collector goes away; short CLI commands keep writing records (and fail to send them, quietly).
    await receiver.kill();
    writeFileSync(join(dir, 'k.pub.pem'), (await import('../../runtime/trust/keys.ts')).publicKeyToPem((await import('../../runtime/trust/keys.ts')).generateKey().publicKey));
    for (let i = 0; i < 3; i++) assert.equal((await mpp(['trust', 'add', join(dir, 'k.pub.pem'), '--name', `outage-${i}`], { home, env: env() })).code, 0);
    const down = await mpp(['audit', 'forward', '--json', '--timeout', '2000'], { home, env: env() });
    assert.equal(down.code, 1);
    assert.equal((JSON.parse(down.stdout) as { error: { code: string } }).error.code, 'MPP_E_AUDIT_FORWARD_FAILED');

    // Back up: whoever forwards next sends everything that waits.
    await receiver.start();
    const up = await mpp(['audit', 'forward', '--json'], { home, env: env() });
    assert.equal(up.code, 0, up.stdout);
    assert.equal((JSON.parse(up.stdout) as { backlog: number }).backlog, 0);

    const log = openAuditLog(home, { readOnly: true });
    const local = log.query();
    log.close();
    const got = received();
    const sources = new Set(got.map((r) => r.source));
    assert.equal(sources.size, 1, 'one source id per MPP home');
    const bySeq = new Map<number, string>();
    let duplicates = 0;
    for (const r of got) {
      const seen = bySeq.get(r.seq);
      if (seen !== undefined) {
        duplicates++;
        assert.equal(seen, r.hash, `a repeated seq ${r.seq} is the same record`);
      }
      bySeq.set(r.seq, r.hash);
    }
    // Every local record arrived, with the hash of the local chain: no gap.
    assert.ok(local.length >= 153);
    for (const rec of local) assert.equal(bySeq.get(rec.seq), rec.hash, `record ${rec.seq} reached the collector`);
    assert.equal(bySeq.size, local.length, 'nothing arrived that the log does not hold');
    assert.equal(got.length, local.length + duplicates);
  });

  it('never rotates away what the collector has not read', async () => {
    await receiver.kill();
    for (let i = 0; i < 2; i++) assert.equal((await mpp(['trust', 'add', join(dir, 'k.pub.pem'), '--name', `late-${i}`], { home, env: env() })).code, 0);
    const rotate = await mpp(['audit', 'rotate', '--keep', '1', '--json'], { home, env: env() });
    assert.equal(rotate.code, 0, rotate.stdout);
    const log = openAuditLog(home, { readOnly: true });
    const live = log.query();
    log.close();
    assert.ok(live.length >= 2, 'the two records not yet sent stay live');
    assert.equal(live.at(-1)!.event.type, 'trust');
    await receiver.start();
    assert.equal((await mpp(['audit', 'forward'], { home, env: env() })).code, 0);
  });
});
