import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../runtime/errors.ts';
import { ROOT } from '../helpers/cli.ts';

describe('error codes', () => {
  const documented = [...readFileSync(join(ROOT, 'spec', 'errors.md'), 'utf8').matchAll(/^\| `(MPP_E_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

  it('spec/errors.md documents exactly the codes in runtime/errors.ts, once each', () => {
    assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
    assert.equal(new Set(documented).size, documented.length);
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
