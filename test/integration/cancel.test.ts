/**
 * A call ended by its AbortSignal (CallOptions.signal): the worker running it
 * is stopped, the call is refused with the signal's reason, and the sandbox
 * serves the next call from a fresh worker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError, MppError } from '../../runtime/errors.ts';
import { createSandbox } from '../../runtime/sandbox/index.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { SANDBOX_CACHE } from '../fixtures/tools/env.ts';

describe('cancelling a call', () => {
  it('stops a looping tool when its signal aborts, then serves the next call', async () => {
    // A time limit far beyond the test: only the signal can end the loop.
    const sb = await createSandbox({ component: await fixtureComponent('misc-probe'), grant: { limits: { timeoutMs: 600_000 } }, cacheDir: SANDBOX_CACHE, services: { log: () => {} } });
    try {
      const controller = new AbortController();
      const looping = sb.call('loop', '{}', { signal: controller.signal });
      setTimeout(() => controller.abort(new MppError('MPP_E_TOOL_CRASHED', 'cancelled by the test', { detail: { reason: 'cancelled' } })), 100);
      await assert.rejects(looping, (e: unknown) => isMppError(e) && e.message === 'cancelled by the test');
      // Without an MppError reason: the sandbox's own refusal.
      const other = new AbortController();
      other.abort();
      await assert.rejects(sb.call('loop', '{}', { signal: other.signal }), (e: unknown) => isMppError(e) && e.code === 'MPP_E_CANCELLED');
      assert.deepEqual(JSON.parse(await sb.call('echo', '{"a":1}')), { tool: 'echo', input: { a: 1 } });
    } finally {
      await sb.dispose();
    }
  });
});
