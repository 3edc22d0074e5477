/**
 * The SDK's types of the tool world are generated from spec/wit (scripts/sdk-types.ts):
 * a WIT change without regenerating them fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSdkTypes, listTypeFiles, TYPES_DIR } from '../../../scripts/sdk-types.ts';

test('sdk/wit-types is what jco generates from spec/wit now (run node scripts/sdk-types.ts)', async () => {
  const fresh = await generateSdkTypes();
  assert.deepEqual(listTypeFiles().sort(), [...fresh.keys()].sort());
  for (const [path, text] of fresh) assert.equal(readFileSync(join(TYPES_DIR, path), 'utf8'), text, path);
});

test('the generated types declare every interface the tool world imports', async () => {
  const world = readFileSync(join(TYPES_DIR, 'tool.d.ts'), 'utf8');
  for (const m of ['mpp:tool/kv@0.1.0', 'mpp:tool/refusal@0.1.0', 'wasi:filesystem/preopens@0.2.12', 'wasi:cli/environment@0.2.12']) {
    assert.ok(world.includes(`from '${m}'`), m);
  }
});
