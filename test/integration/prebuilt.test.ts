import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { assembleComponent } from '../../spec/vectors/assemble.ts';
import { COMPONENT_WAT } from '../../spec/vectors/generate.ts';
import { mpp, tempDir } from '../helpers/cli.ts';

/**
 * A tool from another language: WebAssembly text, assembled into a component
 * here with the wasm-tools that jco-transpile ships, packed by `mpp build
 * --component`, signed, installed and run through the governed path with kv
 * and log. No JavaScript engine is inside it.
 */
describe('a prebuilt (non-JS) component', () => {
  const dir = tempDir({ after }, 'prebuilt');
  const home = join(dir, 'home');
  const project = join(dir, 'counter');
  const wasm = join(dir, 'counter.wasm');
  const pkg = join(dir, 'counter.mpp');
  const json = <T>(s: string) => JSON.parse(s) as T;
  const manifest = {
    mpp: 1,
    name: 'acme/counter',
    version: '1.0.0',
    description: 'Counts its calls in its key-value store.',
    publisher: { name: 'Acme' },
    tools: [{ name: 'count', description: 'Adds one and returns the count.', sensitivity: 'none', inputSchema: { type: 'object' }, outputSchema: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] } }],
    permissions: { kv: { maxBytes: 1024, maxKeys: 4 } },
  };
  const wat = readFileSync(COMPONENT_WAT, 'utf8');

  before(async () => {
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'mpp.manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    writeFileSync(join(project, 'README.md'), '# counter\n\nWritten in WebAssembly text.\n');
    writeFileSync(wasm, await assembleComponent(wat));
  });

  it('packs with `mpp build --component` (no src/index.ts), signs, installs and runs with kv and log', async () => {
    const built = await mpp(['build', project, '--component', wasm, '--out', pkg, '--json'], { home });
    assert.equal(built.code, 0, built.stdout + built.stderr);
    assert.equal(json<{ name: string }>(built.stdout).name, 'acme/counter');
    assert.equal((await mpp(['keygen'], { home })).code, 0);
    const signed = await mpp(['sign', pkg, '--key', join(home, 'keys', 'default.pem')], { home });
    assert.equal(signed.code, 0, signed.stdout + signed.stderr);
    assert.equal((await mpp(['trust', 'add', join(home, 'keys', 'default.pub.pem'), '--name', 'Acme'], { home })).code, 0);
    const installed = await mpp(['install', pkg, '--json'], { home });
    assert.equal(installed.code, 0, installed.stdout + installed.stderr);

    const run = () => mpp(['run', 'acme/counter', 'count', '--input', '{}', '--allow-kv', '--json'], { home });
    const first = await run();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(json<{ output: unknown }>(first.stdout).output, { count: 1 });
    assert.match(first.stderr, /counted/, 'the tool\'s log line reaches the host log');
    const second = await run();
    assert.deepEqual(json<{ output: unknown }>(second.stdout).output, { count: 2 }, 'kv persists across calls');
    // Without the kv grant the store is not-available: get and set fail, the count starts from nothing.
    const ungranted = await mpp(['run', 'acme/counter', 'count', '--input', '{}', '--no-grants', '--json'], { home });
    assert.deepEqual(json<{ output: unknown }>(ungranted.stdout).output, { count: 1 });
  });

  const refusal = async (label: string, component: Uint8Array, code: string, named: string) => {
    const file = join(dir, `${label}.wasm`);
    writeFileSync(file, component);
    const r = await mpp(['build', project, '--component', file, '--out', join(dir, `${label}.mpp`), '--json'], { home });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const error = json<{ error: { code: string; message: string } }>(r.stdout).error;
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.includes(named), `${error.message} names ${named}`);
  };

  it('refuses a core module, naming what it is', async () => {
    const core = await parse(wat);
    await refusal('core', core, 'MPP_E_INVALID_COMPONENT', 'core WebAssembly module');
  });

  it('refuses a component importing outside the tool world, naming the import', async () => {
    const component = await parse(
      '(component (import "wasi:keyvalue/store@0.2.0" (instance)) (instance $h) (export "mpp:tool/handler@0.1.0" (instance $h)))',
    );
    await refusal('keyvalue', component, 'MPP_E_IMPORT_NOT_ALLOWED', 'wasi:keyvalue/store@0.2.0');
  });

  it('refuses a component without the handler export', async () => {
    const component = await parse('(component (import "mpp:tool/log@0.1.0" (instance)))');
    await refusal('no-handler', component, 'MPP_E_HANDLER_MISSING', 'mpp:tool/handler');
  });

  it('--engine and --component together are a usage error', async () => {
    const r = await mpp(['build', project, '--component', wasm, '--engine', 'quickjs', '--json'], { home });
    assert.equal(r.code, 2, r.stdout + r.stderr);
  });
});
