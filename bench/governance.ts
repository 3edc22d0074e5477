/**
 * What governance costs per call: the same tool call through the whole
 * governed path (re-verify, caller, grants from SQLite, redaction, audit
 * record with fsync) vs invokeTool alone (input check, fresh sandbox
 * instance, output check) on the same verified package. Both pay a fresh
 * instance per call; the ratio is the governance overhead.
 *
 *   node bench/governance.ts [--calls N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { recordAudit } from '../runtime/audit/log.ts';
import { serializeManifest, type Manifest } from '../runtime/format/manifest.ts';
import { writeArchive } from '../runtime/format/write.ts';
import { grantPermissions } from '../runtime/governance/decisions.ts';
import { ToolHost } from '../runtime/governance/tool-host.ts';
import { homePaths } from '../runtime/home.ts';
import { effectiveLimits } from '../runtime/policy/limits.ts';
import { checkInput, checkInputSize, findTool, invokeTool } from '../runtime/run/invoke.ts';
import { workspaceScope } from '../runtime/state/grants.ts';
import { installPackage, loadInstalled } from '../runtime/store/packages.ts';
import { generateKey } from '../runtime/trust/keys.ts';
import { signPackage } from '../runtime/trust/sign.ts';
import { TrustStore } from '../runtime/trust/store.ts';
import { addTrustedKey } from '../test/helpers/trust.ts';
import { fixtureComponent } from '../test/fixtures/tools/build.ts';
import { median, ms, percentile } from './stats.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '40' } } });
const calls = Number(values.calls);
const dir = mkdtempSync(join(tmpdir(), 'mpp-bench-gov-'));
try {
  const home = join(dir, 'home');
  const key = generateKey();
  await addTrustedKey(home, key.publicKey, 'Bench');
  const any = { type: 'object' } as const;
  const m: Manifest = {
    mpp: 1,
    name: 'bench/misc',
    version: '1.0.0',
    description: 'Bench.',
    publisher: { name: 'Bench' },
    tools: [{ name: 'echo', description: 'Echo.', sensitivity: 'none', inputSchema: any, outputSchema: any }],
    permissions: { environment: [{ name: 'BENCH_VAR' }] },
    privacy: { redact: ['email', 'phone', 'payment-card', 'iban', 'national-id', 'ip-address', 'secret'] },
  };
  const bytes = signPackage(writeArchive(new Map([['manifest.json', serializeManifest(m)], ['tool.wasm', await fixtureComponent('misc-probe')]])), key);
  await installPackage(home, bytes, { trust: TrustStore.load(home) });
  grantPermissions(home, { package: 'bench/misc', capabilities: 'all', scope: workspaceScope(dir), source: 'cli' }, (e) => recordAudit(home, e));
  const input = JSON.stringify({ text: 'Contact ada@example.com, card 4111 1111 1111 1111, about the weekly report.', n: [1, 2, 3] });

  const host = new ToolHost({ home, audit: (e) => recordAudit(home, e), env: {} });
  const pkg = loadInstalled(home, 'bench/misc', TrustStore.load(home)).pkg;
  const grant = { fs: [], net: [], env: {}, limits: effectiveLimits(m) };
  const time = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const governed = () => host.call({ target: { installed: 'bench/misc' }, tool: 'echo', input, caller: { label: 'bench' }, workspace: dir });
  const echo = findTool(pkg, 'echo');
  const bare = () => {
    checkInputSize(input, grant.limits);
    checkInput(echo, input);
    return invokeTool({ pkg, tool: echo, input, grant, services: { log: () => {} }, cacheDir: homePaths(home).componentCache });
  };
  await governed();
  await bare();
  const a: number[] = [];
  const b: number[] = [];
  // Interleaved, so that machine noise falls on both alike.
  for (let i = 0; i < calls; i++) {
    a.push(await time(governed));
    b.push(await time(bare));
  }
  console.log(`governed call (verify + grants + redaction + audit + sandbox): median ${ms(median(a))} ms, p95 ${ms(percentile(a, 0.95))} ms`);
  console.log(`bare invokeTool (sandbox only):                               median ${ms(median(b))} ms, p95 ${ms(percentile(b, 0.95))} ms`);
  console.log(`governance overhead: ${(median(a) / median(b)).toFixed(2)}x the bare call (${ms(median(a) - median(b))} ms per call)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
