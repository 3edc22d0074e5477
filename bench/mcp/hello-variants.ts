/**
 * examples/hello as `count` different packages of one engine, for benches
 * that need many packages in one host: each sets its own number on a global,
 * so each has its own component (its own compiled code, as different tools
 * have), named bench/hello-<engine>-<i> and signed with `key`. Built under
 * .cache/bench, so the project component cache makes repeat runs fast.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPackage, type Engine } from '../../runtime/build/index.ts';
import type { PrivateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';

export async function helloVariants(root: string, engine: Engine, count: number, key: PrivateKey): Promise<{ name: string; archive: Uint8Array }[]> {
  const out = [];
  for (let i = 1; i <= count; i++) {
    const projectDir = join(root, '.cache', 'bench', `hello-${engine}-${i}`);
    cpSync(join(root, 'examples', 'hello'), projectDir, { recursive: true, filter: (p) => !/[/\\](node_modules|dist|\.mpp)([/\\]|$)/.test(p) });
    const manifestFile = join(projectDir, 'mpp.manifest.json');
    writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), name: `bench/hello-${engine}-${i}` }));
    const index = join(projectDir, 'src', 'index.ts');
    writeFileSync(index, `${readFileSync(index, 'utf8')}\n(globalThis as { benchVariant?: number }).benchVariant = ${i};\n`);
    const built = await buildPackage({ projectDir, engine });
    out.push({ name: built.manifest.name, archive: signPackage(built.archive, key) });
  }
  return out;
}
