/**
 * Second process for kv-isolation.test.ts: runs the kv-probe tool in its own
 * sandbox over its own connection to a package's store, while the parent
 * keeps its store open, and prints each call's output as one JSON line.
 *
 * usage: node kv-isolation-child.ts <home> <package> <maxBytes> <tool> <inputJson> [<tool> <inputJson>...]
 */
import { writeSync } from 'node:fs';
import { createSandbox } from '../../runtime/sandbox/index.ts';
import { openKvStore } from '../../runtime/state/kv.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { SANDBOX_CACHE } from '../fixtures/tools/env.ts';

const [home, pkg, maxBytes, ...calls] = process.argv.slice(2) as [string, string, string, ...string[]];
const kv = openKvStore(home, pkg, { maxBytes: Number(maxBytes) });
const sandbox = await createSandbox({ component: await fixtureComponent('kv-probe'), grant: {}, cacheDir: SANDBOX_CACHE, services: { log: () => {}, kv } });
try {
  for (let i = 0; i + 1 < calls.length; i += 2) writeSync(1, `${await sandbox.call(calls[i]!, calls[i + 1]!)}\n`);
} finally {
  await sandbox.dispose();
  kv.close();
}
