/**
 * The author loop (issue 11 item 5): first build, rebuild unchanged, rebuild
 * after a one-line edit, for a release build and a development build, side by
 * side in one run on the `mpp init` template; then "one-line edit to a
 * runnable tool" end to end through the CLI, as an author runs it:
 *   release:     mpp build && mpp sign && mpp install && mpp run
 *   development: mpp dev --tool greet
 * Goal: one-line edit to a runnable tool in <= 3 s on a quiet machine.
 *   node bench/author-loop.ts [--engine spidermonkey|quickjs] [--runs 3]
 * Uses dist/cli.js when built (`npm run build`), else cli/main.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPackage } from '../runtime/build/build.ts';
import { isEngine, type Engine } from '../runtime/build/componentize.ts';
import { initProject } from '../runtime/build/init.ts';
import { median, ms } from './stats.ts';

const { values } = parseArgs({ options: { engine: { type: 'string', default: 'spidermonkey' }, runs: { type: 'string', default: '3' } } });
if (!isEngine(values.engine)) throw new Error(`--engine must be quickjs or spidermonkey`);
const engine: Engine = values.engine;
const runs = Math.max(1, Number(values.runs));
const GOAL_MS = 3000;

const root = mkdtempSync(join(tmpdir(), 'mpp-bench-loop-'));
const home = join(root, 'home');
const cli = existsSync(resolve('dist/cli.js')) ? [resolve('dist/cli.js')] : [resolve('cli/main.ts')];
let edits = 0;
/** One line of the tool's code changed (the English greeting), so every build sees new code. Returns the new greeting. */
function editOneLine(dir: string): string {
  const file = join(dir, 'src', 'tools.ts');
  const greeting = `Hello${++edits}`;
  const text = readFileSync(file, 'utf8').replace(/en: '[^']*'/, `en: '${greeting}'`);
  writeFileSync(file, text);
  return greeting;
}

function project(name: string): string {
  const dir = join(root, name);
  initProject(dir, `bench/${name}`);
  return dir;
}

async function buildTimes(development: boolean): Promise<{ first: number; unchanged: number; edited: number }> {
  const dir = project(development ? 'dev-build' : 'release-build');
  const time = async () => (await buildPackage({ projectDir: dir, engine, development })).timings.total!;
  const first = await time();
  const unchanged: number[] = [];
  const edited: number[] = [];
  for (let i = 0; i < runs; i++) {
    unchanged.push(await time());
    editOneLine(dir);
    edited.push(await time());
  }
  return { first, unchanged: median(unchanged), edited: median(edited) };
}

function mpp(args: string[], cwd: string): string {
  return execFileSync(process.execPath, [...cli, ...args], { cwd, env: { ...process.env, MPP_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}
/** A loop that ran stale code would measure nothing: the call's output must show the edit. */
function expectGreeting(output: string, greeting: string): void {
  if (!output.includes(`${greeting}, Ada!`)) throw new Error(`the tool answered ${output.trim()}, not the edited greeting ${greeting}`);
}
function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Edit -> the edited tool answers a call, through the CLI, in fresh processes. */
let released = false;
function releaseLoop(dir: string): number {
  const greeting = editOneLine(dir);
  let output = '';
  const t = timed(() => {
    mpp(['build', '--engine', engine], dir);
    mpp(['sign', `dist/release-loop-0.1.0.mpp`], dir);
    // Versions are immutable: a changed release replaces the old one only as a new version.
    if (released) mpp(['uninstall', 'bench/release-loop'], dir);
    released = true;
    mpp(['install', `dist/release-loop-0.1.0.mpp`], dir);
    output = mpp(['run', 'bench/release-loop', 'greet', '--input', '{"name":"Ada"}'], dir);
  });
  expectGreeting(output, greeting);
  return t;
}
function developmentLoop(dir: string): number {
  const greeting = editOneLine(dir);
  let output = '';
  const t = timed(() => (output = mpp(['dev', '--yes', '--engine', engine, '--tool', 'greet', '--input', '{"name":"Ada"}'], dir)));
  expectGreeting(output, greeting);
  return t;
}

try {
  console.log(`author loop, engine ${engine}, ${runs} run(s), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores: above ~0.5 is not a quiet machine)`);
  const release = await buildTimes(false);
  const dev = await buildTimes(true);
  console.log('\nbuild (in process, ms)      first   unchanged   one-line edit');
  console.log(`  release (mpp build)     ${ms(release.first).padStart(7)} ${ms(release.unchanged).padStart(11)} ${ms(release.edited).padStart(15)}`);
  console.log(`  development (--dev)     ${ms(dev.first).padStart(7)} ${ms(dev.unchanged).padStart(11)} ${ms(dev.edited).padStart(15)}`);
  console.log(`  one-line edit: development is ${(release.edited / dev.edited).toFixed(1)}x faster`);

  const releaseDir = project('release-loop');
  const devDir = project('dev-loop');
  // A trusted key, the first install and engine build, and the user's consent once (the template's
  // tools ask for the workspace and a variable), so the loops below measure steady edits.
  mpp(['keygen'], releaseDir);
  mpp(['trust', 'add', join(home, 'keys', 'default.pub.pem'), '--name', 'bench'], releaseDir);
  mpp(['build', '--engine', engine], releaseDir);
  mpp(['sign', `dist/release-loop-0.1.0.mpp`], releaseDir);
  mpp(['install', `dist/release-loop-0.1.0.mpp`], releaseDir);
  released = true;
  mpp(['grant', 'bench/release-loop', '--all', '--global'], releaseDir);
  mpp(['dev', '--yes', '--engine', engine], devDir);
  mpp(['grant', 'bench/dev-loop', '--all', '--global'], devDir);
  const r: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < runs; i++) {
    r.push(releaseLoop(releaseDir));
    d.push(developmentLoop(devDir));
  }
  const rm = median(r);
  const dm = median(d);
  console.log('\none-line edit to a runnable tool (CLI processes, ms, median)');
  console.log(`  release: build + sign + install + run   ${ms(rm).padStart(7)}   ${rm <= GOAL_MS ? 'within' : 'over'} the 3 s goal`);
  console.log(`  development: mpp dev --tool             ${ms(dm).padStart(7)}   ${dm <= GOAL_MS ? 'within' : 'over'} the 3 s goal (${(dm / GOAL_MS * 100).toFixed(0)}% of it)`);
  console.log(`  development is ${(rm / dm).toFixed(1)}x faster`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
