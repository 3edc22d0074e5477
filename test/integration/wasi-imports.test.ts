import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildPackage, type Engine } from '../../runtime/build/index.ts';
import { isMppError } from '../../runtime/errors.ts';
import { readComponentInterface } from '../../runtime/format/component.ts';
import { readArchive } from '../../runtime/format/read.ts';
import { generateKey, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { mpp, tempDir } from '../helpers/cli.ts';

/**
 * Tool source imports WASI interfaces of the tool world directly, `mpp build`
 * bundles and componentizes it against exactly those, and under a read grant
 * the tool reads a granted file through them, with both engines.
 */
// The engines' bindings differ for WIT u64: componentize-js takes BigInt, componentize-qjs numbers.
const source = (engine: Engine) => `import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';

const u64 = ${engine === 'quickjs' ? 'Number' : 'BigInt'};
// No TextDecoder in QuickJS: the file is ASCII.
const text = (bytes: Uint8Array) => Array.from(bytes, (b) => String.fromCharCode(b)).join('');

export const handler = {
  call(tool: string, input: string): string {
    const { path } = JSON.parse(input) as { path: string };
    const dirs = getDirectories();
    const found = dirs.find(([, guest]) => path.startsWith(guest + '/'));
    if (!found) return JSON.stringify({ preopens: dirs.map(([, guest]) => guest) });
    const [dir, guest] = found;
    const file = dir.openAt({ symlinkFollow: false }, path.slice(guest.length + 1), {}, { read: true });
    const [bytes] = file.read(u64(4096), u64(0));
    return JSON.stringify({ preopens: dirs.map(([, g]) => g), text: text(bytes) });
  },
};
`;

const manifest = {
  mpp: 1,
  name: 'acme/reader',
  version: '1.0.0',
  description: 'Reads a granted file.',
  publisher: { name: 'Acme' },
  tools: [{ name: 'read', description: 'Reads a file.', sensitivity: 'read', inputSchema: { type: 'object' }, outputSchema: { type: 'object' } }],
  permissions: { filesystem: [{ path: '${workspace}/docs', access: 'read' }] },
};

function project(dir: string, source: string): string {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'mpp.manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'src', 'index.ts'), source);
  return dir;
}

describe('tool source importing wasi:* interfaces', () => {
  const dir = tempDir({ after }, 'wasi-imports');
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  const key = generateKey();

  before(async () => {
    mkdirSync(join(ws, 'docs'), { recursive: true });
    writeFileSync(join(ws, 'docs', 'note.txt'), 'granted text');
    writeFileSync(join(dir, 'key.pub.pem'), publicKeyToPem(key.publicKey));
    assert.equal((await mpp(['trust', 'add', join(dir, 'key.pub.pem'), '--name', 'Acme'], { home })).code, 0);
  });

  for (const engine of ['quickjs', 'spidermonkey'] as Engine[]) {
    it(`${engine}: builds, and reads the granted file only under the grant`, async () => {
      const built = await buildPackage({ projectDir: project(join(dir, engine), source(engine)), engine, cache: false });
      const imports = readComponentInterface(readArchive(built.archive).get('tool.wasm')!.data).imports.map((i) => i.name);
      assert.ok(imports.includes('wasi:filesystem/preopens@0.2.12'), imports.join(', '));
      const file = join(dir, `reader-${engine}.mpp`);
      writeFileSync(file, signPackage(built.archive, key));
      const run = async (...grant: string[]) => {
        const r = await mpp(['run', file, 'read', '--input', JSON.stringify({ path: '/workspace/docs/note.txt' }), '--json', '--workspace', ws, ...grant], { home, cwd: ws });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        return (JSON.parse(r.stdout) as { output: { preopens: string[]; text?: string } }).output;
      };
      assert.deepEqual(await run('--allow-read', join(ws, 'docs')), { preopens: ['/workspace/docs'], text: 'granted text' });
      assert.deepEqual(await run('--no-grants'), { preopens: [] });
    });
  }

  const refused = async (label: string, source: string, named: string) => {
    await assert.rejects(buildPackage({ projectDir: project(join(dir, label), source), engine: 'quickjs', cache: false }), (e: unknown) => {
      assert.ok(isMppError(e), String(e));
      assert.equal(e.code, 'MPP_E_BUILD_FAILED');
      assert.ok(e.message.includes(named), e.message);
      return true;
    });
  };

  it('an import outside the tool world fails the build, naming it', async () => {
    await refused('outside', `import { open } from 'wasi:keyvalue/store@0.2.0';\nexport const handler = { call: () => String(open) };\n`, 'wasi:keyvalue/store@0.2.0');
  });

  it('an import at another version than the world pins fails the build, naming the one to use', async () => {
    await assert.rejects(buildPackage({ projectDir: project(join(dir, 'version'), source('quickjs').replace('@0.2.12', '@0.2.10')), engine: 'quickjs', cache: false }), (e: unknown) => {
      assert.ok(isMppError(e) && e.code === 'MPP_E_BUILD_FAILED', String(e));
      assert.ok(e.hint.includes('wasi:filesystem/preopens@0.2.12'), e.hint);
      return true;
    });
  });
});
