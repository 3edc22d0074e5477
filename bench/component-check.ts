/**
 * Cost of the gatekeeper's tool-world check (runtime/format/component.ts +
 * world.ts) on the real components of examples/hello, against SHA-256 of the
 * same bytes (which the gatekeeper computes anyway), alternating, medians in
 * one process. The check reads only the top-level sections, so it should not
 * grow with the engine inside.
 *   node bench/component-check.ts [--runs 200]
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPackage, ENGINES } from '../runtime/build/index.ts';
import { readArchive } from '../runtime/format/read.ts';
import { checkToolComponent } from '../runtime/format/world.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const runs = Number(values.runs);
const example = fileURLToPath(new URL('../examples/hello', import.meta.url));

const time = (fn: () => unknown) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

for (const engine of ENGINES) {
  const built = await buildPackage({ projectDir: example, engine });
  const component = readArchive(built.archive).get('tool.wasm')!.data;
  for (let i = 0; i < 20; i++) checkToolComponent(component);
  const check: number[] = [];
  const hash: number[] = [];
  for (let i = 0; i < runs; i++) {
    check.push(time(() => checkToolComponent(component)));
    hash.push(time(() => createHash('sha256').update(component).digest()));
  }
  const c = median(check);
  const h = median(hash);
  console.log(`${engine}: ${(component.length / 1e6).toFixed(1)} MB component, world check ${c.toFixed(3)} ms, SHA-256 ${h.toFixed(2)} ms (check/hash ${(c / h).toFixed(4)})`);
}
