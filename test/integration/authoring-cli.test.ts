/**
 * The author's path through the real CLI (dist/cli.js): `mpp init`, `mpp build`,
 * `mpp sign`, `mpp run` of what was built, and the mends of issue 11 item 7 —
 * a replaced cache entry, a CommonJS package.json above MPP_HOME, the keygen
 * hints, multi-line build errors, the tool's own error in human output, and a
 * promise that never settles.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readArchive } from '../../runtime/format/read.ts';
import { mpp, tempDir } from '../helpers/cli.ts';

const root = tempDir({ after }, 'authoring');
const home = join(root, 'home');
const project = join(root, 'proj');
// Apart from the MPP home, which no grant may reach.
const workspace = join(root, 'ws');
const cacheDir = join(project, '.mpp', 'cache');
const built = join(project, 'dist', 'proj-0.1.0.mpp');
const signed = join(root, 'proj.mpp');

type Json = { ok: boolean; cached?: boolean; output?: unknown; error?: { code: string; message: string; detail?: Record<string, unknown> } };
const json = (s: string) => JSON.parse(s) as Json;
const componentOf = (file: string) => readArchive(new Uint8Array(readFileSync(file))).get('tool.wasm')!.data;

async function signAndTrust(pkg: string, out: string): Promise<void> {
  assert.equal((await mpp(['sign', pkg, '--key', join(root, 'author.pem'), '--out', out], { home })).code, 0);
}

let init: { stdout: string };
let firstBuild: Json;

before(async () => {
  init = await mpp(['init', 'acme/proj', '--dir', project], { home });
  // QuickJS: the fast engine; the SDK's files and env work on both.
  firstBuild = json((await mpp(['build', project, '--engine', 'quickjs', '--json'], { home })).stdout);
  assert.equal(firstBuild.ok, true);
  assert.equal((await mpp(['keygen', '--out', join(root, 'author.pem')], { home })).code, 0);
  assert.equal((await mpp(['trust', 'add', join(root, 'author.pub.pem'), '--name', 'Author'], { home })).code, 0);
});

describe('mpp init and mpp sign point to mpp keygen', () => {
  test('the next steps of mpp init include mpp keygen', () => {
    assert.match(init.stdout, /mpp keygen/);
    assert.match(init.stdout, /npm test/);
  });

  test('mpp sign without a key says to run mpp keygen', async () => {
    const r = await mpp(['sign', built], { home: join(root, 'fresh-home') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error MPP_E_IO: Cannot read key file/);
    assert.match(r.stderr, /hint: Create your signing key with `mpp keygen` first\./);
    const named = await mpp(['sign', built, '--key', join(root, 'nope.pem')], { home });
    assert.match(named.stderr, /mpp keygen --out .*nope\.pem/);
  });
});

describe('the component cache', () => {
  test('an unchanged rebuild reuses the cached component', async () => {
    assert.equal(firstBuild.cached, false);
    const again = json((await mpp(['build', project, '--engine', 'quickjs', '--json'], { home })).stdout);
    assert.equal(again.cached, true);
  });

  test('a cache entry replaced after it was written is not packed: the component is rebuilt', async () => {
    const entry = readdirSync(cacheDir).find((n) => n.endsWith('.wasm'))!;
    const tampered = new Uint8Array(readFileSync(join(cacheDir, entry)));
    // Still a component header, different bytes.
    tampered[tampered.length - 1]! ^= 0xff;
    writeFileSync(join(cacheDir, entry), tampered);
    const rebuilt = json((await mpp(['build', project, '--engine', 'quickjs', '--json'], { home })).stdout);
    assert.equal(rebuilt.cached, false);
    assert.notDeepEqual(componentOf(built), tampered);
    // The fresh entry is trusted again.
    assert.equal(json((await mpp(['build', project, '--engine', 'quickjs', '--json'], { home })).stdout).cached, true);
  });
});

describe('running the built tool', () => {
  before(async () => {
    await signAndTrust(built, signed);
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'notes.md'), 'alpha beta\ngamma\n');
  });

  test('works when a folder above MPP_HOME has a package.json with "type": "commonjs"', async () => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0', type: 'commonjs' }));
    const r = json((await mpp(['run', signed, 'greet', '--input', '{"name":"Ada"}', '--no-grants', '--json', '--workspace', workspace], { home })).stdout);
    assert.deepEqual(r, { ...r, ok: true, output: { greeting: 'Hello, Ada!' } });
  });

  test('reads a granted workspace file and a granted variable (QuickJS)', async () => {
    const stats = json((await mpp(['run', signed, 'file-stats', '--input', '{"path":"notes.md"}', '--allow-read', workspace, '--json', '--workspace', workspace], { home })).stdout);
    assert.deepEqual(stats.output, { path: '/workspace/notes.md', lines: 2, words: 3, longestLine: 10 });
    const greet = json((await mpp(['run', signed, 'greet', '--allow-env', 'GREET_NAME', '--json', '--workspace', workspace], { home, env: { GREET_NAME: 'Grace' } })).stdout);
    assert.deepEqual(greet.output, { greeting: 'Hello, Grace!' });
  });

  test("the human output of MPP_E_TOOL_ERROR shows the tool's own code and message", async () => {
    const r = await mpp(['run', signed, 'file-stats', '--input', '{"path":"notes.md"}', '--no-grants', '--workspace', workspace], { home });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error MPP_E_TOOL_ERROR: /m);
    assert.match(r.stderr, /^ {2}tool error not-granted: \/workspace\/notes\.md: no granted folder contains this path$/m);
  });
});

describe('build errors', () => {
  test('print real line breaks, each continuation line indented deeper than the hint', async () => {
    const dir = join(root, 'broken');
    assert.equal((await mpp(['init', 'acme/broken', '--dir', dir], { home })).code, 0);
    writeFileSync(join(dir, 'src', 'tools.ts'), 'export function greeting( {\n');
    const r = await mpp(['build', dir, '--engine', 'quickjs'], { home });
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /\\u000a/);
    assert.match(r.stderr, /^error MPP_E_BUILD_FAILED: Bundling .* failed:\n {4}\S*tools\.ts:\d+:\d+: .*\n {2}hint: /m);
  });
});

describe('a promise that never settles', () => {
  test('is reported as MPP_E_TOOL_UNSETTLED, not as an exit or a trap', async () => {
    const dir = join(root, 'hangs');
    assert.equal((await mpp(['init', 'acme/hangs', '--dir', dir], { home })).code, 0);
    writeFileSync(join(dir, 'src', 'index.ts'), "import { defineTools } from 'mpp:sdk';\nexport const handler = defineTools({ greet: () => new Promise(() => {}) });\n");
    // Async calls need SpiderMonkey, the default engine.
    assert.equal((await mpp(['build', dir], { home })).code, 0);
    const pkg = join(root, 'hangs.mpp');
    await signAndTrust(join(dir, 'dist', 'hangs-0.1.0.mpp'), pkg);
    const r = json((await mpp(['run', pkg, 'greet', '--input', '{"name":"Ada"}', '--no-grants', '--json', '--workspace', workspace], { home })).stdout);
    assert.equal(r.error?.code, 'MPP_E_TOOL_UNSETTLED');
    const human = await mpp(['run', pkg, 'greet', '--input', '{"name":"Ada"}', '--no-grants', '--workspace', workspace], { home });
    assert.match(human.stderr, /^error MPP_E_TOOL_UNSETTLED: The tool's call returned a promise that never settled\.$/m);
  });
});
