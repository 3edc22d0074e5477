/**
 * What the portable filesystem strategy costs beside the Linux fd walk:
 * one tool reads `a/b/c/file.txt` n times in one call (open, read, close per
 * read), uncontended, and a second tool doing the same while a third renames
 * in the same folder (exclusive lock operations among the reads). Rounds
 * alternate the strategies, so both see the same machine load.
 *   node bench/fs-strategy.ts [--n 5000] [--rounds 3]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSandbox, type FsStrategyName, type ToolSandbox } from '../runtime/sandbox/index.ts';
import { fixtureComponent } from '../test/fixtures/tools/build.ts';
import { SANDBOX_CACHE } from '../test/fixtures/tools/env.ts';
import { median, ms } from './stats.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' } } });
const n = Number(values.n);
const dir = mkdtempSync(join(tmpdir(), 'mpp-bench-fs-'));
mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
writeFileSync(join(dir, 'a', 'b', 'c', 'file.txt'), 'x'.repeat(1024));
writeFileSync(join(dir, 'from'), '');
const component = await fixtureComponent('fs-probe');
const open = (strategy: FsStrategyName, write: boolean) =>
  createSandbox({ component, grant: { fs: [{ hostPath: dir, guestPath: '/data', write }], limits: { timeoutMs: 600_000 } }, cacheDir: SANDBOX_CACHE, fsStrategy: strategy });
const strategies: FsStrategyName[] = ['linux-fd', 'portable'];
const sandboxes = new Map<FsStrategyName, { reader: ToolSandbox; renamer: ToolSandbox }>();
for (const s of strategies) sandboxes.set(s, { reader: await open(s, false), renamer: await open(s, true) });

const read = (sb: ToolSandbox) => sb.call('race-read', JSON.stringify({ path: 'a/b/c/file.txt', n }));
const samples = new Map<string, number[]>();
const time = async (key: string, f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  const per = (performance.now() - t0) / n;
  samples.set(key, [...(samples.get(key) ?? []), per]);
};
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const s of strategies) {
      const { reader, renamer } = sandboxes.get(s)!;
      await time(`${s} alone`, () => read(reader));
      await time(`${s} beside renames`, () => Promise.all([read(reader), renamer.call('race-rename', JSON.stringify({ from: 'from', to: 'to', n: n / 4 }))]));
    }
  }
  console.log(`reads of a/b/c/file.txt, ms per read (median of ${values.rounds} rounds of ${n}):`);
  for (const kind of ['alone', 'beside renames']) {
    const fd = median(samples.get(`linux-fd ${kind}`)!);
    const portable = median(samples.get(`portable ${kind}`)!);
    console.log(`  ${kind.padEnd(15)} linux-fd ${ms(fd)}  portable ${ms(portable)}  ratio ${(portable / fd).toFixed(2)}`);
  }
} finally {
  for (const { reader, renamer } of sandboxes.values()) await Promise.all([reader.dispose(), renamer.dispose()]);
  rmSync(dir, { recursive: true, force: true });
}
