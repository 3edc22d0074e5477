import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './cli.ts';

const run = promisify(execFile);
const VENV = join(ROOT, '.cache', 'wasmtime-py');
const REQUIREMENT = 'wasmtime==49.*';

/**
 * A Python with the `wasmtime` package (a second, independent component
 * runtime), in a virtual environment under .cache/ made on first use:
 * `python3 -m venv` (Debian: python3-venv, which scripts/dev.sh installs for
 * the tests) and pip from the machine's package index.
 */
export async function wasmtimePython(): Promise<string> {
  const python = join(VENV, 'bin', 'python');
  const ready = join(VENV, `.ready-${REQUIREMENT}`);
  if (!existsSync(ready)) {
    rmSync(VENV, { recursive: true, force: true });
    await run('python3', ['-m', 'venv', VENV]);
    await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', REQUIREMENT], { maxBuffer: 16 * 1024 * 1024 });
    writeFileSync(ready, '');
  }
  return python;
}

/** Runs the test host (test/fixtures/wasmtime/host.py) on a component with a list of [tool, input] calls. */
export async function runInWasmtime(component: string, calls: [string, string][]): Promise<WasmtimeRun> {
  const python = await wasmtimePython();
  const host = join(ROOT, 'test', 'fixtures', 'wasmtime', 'host.py');
  const { stdout } = await run(python, [host, component, JSON.stringify(calls)], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as WasmtimeRun;
}

export interface WasmtimeRun {
  results: ({ ok: string } | { err: { code: string; message: string } })[];
  logs: [string, string][];
  kv: Record<string, string>;
}
