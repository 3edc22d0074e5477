import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openAuditLog, recordAudit, type AuditEvent, type AuditRecord } from '../../runtime/audit/log.ts';
import { serializeManifest, type Manifest, type Sensitivity } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import type { ConfirmationRequest, Confirmer } from '../../runtime/governance/confirm.ts';
import { ToolHost, type ToolCall } from '../../runtime/governance/tool-host.ts';
import { SandboxPool } from '../../runtime/run/sandbox-pool.ts';
import { installPackage } from '../../runtime/store/packages.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { addTrustedKey } from '../helpers/trust.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { tempDir } from '../helpers/cli.ts';

/**
 * Attacks on the governed call path by a hostile tool (and an unwritable
 * audit log): confirmation floods, oversized operation texts, calls that
 * could run unrecorded. Each test states the property that must hold.
 */
const any = { type: 'object' } as const;
const tool = (name: string, sensitivity: Sensitivity = 'none') => ({ name, description: `Probe: ${name}.`, sensitivity, inputSchema: any, outputSchema: any });

class Recorder implements Confirmer {
  readonly asked: ConfirmationRequest[] = [];
  confirm(req: ConfirmationRequest): Promise<'approved' | 'denied'> {
    this.asked.push(req);
    return Promise.resolve('approved');
  }
}

describe('hostile tools against confirmations and audit', () => {
  const dir = tempDir({ after }, 'gov-hostile');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const m: Manifest = { mpp: 1, description: 'A probe.', publisher: { name: 'Probes' }, name: 'probes/misc', version: '1.0.0', tools: [tool('confirm'), tool('echo'), tool('log-flood')] };
  const events = (type: AuditEvent['type']): AuditRecord[] => {
    const log = openAuditLog(home);
    try {
      return log.query({ type });
    } finally {
      log.close();
    }
  };
  const call = (h: ToolHost, toolName: string, input: object, extra: Partial<ToolCall> = {}) =>
    h.call({ target: { installed: 'probes/misc' }, tool: toolName, input: JSON.stringify(input), caller: { label: 'test-agent' }, workspace: ws, ...extra });

  before(async () => {
    mkdirSync(ws, { recursive: true });
    const key = generateKey();
    const component = await fixtureComponent('misc-probe');
    await addTrustedKey(home, key.publicKey, 'Probes');
    await installPackage(home, signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', component]])), key), { trust: TrustStore.load(home) });
  });

  it('a tool asking for confirmations in a loop cannot flood the audit log past the limit', async () => {
    const h = new ToolHost({ home, confirmer: new Recorder(), audit: (e) => recordAudit(home, e) });
    const before = events('deny').length;
    await call(h, 'confirm', { times: 200 });
    const denies = events('deny').length - before;
    // Expected: one record says the tool was cut off. Found: one per request (197).
    assert.ok(denies <= 1, `${denies} deny records for one call`);
  });

  it('a confirmation asked for a long operation text is refused with an audit record', async () => {
    const confirmer = new Recorder();
    const h = new ToolHost({ home, confirmer, audit: (e) => recordAudit(home, e) });
    const before = events('deny').length;
    const r = await call(h, 'confirm', { times: 1, operation: 'x'.repeat(5000) });
    console.log(JSON.stringify(r.output).slice(0, 300), confirmer.asked.length);
    assert.equal(events('deny').length - before, 1, 'the refused confirmation left no deny record');
  });

  it('a tool does not run when its call cannot be audited (fail closed before the effects, not after)', async () => {
    const ran: string[] = [];
    const h = new ToolHost({
      home,
      audit: () => {
        throw new Error('audit log unavailable');
      },
      log: (_pkg, r) => ran.push(r.message),
    });
    await assert.rejects(call(h, 'log-flood', { lines: 1 }));
    // Found: the tool ran (its effects happened: here a log line; with grants, files, kv, HTTP) and only the final invoke record failed.
    assert.deepEqual(ran, [], 'the tool ran although nothing about the call could be audited');
  });
});
