/**
 * The editor extension with many packages installed, measured in Node on the
 * code paths the extension runs (extension/listing.ts has no editor API in it):
 *   list       what the MPP view reads on activation and on every refresh:
 *              the install index and the trust store (packageEntries)
 *   expand     what one package's node reads when opened: its permission
 *              states, which verifies that package again (permissionStates)
 *   mcp list   what the in-host MCP server answers to tools/list (offeredTools)
 * for 1, 10 and 100 installed packages (small signed packages sharing one
 * component). Figures are medians; the ratio list(100)/list(1) shows how
 * listing grows. The editor's own time from the command to the populated
 * view is printed by the e2e test (test/e2e/extension.test.ts).
 *
 *   node bench/extension.ts [--reps 30]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Manifest } from '../runtime/format/manifest.ts';
import { offeredTools } from '../runtime/mcp/server.ts';
import { installPackage } from '../runtime/store/packages.ts';
import { verifyPackage } from '../runtime/trust/gatekeeper.ts';
import { generateKey } from '../runtime/trust/keys.ts';
import { signPackage } from '../runtime/trust/sign.ts';
import { TrustStore } from '../runtime/trust/store.ts';
import { addTrustedKey } from '../test/helpers/trust.ts';
import { packageEntries, permissionStates } from '../extension/listing.ts';
import { editorManifest } from '../test/fixtures/tools/editor-manifest.ts';
import { fixtureComponent } from '../test/fixtures/tools/build.ts';
import { makePackage } from '../test/helpers/packages.ts';
import { median, ms } from './stats.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '30' } } });
const reps = Number(values.reps);

function time(f: () => unknown): number {
  const started = performance.now();
  f();
  return performance.now() - started;
}

function measure(f: () => unknown): number {
  f(); // warm: the first read opens files the next ones find in the page cache
  return median(Array.from({ length: reps }, () => time(f)));
}

const component = await fixtureComponent('editor');
const key = generateKey();
const home = mkdtempSync(join(tmpdir(), 'mpp-bench-ext-'));
const workspace = mkdtempSync(join(tmpdir(), 'mpp-bench-ws-'));
try {
  await addTrustedKey(home, key.publicKey, 'Bench Publisher');
  const rows: string[] = [];
  const listed: Record<number, number> = {};
  let installed = 0;
  for (const n of [1, 10, 100]) {
    for (; installed < n; installed++) {
      const m = { ...editorManifest(), name: `bench/tool-${String(installed).padStart(3, '0')}` } as Manifest;
      const bytes = signPackage(makePackage(m, {}, component), key);
      await installPackage(home, bytes, { verified: verifyPackage(bytes, TrustStore.load(home)) });
    }
    if (packageEntries(home).length !== n) throw new Error(`expected ${n} packages listed`);
    listed[n] = measure(() => packageEntries(home));
    const expand = measure(() => permissionStates(home, 'bench/tool-000', workspace));
    const mcp = measure(() => offeredTools(home));
    rows.push(`| ${n} | ${ms(listed[n]!)} | ${ms(expand)} | ${ms(mcp)} |`);
  }
  console.log(`extension listing, median of ${reps} (load ${loadavg()[0]!.toFixed(2)}):\n`);
  console.log('| packages | list (ms) | expand one (ms) | mcp tools/list (ms) |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`\nlist(100) / list(1) = ${(listed[100]! / listed[1]!).toFixed(1)}`);
} finally {
  rmSync(home, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
}
