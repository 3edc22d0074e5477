/**
 * Every call starts from a clean state (spec/sandbox.md §8): nothing a call
 * leaves behind — a global, a module variable, memory contents, a resource
 * handle it never dropped, a file it left open — is visible to the next call,
 * which may come from another agent. For both engines, through a kept
 * sandbox (the path `mpp mcp` and the editor take for back-to-back calls),
 * whose calls after the first run on kept instances reset to their snapshot
 * (worker/core-reuse.ts): the test holds the sandbox to that too, so the
 * checks cover the reset, not only a fresh instantiation.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createSandbox, type HostServices } from '../../runtime/sandbox/index.ts';
import { fixtureComponent, type Engine } from '../fixtures/tools/build.ts';
import { makeDirs, SANDBOX_CACHE } from '../fixtures/tools/env.ts';
import { tempDir } from '../helpers/cli.ts';

const scratch = tempDir({ after }, 'clean-state');

/** Host fds (this process: workers share it) open on `path`. */
function fdsOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // Closed while listing.
    }
  }
  return n;
}

const services: HostServices = {
  log: () => {},
  identity: { caller: async () => ({ agentId: 'unverified:test', displayName: 'test', verified: false }) },
  confirm: { request: async () => 'denied' },
};

for (const engine of ['spidermonkey', 'quickjs'] as const satisfies readonly Engine[]) {
  describe(`clean state between calls (${engine})`, () => {
    it('a global, a module variable, memory contents, a kept handle and an open file do not reach the next call', async () => {
      const data = join(scratch, engine);
      makeDirs(data);
      const component = await fixtureComponent('state-probe', engine);
      const sandbox = await createSandbox({ component, grant: { fs: [{ hostPath: realpathSync(data), guestPath: '/data', write: true }] }, cacheDir: SANDBOX_CACHE, services });
      after(() => sandbox.dispose());
      const call = (tool: string, input: object) => sandbox.call(tool, JSON.stringify(input)).then((o) => JSON.parse(o) as Record<string, unknown>);
      const clean = { global: null, moduleCounter: 0, memoryNonZero: 0, keptDir: 'undefined', keptFile: 'undefined', keptStream: 'undefined' };
      assert.deepEqual(await call('look', {}), clean);
      for (let round = 0; round < 3; round++) {
        assert.deepEqual(await call('leave', { secret: `secret-${round}` }), { left: true });
        // The write landed: the tool really held the file open.
        assert.equal(readFileSync(join(data, 'open.txt'), 'utf8'), `secret-${round}`);
        assert.deepEqual(await call('look', {}), clean, `round ${round}`);
        // The instance that left the file open is gone, and so is its fd (closed by the host, not the tool).
        assert.equal(fdsOn(join(realpathSync(data), 'open.txt')), 0);
      }
      // Seven calls: the first on the instance made at start, the rest on it reset
      // (a call that grew its memory would make the next one new).
      const { reset, new: made } = sandbox.instances;
      assert.equal(reset + made, 7);
      assert.ok(reset >= 3, `calls on reset instances: ${reset} of 7`);
    });
  });
}
