import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MppError } from '../../runtime/errors.ts';
import { buildPackage, initProject, type BuildResult } from '../../runtime/build/index.ts';
import { readArchive } from '../../runtime/format/read.ts';
import { loadTool, type LoadedTool } from './tool-host.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/hello', import.meta.url));

/** Componentizing takes seconds: each project is built once and the results shared. */
let work: string;
let template: { dir: string; first: BuildResult; second: BuildResult; tool: LoadedTool; progress: string[] };
let example: { first: BuildResult; tool: LoadedTool };

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'mpp-build-test-'));
  const dir = join(work, 'hello');
  initProject(dir, 'acme/hello');
  const progress: string[] = [];
  const first = await buildPackage({ projectDir: dir, onProgress: (m) => progress.push(m) });
  const second = await buildPackage({ projectDir: dir });
  template = { dir, first, second, progress, tool: await loadTool(componentOf(first)) };

  const exampleDir = join(work, 'example');
  cpSync(EXAMPLE, exampleDir, { recursive: true, filter: (src) => !/[\\/](dist|\.mpp|node_modules)$/.test(src) });
  const built = await buildPackage({ projectDir: exampleDir });
  example = { first: built, tool: await loadTool(componentOf(built)) };
});

after(() => rmSync(work, { recursive: true, force: true }));

function componentOf(result: BuildResult): Uint8Array {
  return readArchive(result.archive).get('tool.wasm')!.data;
}

