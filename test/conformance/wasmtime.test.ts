import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildPackage } from '../../runtime/build/index.ts';
import { readArchive } from '../../runtime/format/read.ts';
import { COMPONENT_WASM } from '../../spec/vectors/generate.ts';
import { ROOT, tempDir } from '../helpers/cli.ts';
import { runInWasmtime, wasmtimePython } from '../helpers/wasmtime-python.ts';

/**
 * The world kept honest from the other side: components MPP builds run
 * unchanged in Wasmtime (its Python package), with WASI 0.2 from Wasmtime,
 * nothing granted, and the mpp:tool imports from a small Python host
 * (test/fixtures/wasmtime/host.py). Compiling the SpiderMonkey component
 * there takes a while; nothing here is timed.
 */
describe('MPP components in Wasmtime', () => {
  const dir = tempDir({ after }, 'wasmtime');

  before(async () => {
    await wasmtimePython();
  });

  for (const engine of ['quickjs', 'spidermonkey'] as const) {
    it(`examples/hello built with ${engine} answers greet and count-words, and returns tool errors`, async () => {
      const built = await buildPackage({ projectDir: join(ROOT, 'examples', 'hello'), engine });
      const file = join(dir, `hello-${engine}.wasm`);
      writeFileSync(file, readArchive(built.archive).get('tool.wasm')!.data);
      const run = await runInWasmtime(file, [
        ['greet', JSON.stringify({ name: 'Ada' })],
        ['count-words', JSON.stringify({ text: 'one two  three' })],
        ['no-such-tool', '{}'],
      ]);
      const [greet, count, unknown] = run.results;
      assert.ok(greet && 'ok' in greet, JSON.stringify(greet));
      assert.match(JSON.parse(greet.ok).greeting, /Ada/);
      assert.ok(count && 'ok' in count, JSON.stringify(count));
      assert.equal(JSON.parse(count.ok).words, 3);
      assert.ok(unknown && 'err' in unknown, JSON.stringify(unknown));
      assert.equal(unknown.err.code, 'unknown-tool');
    });
  }

  it('the conformance vectors\' WAT component counts in the Python host\'s kv and logs through it', async () => {
    const run = await runInWasmtime(COMPONENT_WASM, [['count', '{}'], ['count', '{}']]);
    assert.deepEqual(run.results, [{ ok: '{"count":1}' }, { ok: '{"count":2}' }]);
    assert.deepEqual(run.logs, [['info', 'counted'], ['info', 'counted']]);
    assert.equal(run.kv.count, '02000000');
  });
});
