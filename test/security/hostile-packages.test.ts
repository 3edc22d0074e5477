import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mpp, snapshot, tempDir, withoutAudit } from '../helpers/cli.ts';
import { VECTORS, loadIndex, writeVectorTrustStore } from '../helpers/vectors.ts';

/**
 * Every hostile conformance vector, handed to the real `mpp` binary as a user
 * would (verify, sign, install): it must be refused with its code, and nothing
 * may be written, neither in MPP_HOME (but the audit record of the refusal)
 * nor next to the package, nor to the package itself.
 */
const index = loadIndex();
const hostile = index.vectors.filter((v) => v.expect.verdict === 'refuse');
// Refusals that are about trust, not integrity: signing such a package is legitimate.
const TRUST_CODES = new Set(['MPP_E_UNSIGNED', 'MPP_E_UNTRUSTED_KEY', 'MPP_E_REVOKED_KEY']);

describe('hostile packages through the CLI', () => {
  const dir = tempDir({ after }, 'hostile');
  const home = join(dir, 'home');
  const work = join(dir, 'work');

  before(() => {
    writeVectorTrustStore(mkdir(home), index);
    mkdir(work);
    copyFileSync(join(VECTORS, 'keys', 'author.pem'), join(dir, 'author.pem'));
  });

  it(`has at least 30 hostile packages (${hostile.length})`, () => assert.ok(hostile.length >= 30));

  for (const v of hostile) {
    const code = (v.expect as { code: string }).code;
    it(`${v.id}: refused with ${code}, nothing written`, async () => {
      const file = join(work, v.file);
      copyFileSync(join(VECTORS, 'packages', v.file), file);
      const before = { home: withoutAudit(snapshot(home)), work: snapshot(work) };

      const verify = await mpp(['verify', file, '--json'], { home, cwd: work });
      assert.equal(verify.code, 1, `${v.id}: exit code ${verify.code}\n${verify.stdout}${verify.stderr}`);
      const report = JSON.parse(verify.stdout) as { ok: boolean; error: { code: string; message: string; hint?: string } };
      assert.equal(report.ok, false);
      assert.equal(report.error.code, code, `${v.id}: ${report.error.message}`);
      assert.ok(report.error.message.length > 10 && report.error.hint, `${v.id}: the refusal must say what happened and what to do`);

      const human = await mpp(['verify', file], { home, cwd: work });
      assert.equal(human.code, 1);
      assert.match(human.stderr, new RegExp(`^error ${code}: .+\\n  hint: .+`, 'm'));

      const install = await mpp(['install', file, '--json'], { home, cwd: work });
      assert.equal(install.code, 1, `${v.id}: ${install.stdout}${install.stderr}`);
      assert.equal((JSON.parse(install.stdout) as { error: { code: string } }).error.code, code, `${v.id}: install`);

      if (!TRUST_CODES.has(code)) {
        const sign = await mpp(['sign', file, '--key', join(dir, 'author.pem'), '--json'], { home, cwd: work });
        assert.equal(sign.code, 1, `${v.id}: a damaged package must not be signed`);
        assert.equal((JSON.parse(sign.stdout) as { error: { code: string } }).error.code, code);
      }
      assert.deepEqual({ home: withoutAudit(snapshot(home)), work: snapshot(work) }, before, `${v.id}: something was written`);
    });
  }
});

function mkdir(p: string): string {
  mkdirSync(p, { recursive: true });
  return p;
}
