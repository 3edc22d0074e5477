import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ToolDefinition } from '../../runtime/format/manifest.ts';
import { MAX_JSON_DEPTH } from '../../runtime/format/strict-json.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { checkInput, checkOutput } from '../../runtime/run/invoke.ts';
import { mpp, tempDir } from '../helpers/cli.ts';
import { baseManifest, fakeComponent } from '../helpers/packages.ts';

/** `{"items":` n times around `{}`: a valid schema (and value) n+1 levels deep, built as text (no recursion here either). */
const deepText = (n: number) => '{"items":'.repeat(n) + '{}' + '}'.repeat(n);

/** An unsigned package whose first tool's inputSchema nests `depth` levels deep. */
function deepSchemaPackage(depth: number): Uint8Array {
  const manifest = baseManifest({ tools: [{ ...baseManifest().tools[0]!, inputSchema: 'DEEP' as never }] });
  const text = JSON.stringify(manifest).replace('"DEEP"', `{"type":"object","properties":{"a":${deepText(depth)}}}`);
  return writeArchive(new Map([['manifest.json', Buffer.from(text)], ['tool.wasm', fakeComponent()]]));
}

const tool: ToolDefinition = { ...baseManifest().tools[0]!, inputSchema: { type: 'object' }, outputSchema: { type: 'object' } };

describe('deep nesting is a coded refusal, never a crash', () => {
  it('verify, inspect and install refuse a tool schema nested 6,000 levels (a deflated manifest under the ratio rule) with MPP_E_INVALID_MANIFEST (not exit 70)', async (t) => {
    const home = tempDir(t, 'deep');
    const file = join(home, 'deep.mpp');
    writeFileSync(file, deepSchemaPackage(6_000));
    for (const command of [['verify'], ['inspect'], ['install']]) {
      const r = await mpp([...command, file, '--json'], { home });
      assert.equal(r.code, 1, `${command[0]}: ${r.stdout}${r.stderr}`);
      const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
      assert.equal(doc.error.code, 'MPP_E_INVALID_MANIFEST', command[0]);
      assert.match(doc.error.message, /256 levels/);
    }
  });

  it('a schema just within the bound is read', async (t) => {
    const home = tempDir(t, 'deep-ok');
    const file = join(home, 'ok.mpp');
    writeFileSync(file, deepSchemaPackage(MAX_JSON_DEPTH - 10));
    const r = await mpp(['inspect', file, '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
  });

  it('a tool output nested 9,000 levels (54 KB, matching the schema) is MPP_E_OUTPUT_INVALID', () => {
    const output = `{"a":${'['.repeat(9_000)}${']'.repeat(9_000)}}`;
    assert.throws(() => checkOutput(tool, output), { code: 'MPP_E_OUTPUT_INVALID', message: /256 levels/ });
    assert.deepEqual(checkOutput(tool, `{"a":${'['.repeat(200)}${']'.repeat(200)}}`), { a: JSON.parse('['.repeat(200) + ']'.repeat(200)) });
  });

  it('a tool input nested 100,000 levels is MPP_E_INPUT_INVALID', () => {
    assert.throws(() => checkInput(tool, `{"a":${deepText(100_000)}}`), { code: 'MPP_E_INPUT_INVALID', message: /256 levels/ });
  });
});

describe('tool schemas that cannot compile are refused by the gatekeeper', () => {
  const schemas: [string, object][] = [
    ['a remote $ref', { type: 'object', properties: { a: { $ref: 'https://203.0.113.7/schema.json' } } }],
    ['the pattern "("', { type: 'object', properties: { a: { type: 'string', pattern: '(' } } }],
  ];
  for (const [what, inputSchema] of schemas) {
    it(`verify, inspect and install refuse ${what} with MPP_E_INVALID_MANIFEST`, async (t) => {
      const home = tempDir(t, 'schema');
      const file = join(home, 'bad.mpp');
      writeFileSync(file, writeArchive(new Map([['manifest.json', Buffer.from(JSON.stringify(baseManifest({ tools: [{ ...baseManifest().tools[0]!, inputSchema }] })))], ['tool.wasm', fakeComponent()]])));
      for (const command of ['verify', 'inspect', 'install']) {
        const r = await mpp([command, file, '--json'], { home });
        assert.equal(r.code, 1, `${command}: ${r.stdout}${r.stderr}`);
        const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
        assert.equal(doc.error.code, 'MPP_E_INVALID_MANIFEST', command);
        assert.match(doc.error.message, /does not compile/, command);
      }
    });
  }
});
