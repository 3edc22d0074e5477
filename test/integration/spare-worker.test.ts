/**
 * The spare tool worker (runtime/sandbox/tool-worker.ts): started ahead by a
 * long-running host, taken by the next new sandbox, which then serves its
 * own grant only; the sandbox after it gets a worker of its own; a spare
 * keeps no process alive.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { createSandbox, prewarmToolWorker, type ToolSandbox } from '../../runtime/sandbox/index.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { SANDBOX_CACHE } from '../fixtures/tools/env.ts';

const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

describe('spare tool worker', () => {
  const made: ToolSandbox[] = [];
  after(() => Promise.all(made.map((s) => s.dispose())));

  it('is started ahead; the sandboxes that follow each serve their own grant', async () => {
    const component = await fixtureComponent('misc-probe');
    const before = threads();
    prewarmToolWorker();
    // The spare's thread appears before any sandbox exists (bounded wait: a loaded machine is slow).
    for (let i = 0; i < 600 && threads() <= before; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(threads() > before, 'a thread for the spare');

    const sandbox = async (value: string) => {
      const sb = await createSandbox({ component, grant: { env: { PROBE_TOKEN: value } }, cacheDir: SANDBOX_CACHE });
      made.push(sb);
      return sb;
    };
    const token = async (sb: ToolSandbox) => (JSON.parse(await sb.call('env', JSON.stringify({ name: 'PROBE_TOKEN' }))) as { value: string | null }).value;
    const first = await sandbox('first');
    const second = await sandbox('second');
    assert.equal(await token(first), 'first');
    assert.equal(await token(second), 'second');
    assert.equal(await token(first), 'first', 'the worker that was the spare serves its sandbox only');
  });

  it('keeps no process alive', () => {
    const module = new URL('../../runtime/sandbox/index.ts', import.meta.url).href;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import { prewarmToolWorker } from ${JSON.stringify(module)}; prewarmToolWorker(); setTimeout(() => console.log('done'), 500);`], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(out.trim(), 'done');
  });
});
