/**
 * The examples (examples/*), built by `mpp build`'s own code and run through
 * the governed path — `mpp run` of the signed package, with real grants, the
 * real sandbox and real confirmations at a terminal. Each example is built
 * once; its component is cached in examples/<name>/.mpp/cache.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildPackage } from '../../runtime/build/index.ts';
import type { Manifest } from '../../runtime/format/manifest.ts';
import { examinePackage } from '../../runtime/trust/gatekeeper.ts';
import { generateKey, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { startServer, type TestServer } from '../fixtures/tools/env.ts';
import { mpp, mppInTerminal, ROOT, tempDir } from '../helpers/cli.ts';
import { makePackage } from '../helpers/packages.ts';

const dir = tempDir({ after }, 'examples');
const home = join(dir, 'home');
const key = generateKey();

type Body = { ok: boolean; output?: Record<string, unknown>; error?: { code: string; message: string; detail?: { toolCode?: string; toolMessage?: string } } };

/** Builds examples/<name>, optionally with manifest changes, signs it with the trusted test key; returns the .mpp path. */
async function example(name: string, change: (m: Manifest) => Manifest = (m) => m): Promise<string> {
  const built = await buildPackage({ projectDir: join(ROOT, 'examples', name) });
  const component = examinePackage(built.archive).entries.component.data;
  const file = join(dir, `${name}.mpp`);
  writeFileSync(file, signPackage(makePackage(change(built.manifest), {}, component), key));
  return file;
}

function run(pkg: string, tool: string, input: unknown, args: string[], env: Record<string, string> = {}, workspace = join(dir, 'ws')): Promise<Body> {
  return mpp(['run', pkg, tool, '--input', JSON.stringify(input), ...args, '--json', '--workspace', workspace], { home, env }).then((r) => JSON.parse(r.stdout) as Body);
}

before(async () => {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(dir, 'key.pub.pem'), publicKeyToPem(key.publicKey));
  assert.equal((await mpp(['trust', 'add', join(dir, 'key.pub.pem'), '--name', 'MPP examples'], { home })).code, 0);
});

describe('examples/search', () => {
  const ws = join(dir, 'ws-search');
  let pkg: string;
  before(async () => {
    pkg = await example('search');
    for (const d of ['src/lib', 'node_modules/dep', 'docs']) mkdirSync(join(ws, d), { recursive: true });
    writeFileSync(join(ws, 'src', 'a.ts'), 'const x = 1; // TODO: rename\n');
    writeFileSync(join(ws, 'src', 'lib', 'b.ts'), 'export {};\n// todo later\n');
    writeFileSync(join(ws, 'node_modules', 'dep', 'c.ts'), '// TODO skipped folder\n');
    writeFileSync(join(ws, 'docs', 'big.md'), `TODO\n${'x'.repeat(1024 * 1024)}`);
    writeFileSync(join(ws, 'docs', 'notes.md'), 'nothing to do\n');
  });
  const grant = () => ['--allow-read', ws];

  test('find-files matches a glob across folders, skipping node_modules, and bounds the list', async () => {
    assert.deepEqual((await run(pkg, 'find-files', { glob: '**/*.ts' }, grant(), {}, ws)).output, { files: ['src/a.ts', 'src/lib/b.ts'], truncated: false });
    assert.deepEqual((await run(pkg, 'find-files', { glob: '**', limit: 1 }, grant(), {}, ws)).output, { files: ['docs/big.md'], truncated: true });
  });

  test('search-text finds lines case-insensitively, skips files over 1 MiB, and bounds matches', async () => {
    const all = await run(pkg, 'search-text', { query: 'todo' }, grant(), {}, ws);
    assert.deepEqual(all.output, {
      matches: [
        { path: 'src/a.ts', line: 1, text: 'const x = 1; // TODO: rename' },
        { path: 'src/lib/b.ts', line: 2, text: '// todo later' },
      ],
      truncated: false,
      skippedLargeFiles: 1,
    });
    const one = await run(pkg, 'search-text', { query: 'TODO', caseSensitive: true, glob: 'src/**', limit: 1 }, grant(), {}, ws);
    assert.deepEqual(one.output, { matches: [{ path: 'src/a.ts', line: 1, text: 'const x = 1; // TODO: rename' }], truncated: true, skippedLargeFiles: 0 });
  });

  test('without the read grant the tool sees no workspace: not-granted', async () => {
    const r = await run(pkg, 'find-files', { glob: '**' }, ['--no-grants'], {}, ws);
    assert.equal(r.error?.code, 'MPP_E_TOOL_ERROR');
    assert.equal(r.error?.detail?.toolCode, 'not-granted');
  });
});

