import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_HINTS, ERROR_CODES, MppError } from '../../runtime/errors.ts';
import { ROOT } from '../helpers/cli.ts';

describe('error codes', () => {
  const documented = [...readFileSync(join(ROOT, 'spec', 'errors.md'), 'utf8').matchAll(/^\| `(MPP_E_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

  it('spec/errors.md documents exactly the codes in runtime/errors.ts, once each', () => {
    assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
    assert.equal(new Set(documented).size, documented.length);
  });

  it('every code has a default hint, the same text as the "what to do" column of spec/errors.md', () => {
    const rows = readFileSync(join(ROOT, 'spec', 'errors.md'), 'utf8').split('\n').filter((l) => l.startsWith('| `MPP_E_'));
    for (const row of rows) {
      const cells = row.replace(/^\| | \|$/g, '').split(' | ');
      const code = cells[0]!.replaceAll('`', '') as keyof typeof DEFAULT_HINTS;
      assert.equal(DEFAULT_HINTS[code], cells[cells.length - 1], code);
    }
    assert.equal(new MppError('MPP_E_TOOL_TIMEOUT', 'x').hint, DEFAULT_HINTS.MPP_E_TOOL_TIMEOUT, 'a refusal without its own hint gets its code\'s');
    assert.equal(new MppError('MPP_E_TOOL_TIMEOUT', 'x', { hint: 'specific' }).hint, 'specific');
  });

  it('no source file uses a code that is not in the table', () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/'(MPP_E_[A-Z0-9_]+)'/g)) used.add(m[1]!);
      }
    };
    for (const dir of ['runtime', 'cli', 'extension']) walk(join(ROOT, dir));
    for (const code of used) assert.ok(code in ERROR_CODES, `${code} is used but not defined`);
  });
});