function assertMppError(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof MppError, `expected an MppError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

describe('mpp init', () => {
  test('writes the template with the name filled in', () => {
    assert.deepEqual(readdirSync(template.dir).sort(), ['.gitignore', '.mpp', 'README.md', 'mpp.manifest.json', 'package.json', 'src', 'test', 'tsconfig.json']);
    assert.equal(template.first.manifest.name, 'acme/hello');
    assert.equal(template.first.manifest.publisher.name, 'acme');
  });

  test('refuses a folder that is not empty', () => {
    assert.throws(() => initProject(template.dir, 'acme/other'), assertMppError('MPP_E_PROJECT_INVALID'));
  });

  test('refuses a name that breaks the package name rule', () => {
    for (const name of ['hello', 'Acme/hello', 'acme/Hello', '-acme/hello', 'acme/.hello', 'acme/hello/x']) {
      assert.throws(() => initProject(join(work, 'bad-name'), name), assertMppError('MPP_E_USAGE'), name);
    }
  });
});

describe('mpp build', () => {
  test('packs exactly manifest.json, tool.wasm (stored) and README.md', () => {
    const archive = readArchive(template.first.archive);
    assert.deepEqual([...archive.keys()].sort(), ['README.md', 'manifest.json', 'tool.wasm']);
    assert.equal(archive.get('tool.wasm')!.method, 0);
    assert.equal(archive.get('tool.wasm')!.data.byteLength, template.first.componentBytes);
    assert.equal(new TextDecoder().decode(archive.get('manifest.json')!.data), JSON.stringify(template.first.manifest, null, 2) + '\n');
    assert.match(new TextDecoder().decode(archive.get('README.md')!.data), /^# acme\/hello\n/);
  });

  test('reports its stages and timings', () => {
    assert.deepEqual(template.progress, ['bundling…', 'componentizing (spidermonkey)…', 'packing…']);
    for (const stage of ['bundle', 'componentize', 'pack', 'total']) assert.equal(typeof template.first.timings[stage], 'number', stage);
    assert.equal(template.first.engine, 'spidermonkey');
  });

  test('building the same sources twice gives byte-identical archives', () => {
    assert.equal(template.first.cached, false);
    assert.equal(template.second.cached, true);
    assert.deepEqual(template.second.archive, template.first.archive);
  });

  test('a syntax error fails with MPP_E_BUILD_FAILED', async () => {
    const dir = join(work, 'syntax');
    initProject(dir, 'acme/syntax');
    writeFileSync(join(dir, 'src', 'tools.ts'), 'export function greet( {\n');
    await assert.rejects(buildPackage({ projectDir: dir }), (e: unknown) => {
      assertMppError('MPP_E_BUILD_FAILED')(e);
      assert.equal((e as MppError).detail?.stage, 'bundle');
      return true;
    });
  });

  test('a Node built-in import fails with MPP_E_BUILD_FAILED', async () => {
    const dir = join(work, 'builtin');
    initProject(dir, 'acme/builtin');
    writeFileSync(join(dir, 'src', 'tools.ts'), "import { readFileSync } from 'node:fs';\nexport const greet = () => readFileSync('/etc/passwd', 'utf8');\nexport class ToolError extends Error { code = 'x'; details = undefined; }\n");
    await assert.rejects(buildPackage({ projectDir: dir }), assertMppError('MPP_E_BUILD_FAILED'));
  });

  test('top-level code that throws fails at componentize with MPP_E_BUILD_FAILED', async () => {
    const dir = join(work, 'throws');
    initProject(dir, 'acme/throws');
    writeFileSync(join(dir, 'src', 'index.ts'), "throw new Error('boom at load');\nexport const handler = { call: () => '{}' };\n");
    await assert.rejects(buildPackage({ projectDir: dir }), (e: unknown) => {
      assertMppError('MPP_E_BUILD_FAILED')(e);
      assert.equal((e as MppError).detail?.stage, 'componentize');
      assert.match((e as MppError).message, /boom at load/);
      return true;
    });
  });

  test('a missing mpp.manifest.json fails with MPP_E_PROJECT_INVALID', async () => {
    const dir = join(work, 'no-manifest');
    initProject(dir, 'acme/no-manifest');
    unlinkSync(join(dir, 'mpp.manifest.json'));
    await assert.rejects(buildPackage({ projectDir: dir }), assertMppError('MPP_E_PROJECT_INVALID'));
  });

  test('an invalid manifest source fails with MPP_E_PROJECT_INVALID', async () => {
    const dir = join(work, 'bad-manifest');
    initProject(dir, 'acme/bad-manifest');
    writeFileSync(join(dir, 'mpp.manifest.json'), JSON.stringify({ mpp: 1, name: 'acme/bad-manifest', surprise: true }));
    await assert.rejects(buildPackage({ projectDir: dir }), assertMppError('MPP_E_PROJECT_INVALID'));
  });

  test('a missing src/index.ts fails with MPP_E_PROJECT_INVALID', async () => {
    const dir = join(work, 'no-entry');
    mkdirSync(dir);
    initProject(dir, 'acme/no-entry');
    rmSync(join(dir, 'src', 'index.ts'));
    await assert.rejects(buildPackage({ projectDir: dir }), assertMppError('MPP_E_PROJECT_INVALID'));
  });
});

describe('the built component runs (jco transpile, stub host, no preopens, no env)', () => {
  test('the SDK refuses a file outside every grant with not-granted, before asking the host', () => {
    assert.throws(() => template.tool.call('file-stats', '{"path":"README.md"}'), (e: unknown) => {
      assert.equal((e as { code: string }).code, 'not-granted');
      assert.match((e as { message: string }).message, /^\/workspace\/README\.md: no granted folder/);
      return true;
    });
  });

  test('greet returns its output', () => {
    assert.deepEqual(JSON.parse(template.tool.call('greet', '{"name":"Ada"}')), { greeting: 'Hello, Ada!' });
    assert.deepEqual(JSON.parse(template.tool.call('greet', '{"name":"Ada","language":"fr"}')), { greeting: 'Bonjour, Ada!' });
  });

  test('a tool error comes back as the err side of the result, and the instance survives', () => {
    assert.throws(() => template.tool.call('greet', '{"name":"  "}'), (e: unknown) => {
      assert.deepEqual({ ...(e as object) }, { code: 'invalid-input', message: 'give a name, or grant the GREET_NAME variable', details: undefined });
      return true;
    });
    assert.throws(() => template.tool.call('nope', '{}'), (e: unknown) => (e as { code: string }).code === 'unknown-tool');
    // A bug in the tool (no `path` to read) is `internal`, and logged.
    assert.throws(() => template.tool.call('file-stats', '{}'), (e: unknown) => (e as { code: string }).code === 'internal');
    assert.equal(template.tool.host.logs.length, 1);
    assert.deepEqual(JSON.parse(template.tool.call('greet', '{"name":"again"}')), { greeting: 'Hello, again!' });
  });

  test('the example package: greet and count-words', () => {
    assert.deepEqual(example.first.manifest.tools.map((t) => [t.name, t.sensitivity]), [['greet', 'none'], ['count-words', 'none']]);
    assert.deepEqual(JSON.parse(example.tool.call('greet', '{"name":"Bo","language":"es"}')), { greeting: 'Hola, Bo!' });
    assert.deepEqual(JSON.parse(example.tool.call('count-words', JSON.stringify({ text: 'a b a\nc', top: 1 }))), {
      words: 4,
      lines: 2,
      characters: 7,
      mostFrequent: [{ word: 'a', count: 2 }],
    });
  });

  test('the QuickJS engine builds a component that runs too', async () => {
    const dir = join(work, 'quickjs');
    initProject(dir, 'acme/quickjs');
    const built = await buildPackage({ projectDir: dir, engine: 'quickjs', cache: false });
    assert.equal(built.engine, 'quickjs');
    const tool = await loadTool(componentOf(built));
    assert.deepEqual(JSON.parse(tool.call('greet', '{"name":"Ada"}')), { greeting: 'Hello, Ada!' });
  });
});
