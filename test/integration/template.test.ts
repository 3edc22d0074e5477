/**
 * A project made by `mpp init` tests itself with one command: `npm test`
 * builds it with `mpp build` and runs its tests, which run the built tool in
 * the real sandbox with real grants (cli/template/test/sandbox.test.ts). The
 * `mpp` on PATH is this checkout's dist/cli.js.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import { CLI, mpp, tempDir } from '../helpers/cli.ts';

const dir = tempDir({ after }, 'template');

test('npm test in a new project builds it and passes its sandbox tests', async () => {
  const home = join(dir, 'home');
  const project = join(dir, 'acme-notes');
  assert.equal((await mpp(['init', 'acme/notes', '--dir', project], { home })).code, 0);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'mpp'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'mpp'), 0o755);
  const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn('npm', ['test'], {
      cwd: project,
      env: { PATH: [bin, join(process.execPath, '..'), process.env.PATH ?? ''].join(delimiter), HOME: home, MPP_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /# pass 6\n# fail 0/);
  assert.match(r.out, /file-stats reads a file of the granted workspace/);
});
