import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.ts';

/**
 * README keeps exactly two set-up commands (its only `sh` blocks): the main
 * job, then the tests; CI (.ci/run) goes to the repository root and runs the
 * second exactly as written, and nothing else.
 */
describe('README set-up commands and CI', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trim());

  it('README has exactly two sh blocks, one command each: the demo, then the tests', () => {
    assert.deepEqual(blocks, ['bash scripts/dev.sh demo', 'bash scripts/dev.sh test']);
  });

  it('.ci/run runs the README test command as written, and no other command', () => {
    const commands = readFileSync(join(ROOT, '.ci', 'run'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && l !== 'set -euo pipefail');
    // From the repository root, where README's commands are run, wherever CI starts the script.
    assert.deepEqual(commands, ['cd "$(dirname "$0")/.."', blocks[1]]);
  });
});
