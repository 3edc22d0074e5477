import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serializeManifest, type Manifest, type Sensitivity } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { generateKey, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { mpp, tempDir } from '../helpers/cli.ts';

/**
 * `mpp run` as a user runs it: real components (the fs and misc probes), packed
 * with a manifest, signed, trusted, and called with and without grants.
 */
const any = { type: 'object' } as const;
const tool = (name: string, sensitivity: Sensitivity = 'read') => ({ name, description: `Probe: ${name}.`, sensitivity, inputSchema: any, outputSchema: any });

describe('mpp run', () => {
  const dir = tempDir({ after }, 'run');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const fsPkg = join(dir, 'fs-probe.mpp');
  const miscPkg = join(dir, 'misc-probe.mpp');
  const json = <T>(s: string) => JSON.parse(s) as T;
  // These tests exercise the sandbox's grants: a run without --allow-* grants
  // nothing for that run (--no-grants); stored grants are test/integration/governance.test.ts's.
  const runJson = async (args: string[], env: Record<string, string> = {}) => {
    const oneOff = args.some((a) => a.startsWith('--allow-')) ? [] : ['--no-grants'];
    const r = await mpp(['run', ...args, ...oneOff, '--json', '--workspace', ws], { home, cwd: ws, env });
    return { ...r, body: json<{ ok: boolean; output?: Record<string, unknown>; error?: { code: string; message: string } }>(r.stdout) };
  };

  before(async () => {
    const key = generateKey();
    const pack = async (fixture: 'fs-probe' | 'misc-probe', manifest: Manifest, out: string) => {
      const bytes = writeArchive(new Map([['manifest.json', serializeManifest(manifest)], ['tool.wasm', await fixtureComponent(fixture)]]));
      writeFileSync(out, signPackage(bytes, key));
    };
    const base = { mpp: 1 as const, version: '1.0.0', description: 'A probe.', publisher: { name: 'Probes' } };
    await pack('fs-probe', {
      ...base,
      name: 'probes/fs',
      // `write` is declared `read` here: this file tests the sandbox's folder grants, not confirmations.
      tools: [tool('read'), tool('write')],
      permissions: { filesystem: [{ path: '${workspace}/data', access: 'read-write' }, { path: '${workspace}/docs', access: 'read' }] },
    }, fsPkg);
    await pack('misc-probe', {
      ...base,
      name: 'probes/misc',
      tools: [tool('env'), tool('loop', 'none'), tool('fail', 'none'), tool('not-json', 'none')],
      permissions: { environment: [{ name: 'PROBE_TOKEN' }] },
      // The most a package may ask: only the looping tool's test sets a limit (--timeout), which a loop always reaches.
      limits: { timeoutMs: 600000 },
    }, miscPkg);
    mkdirSync(join(ws, 'data'), { recursive: true });
    mkdirSync(join(ws, 'docs'), { recursive: true });
    writeFileSync(join(ws, 'data', 'a.txt'), 'alpha');
    writeFileSync(join(ws, 'docs', 'b.txt'), 'bravo');
    writeFileSync(join(dir, 'key.pub.pem'), publicKeyToPem(key.publicKey));
    assert.equal((await mpp(['trust', 'add', join(dir, 'key.pub.pem'), '--name', 'Probes'], { home })).code, 0);
  });

  it('refuses a package that declares capabilities until the user decides, when nobody can be asked', async () => {
    const r = await mpp(['run', fsPkg, 'read', '--input', '{}', '--json', '--workspace', ws], { home, cwd: ws });
    assert.equal(r.code, 1);
    assert.equal(json<{ error: { code: string } }>(r.stdout).error.code, 'MPP_E_CONSENT_REQUIRED');
  });

  it('grants nothing with --no-grants: the tool sees no folder', async () => {
    const r = await runJson([fsPkg, 'read', '--input', '{"preopen":"/workspace/data","path":"a.txt"}']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.body.output?.ok, false);
  });

  it('reads inside a granted folder, seen by the tool at /workspace/...', async () => {
    const r = await runJson([fsPkg, 'read', '--input', '{"preopen":"/workspace/data","path":"a.txt"}', '--allow-read', join(ws, 'data')]);
    assert.deepEqual(r.body.output, { ok: true, text: 'alpha' });
  });

  it('a read grant refuses writes, a write grant allows them', async () => {
    const write = (flag: string) => runJson([fsPkg, 'write', '--input', '{"preopen":"/workspace/data","path":"a.txt","text":"changed"}', flag, join(ws, 'data')]);
    const ro = await write('--allow-read');
    assert.equal(ro.body.output?.ok, false);
    assert.equal(readFileSync(join(ws, 'data', 'a.txt'), 'utf8'), 'alpha');
    const rw = await write('--allow-write');
    assert.equal(rw.body.output?.ok, true, JSON.stringify(rw.body));
    assert.equal(readFileSync(join(ws, 'data', 'a.txt'), 'utf8'), 'changed');
  });

  it('refuses to grant what the package did not declare', async () => {
    for (const args of [['--allow-write', join(ws, 'docs')], ['--allow-read', ws], ['--allow-net', 'https://example.com'], ['--allow-env', 'HOME']]) {
      const r = await runJson([fsPkg, 'read', '--input', '{}', ...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.body.error?.code, 'MPP_E_GRANT_NOT_DECLARED', args.join(' '));
    }
  });

  it('passes only granted environment variables', async () => {
    const env = { PROBE_TOKEN: 'tok', SECRET_OTHER: 'no' };
    const without = await runJson([miscPkg, 'env', '--input', '{"name":"PROBE_TOKEN"}'], env);
    assert.deepEqual(without.body.output?.env, []);
    const withIt = await runJson([miscPkg, 'env', '--input', '{"name":"PROBE_TOKEN"}', '--allow-env', 'PROBE_TOKEN'], env);
    assert.deepEqual(withIt.body.output?.env, [['PROBE_TOKEN', 'tok']]);
  });

  it('stops a looping tool at the time limit with its own code', async () => {
    const r = await runJson([miscPkg, 'loop', '--input', '{}', '--timeout', '300']);
    assert.equal(r.code, 1);
    assert.equal(r.body.error?.code, 'MPP_E_TOOL_TIMEOUT');
  });

  it('reports tool errors and broken output with their codes', async () => {
    assert.equal((await runJson([miscPkg, 'fail', '--input', '{"code":"nope","message":"no"}'])).body.error?.code, 'MPP_E_TOOL_ERROR');
    assert.equal((await runJson([miscPkg, 'not-json', '--input', '{}'])).body.error?.code, 'MPP_E_OUTPUT_INVALID');
  });

  it('transpiles a damaged component cache entry again: the next call still works', async () => {
    const call = () => runJson([miscPkg, 'env', '--input', '{"name":"PROBE_TOKEN"}']);
    assert.deepEqual((await call()).body.output?.env, []);
    const cache = join(home, 'cache', 'components');
    const entries = readdirSync(cache).filter((n) => !n.startsWith('.'));
    assert.ok(entries.length > 0, 'the first call filled the cache');
    // Garbage in the core modules (meta.json intact), then a deleted module and glue.
    for (const entry of entries) for (const f of readdirSync(join(cache, entry))) if (f.endsWith('.wasm')) writeFileSync(join(cache, entry, f), 'not wasm at all');
    const afterGarbage = await call();
    assert.equal(afterGarbage.code, 0, afterGarbage.stdout + afterGarbage.stderr);
    assert.deepEqual(afterGarbage.body.output?.env, []);
    for (const entry of entries) for (const f of readdirSync(join(cache, entry))) if (f.endsWith('.wasm') || f.endsWith('.js')) rmSync(join(cache, entry, f));
    const afterLoss = await call();
    assert.equal(afterLoss.code, 0, afterLoss.stdout + afterLoss.stderr);
    assert.deepEqual(afterLoss.body.output?.env, []);
  });

  it('refuses a tool the package does not have, and input that is not JSON', async () => {
    assert.equal((await runJson([miscPkg, 'nope'])).body.error?.code, 'MPP_E_TOOL_UNKNOWN');
    assert.equal((await runJson([miscPkg, 'env', '--input', '{nope'])).body.error?.code, 'MPP_E_INPUT_INVALID');
  });
});
