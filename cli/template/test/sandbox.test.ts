/**
 * Runs the built package (dist/, made by `npm test` before the tests) in MPP's
 * real sandbox, the way an agent's call runs: signed with a throwaway key
 * trusted in a throwaway MPP home, with only what each test grants.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

const project = join(import.meta.dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'mpp-test-home-'));
const workspace = mkdtempSync(join(tmpdir(), 'mpp-test-workspace-'));
const pkg = join(home, 'tool.mpp');
const env = { ...process.env, MPP_HOME: home, HOME: home };

function mpp(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync('mpp', [...args, '--json'], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return JSON.parse(r.stdout) as { ok: boolean; output?: Record<string, unknown>; error?: { code: string; detail?: Record<string, unknown> } };
}

before(() => {
  const built = readdirSync(join(project, 'dist')).find((f) => f.endsWith('.mpp'));
  assert.ok(built, 'run `mpp build` first (npm test does)');
  execFileSync('mpp', ['keygen', '--out', join(home, 'test.pem')], { env });
  execFileSync('mpp', ['sign', join(project, 'dist', built), '--key', join(home, 'test.pem'), '--out', pkg], { env });
  execFileSync('mpp', ['trust', 'add', join(home, 'test.pub.pem'), '--name', 'test'], { env });
  writeFileSync(join(workspace, 'notes.txt'), 'first line\nsecond line here\n');
});

after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
});

test('file-stats reads a file of the granted workspace', () => {
  const r = mpp(['run', pkg, 'file-stats', '--input', '{"path":"notes.txt"}', '--allow-read', workspace, '--workspace', workspace]);
  assert.deepEqual(r.output, { path: '/workspace/notes.txt', lines: 2, words: 5, longestLine: 16 });
});

test('file-stats without the grant is refused with not-granted', () => {
  const r = mpp(['run', pkg, 'file-stats', '--input', '{"path":"notes.txt"}', '--no-grants', '--workspace', workspace]);
  assert.equal(r.error?.code, 'MPP_E_TOOL_ERROR');
  assert.equal(r.error?.detail?.toolCode, 'not-granted');
});

test('file-stats of a missing file is refused with not-found', () => {
  const r = mpp(['run', pkg, 'file-stats', '--input', '{"path":"missing.txt"}', '--allow-read', workspace, '--workspace', workspace]);
  assert.equal(r.error?.detail?.toolCode, 'not-found');
});

test('greet reads the granted GREET_NAME variable, and sees nothing ungranted', () => {
  assert.deepEqual(mpp(['run', pkg, 'greet', '--allow-env', 'GREET_NAME', '--workspace', workspace], { GREET_NAME: 'Ada' }).output, { greeting: 'Hello, Ada!' });
  assert.equal(mpp(['run', pkg, 'greet', '--no-grants', '--workspace', workspace], { GREET_NAME: 'Ada' }).error?.detail?.toolCode, 'invalid-input');
});
