/**
 * The author SDK (sdk/, `mpp:sdk`) inside the real sandbox, on both engines:
 * a fixture tool (test/fixtures/sdk-probe) built by `mpp build`'s code runs
 * every file and environment operation under a read-only and a read-write
 * grant, and reports each result or refusal code. The host's reasons
 * (mpp:tool/refusal) tell `outside-grant` from other refusals.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildPackage } from '../../runtime/build/index.ts';
import { createSandbox } from '../../runtime/sandbox/index.ts';
import { examinePackage } from '../../runtime/trust/gatekeeper.ts';
import { SANDBOX_CACHE } from '../fixtures/tools/env.ts';
import { ROOT, tempDir } from '../helpers/cli.ts';

const PROBE = join(ROOT, 'test', 'fixtures', 'sdk-probe');
const dir = tempDir({ after }, 'sdk');
const ro = join(dir, 'ro');
const rw = join(dir, 'rw');

before(() => {
  mkdirSync(ro);
  mkdirSync(rw);
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'secret.txt'), 'secret');
  writeFileSync(join(ro, 'a.txt'), 'hello\n');
  symlinkSync(join(dir, 'outside'), join(ro, 'escape'));
});

async function call(engine: 'spidermonkey' | 'quickjs', tool: string, input: unknown): Promise<Record<string, unknown>> {
  const built = await buildPackage({ projectDir: PROBE, engine });
  const sb = await createSandbox({
    component: examinePackage(built.archive).entries.component.data,
    grant: { fs: [{ hostPath: ro, guestPath: '/ro', write: false }, { hostPath: rw, guestPath: '/rw', write: true }], env: { PROBE_TOKEN: 't0k' } },
    cacheDir: SANDBOX_CACHE,
  });
  try {
    return JSON.parse(await sb.call(tool, JSON.stringify(input))) as Record<string, unknown>;
  } finally {
    await sb.dispose();
  }
}

for (const engine of ['spidermonkey', 'quickjs'] as const) {
  describe(`files and env (${engine})`, () => {
    let out: Record<string, unknown>;
    before(async () => {
      out = await call(engine, 'files', {});
    });
    const code = (k: string) => (out[k] as { code?: string }).code;

    test('reads text, bytes and ranges; stats and lists; exists', () => {
      assert.deepEqual(out.granted, ['/ro', '/rw']);
      assert.deepEqual(out.readText, { ok: 'hello\n' });
      assert.deepEqual(out.readBytes, { ok: [104, 101, 108, 108, 111, 10] });
      assert.deepEqual(out.readRange, { ok: 'ell' });
      assert.deepEqual(out.stat, { ok: { type: 'file', size: 6, hasTime: true } });
      assert.deepEqual(out.list, { ok: [{ name: 'a.txt', type: 'file' }, { name: 'escape', type: 'symlink' }] });
      assert.deepEqual(out.exists, { ok: [true, false] });
    });

    test('writes, appends, makes, renames and removes folders under a read-write grant', () => {
      assert.deepEqual(out.write, { ok: 'héllo + more' });
      assert.equal(readFileSync(join(rw, 'out.txt'), 'utf8'), 'héllo + more');
      assert.deepEqual(out.tree, { ok: { listed: [{ name: 'x.txt', type: 'file' }], after: ['out.txt'] } });
    });

    test('every refusal is a ToolRefusal with its code', () => {
      assert.equal(code('tooLarge'), 'too-large');
      assert.equal(code('notFound'), 'not-found');
      assert.equal(code('notGranted'), 'not-granted');
      assert.equal(code('relative'), 'invalid-argument');
      assert.equal(code('readOnly'), 'read-only');
      assert.equal(code('isDirectory'), 'is-a-directory');
      assert.equal(code('mkdirExists'), 'already-exists');
      assert.equal(code('removeNotEmpty'), 'not-empty');
    });

    test("the host's reason tells outside-grant apart, and names no host path", () => {
      assert.deepEqual(out.dotDot, { code: 'outside-grant', message: '/ro/../rw/x: `..` leads outside the granted folder' });
      assert.deepEqual(out.symlinkOut, { code: 'outside-grant', message: '/ro/escape/secret.txt: a symbolic link leads outside the granted folder' });
      assert.ok(!JSON.stringify(out).includes(dir), 'no host path reaches the tool');
    });

    test('only granted variables exist', () => {
      assert.deepEqual(out.env, ['t0k', null, ['PROBE_TOKEN']]);
    });
  });
}

describe('fetch', () => {
  test('a refused request is network-denied with the rule that refused it (SpiderMonkey)', async () => {
    assert.deepEqual(await call('spidermonkey', 'fetch', { url: 'http://127.0.0.1:9/x' }), {
      code: 'network-denied',
      message: 'http://127.0.0.1:9/x: GET http://127.0.0.1:9 is not granted',
    });
  });

  test('QuickJS has no fetch: unavailable, and async tools are refused as such', async () => {
    await assert.rejects(call('quickjs', 'fetch', { url: 'http://127.0.0.1:9/x' }), (e: unknown) => {
      assert.equal((e as { code: string }).code, 'MPP_E_TOOL_ERROR');
      assert.equal((e as { detail: { toolCode: string } }).detail.toolCode, 'unavailable');
      return true;
    });
  });
});
