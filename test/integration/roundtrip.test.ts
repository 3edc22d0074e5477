import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mpp, tempDir } from '../helpers/cli.ts';

/** The authoring round trip on the template tool, through the CLI, as a tool author runs it. */
describe('init -> build -> sign -> verify -> inspect', () => {
  const dir = tempDir({ after }, 'roundtrip');
  const home = join(dir, 'home');
  const project = join(dir, 'word-tools');
  const pkg = join(project, 'dist', 'word-tools-0.1.0.mpp');
  const json = <T>(s: string) => JSON.parse(s) as T;

  it('init creates a project whose own tests pass', async () => {
    const r = await mpp(['init', 'acme/word-tools', '--dir', project], { home, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readdirSync(project).includes('mpp.manifest.json'));
    execFileSync(process.execPath, ['--test', 'test/'], { cwd: project, stdio: 'pipe' });
    const again = await mpp(['init', 'acme/word-tools', '--dir', project, '--json'], { home, cwd: dir });
    assert.equal(json<{ error: { code: string } }>(again.stdout).error.code, 'MPP_E_PROJECT_INVALID', 'init refuses a non-empty folder');
  });

  it('build writes an unsigned package, and building again gives the same bytes', async () => {
    const first = await mpp(['build', project, '--json'], { home, cwd: dir });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(json<{ file: string }>(first.stdout).file, pkg);
    const bytes = readFileSync(pkg);
    const second = await mpp(['build', project], { home, cwd: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.ok(bytes.equals(readFileSync(pkg)), 'the same source built twice must give the same .mpp');
    const unsigned = await mpp(['verify', pkg, '--json'], { home });
    assert.equal(json<{ error: { code: string } }>(unsigned.stdout).error.code, 'MPP_E_UNSIGNED');
  });

  it('sign, trust, verify and inspect', async () => {
    assert.equal((await mpp(['keygen'], { home })).code, 0);
    assert.equal((await mpp(['sign', pkg], { home })).code, 0);
    assert.equal(json<{ error: { code: string } }>((await mpp(['verify', pkg, '--json'], { home })).stdout).error.code, 'MPP_E_UNTRUSTED_KEY');
    assert.equal((await mpp(['trust', 'add', join(home, 'keys', 'default.pub.pem'), '--name', 'Acme'], { home })).code, 0);
    const verified = await mpp(['verify', pkg, '--json'], { home });
    assert.equal(verified.code, 0, verified.stdout);
    assert.equal(json<{ name: string }>(verified.stdout).name, 'acme/word-tools');
    const inspect = json<{ manifest: { tools: { name: string }[] }; files: { name: string; stored: boolean }[]; verdict: { verified: boolean } }>((await mpp(['inspect', pkg, '--json'], { home })).stdout);
    assert.ok(inspect.manifest.tools.length >= 1);
    assert.deepEqual(inspect.files.find((f) => f.name === 'tool.wasm'), { ...inspect.files.find((f) => f.name === 'tool.wasm'), stored: true });
    assert.equal(inspect.verdict.verified, true);
  });
});