describe('examples/edit', () => {
  const ws = join(dir, 'ws-edit');
  let pkg: string;
  before(async () => {
    pkg = await example('edit');
    mkdirSync(ws, { recursive: true });
  });
  const term = (args: string[], say: string) =>
    mppInTerminal(['run', pkg, ...args, '--workspace', ws], { home, answers: [{ when: /Approve\? \[y\/N\]/, say }] });

  test('replace-text is confirmed at a terminal: yes edits the file, no leaves it as it was', async () => {
    writeFileSync(join(ws, 'notes.md'), 'teh cat and teh hat\n');
    const input = JSON.stringify({ path: 'notes.md', find: 'teh', replace: 'the' });
    const no = await term(['replace-text', '--input', input, '--allow-write', ws], 'n');
    assert.equal(no.code, 1);
    assert.match(no.stdout, /MPP_E_CONFIRMATION_DENIED/);
    assert.equal(readFileSync(join(ws, 'notes.md'), 'utf8'), 'teh cat and teh hat\n');
    const yes = await term(['replace-text', '--input', input, '--allow-write', ws], 'y');
    assert.equal(yes.code, 0, yes.stdout);
    assert.match(yes.stdout, /"replaced": 2/);
    assert.equal(readFileSync(join(ws, 'notes.md'), 'utf8'), 'the cat and the hat\n');
  });

  test('without a terminal nobody can confirm, and the file is untouched', async () => {
    writeFileSync(join(ws, 'notes.md'), 'keep\n');
    const r = await run(pkg, 'replace-text', { path: 'notes.md', find: 'keep', replace: 'lost' }, ['--allow-write', ws], {}, ws);
    assert.equal(r.error?.code, 'MPP_E_CONFIRMATION_DENIED');
    assert.equal(readFileSync(join(ws, 'notes.md'), 'utf8'), 'keep\n');
  });

  test('read-file reads under a read grant; an edit under it is refused read-only after confirmation', async () => {
    writeFileSync(join(ws, 'notes.md'), 'hello\n');
    assert.deepEqual((await run(pkg, 'read-file', { path: 'notes.md' }, ['--allow-read', ws], {}, ws)).output, { path: '/workspace/notes.md', text: 'hello\n' });
    const r = await term(['replace-text', '--input', JSON.stringify({ path: 'notes.md', find: 'hello', replace: 'bye' }), '--allow-read', ws], 'y');
    assert.match(r.stdout, /tool error read-only: \/workspace\/notes\.md: this folder is granted read-only/);
    assert.equal(readFileSync(join(ws, 'notes.md'), 'utf8'), 'hello\n');
  });
});

describe('examples/http-client', () => {
  let server: TestServer;
  const seen: { auth?: string; url?: string }[] = [];
  let pkg: string;
  before(async () => {
    server = await startServer((req, res) => {
      seen.push({ auth: req.headers.authorization, url: req.url });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ number: 7, title: 'Crash on start', state: 'open', user: { login: 'ada' } }]));
    });
    // The built component, its manifest pointed at the loopback server instead of api.github.com.
    pkg = await example('http-client', (m) => ({ ...m, permissions: { ...m.permissions, network: [{ scheme: 'http', host: '127.0.0.1', port: server.port, methods: ['GET'] }] } }));
  });
  after(() => server.close());
  const base = () => `http://127.0.0.1:${server.port}`;
  const env = () => ({ ISSUES_TOKEN: 'tok-123', ISSUES_API_URL: base() });

  test('sends the granted token to the granted host and returns the promised fields', async () => {
    const r = await run(pkg, 'list-issues', { repo: 'octo/cat', limit: 5 }, ['--allow-net', base(), '--allow-env', 'ISSUES_TOKEN', '--allow-env', 'ISSUES_API_URL'], env());
    assert.deepEqual(r.output, { issues: [{ number: 7, title: 'Crash on start', state: 'open' }] });
    assert.deepEqual(seen.at(-1), { auth: 'Bearer tok-123', url: '/repos/octo/cat/issues?state=open&per_page=5' });
  });

  test('an ungranted token is absent: the tool says no-token and sends nothing', async () => {
    const before = seen.length;
    const r = await run(pkg, 'list-issues', { repo: 'octo/cat' }, ['--allow-net', base(), '--allow-env', 'ISSUES_API_URL'], env());
    assert.equal(r.error?.detail?.toolCode, 'no-token');
    assert.equal(seen.length, before);
  });

  test('without the network grant the request is refused, and the tool sees why', async () => {
    const r = await run(pkg, 'list-issues', { repo: 'octo/cat' }, ['--allow-env', 'ISSUES_TOKEN', '--allow-env', 'ISSUES_API_URL'], env());
    assert.equal(r.error?.detail?.toolCode, 'network-denied');
    // The host says which request it refused; the granted ISSUES_API_URL value is the tool's, not the agent's: redacted in what the agent sees.
    assert.match(r.error?.detail?.toolMessage ?? '', /GET \[REDACTED:secret\] is not granted/);
    assert.doesNotMatch(JSON.stringify(r.error), new RegExp(`127\\.0\\.0\\.1:${server.port}`));
  });
});

describe('examples/notes', () => {
  let pkg: string;
  before(async () => {
    pkg = await example('notes');
    mkdirSync(join(dir, 'ws'), { recursive: true });
  });

  test('notes persist in the package store between calls', async () => {
    const kv = ['--allow-kv'];
    assert.deepEqual((await run(pkg, 'add-note', { text: 'call Ada', tags: ['Work'] }, kv)).output, { id: 1, text: 'call Ada', tags: ['work'] });
    assert.deepEqual((await run(pkg, 'add-note', { text: 'buy milk' }, kv)).output, { id: 2, text: 'buy milk', tags: [] });
    assert.deepEqual((await run(pkg, 'list-notes', { tag: 'work' }, kv)).output, { notes: [{ id: 1, text: 'call Ada', tags: ['work'] }] });
    assert.deepEqual((await run(pkg, 'delete-note', { id: 1 }, kv)).output, { deleted: 1 });
    assert.equal((await run(pkg, 'delete-note', { id: 1 }, kv)).error?.detail?.toolCode, 'not-found');
    assert.deepEqual((await run(pkg, 'list-notes', {}, kv)).output, { notes: [{ id: 2, text: 'buy milk', tags: [] }] });
  });

  test('without the kv grant the store is not granted', async () => {
    assert.equal((await run(pkg, 'list-notes', {}, ['--no-grants'])).error?.detail?.toolCode, 'not-granted');
  });
});
