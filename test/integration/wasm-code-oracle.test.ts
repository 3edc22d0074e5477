/**
 * codeWritesTables (runtime/sandbox/wasm-code.ts) against an oracle, on the
 * core modules of real components on both engines: wasm-tools `print` (the
 * Bytecode Alliance's own reader) writes every instruction as text, and a
 * table write is a line that starts with one of the five mnemonics. The two
 * must agree on every module, and the transpile cache must hold what the
 * reader found.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, print } from '@bytecodealliance/jco-transpile/wasm-tools';
import { buildPackage } from '../../runtime/build/index.ts';
import { ENGINES } from '../../runtime/build/componentize.ts';
import { COMPONENT_ENTRY } from '../../runtime/format/layout.ts';
import { readArchive } from '../../runtime/format/read.ts';
import { transpileComponent } from '../../runtime/sandbox/index.ts';
import { codeWritesTables } from '../../runtime/sandbox/wasm-code.ts';
import { SECTION, sections } from '../../runtime/sandbox/wasm-sections.ts';
import { ROOT } from '../helpers/cli.ts';

const TABLE_WRITE = /^\s*\(?table\.(set|grow|fill|copy|init)\b/m;

describe('codeWritesTables agrees with wasm-tools print on real components', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'mpp-wasm-code-'));
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('the oracle itself sees each table write in printed code, and no mnemonic in a string', async () => {
    for (const write of ['table.set 0 (i32.const 0) (ref.null func)', 'drop (table.grow 0 (ref.null func) (i32.const 1))', 'table.fill 0 (i32.const 0) (ref.null func) (i32.const 0)', 'table.copy 0 0 (i32.const 0) (i32.const 0) (i32.const 0)', 'table.init 0 0 (i32.const 0) (i32.const 0) (i32.const 0)']) {
      const text = await print(await parse(`(module (table 1 funcref) (elem func 0) (func (${write})))`));
      assert.match(text, TABLE_WRITE, write);
    }
    assert.doesNotMatch(await print(await parse('(module (memory 1) (data (i32.const 0) "\\ntable.set"))')), TABLE_WRITE);
  });

  for (const engine of ENGINES) {
    it(`on every core module of examples/hello built with ${engine}`, async () => {
      const built = await buildPackage({ projectDir: join(ROOT, 'examples', 'hello'), engine });
      const transpiled = await transpileComponent(readArchive(built.archive).get(COMPONENT_ENTRY)!.data, cacheDir);
      assert.ok(transpiled.coreModules.length > 1);
      const writers: string[] = [];
      for (const name of transpiled.coreModules) {
        const bytes = new Uint8Array(readFileSync(join(transpiled.dir, name)));
        const found = codeWritesTables(bytes, sections(bytes).find((s) => s.id === SECTION.code));
        assert.equal(found, TABLE_WRITE.test(await print(bytes)), `${engine} ${name}`);
        if (found) writers.push(name);
      }
      assert.deepEqual([...transpiled.tableWriters], writers, 'the cache holds what the reader found');
    });
  }
});
