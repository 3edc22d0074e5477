/**
 * The worker's answer to the glue's JSPI probe (runtime/sandbox/worker/jspi-probe.ts):
 * where the engine has no WebAssembly.promising, the probe hands back the
 * plain export without throwing (what the glue's fallback picks); where
 * the engine has one, it is left alone. Each case runs in a fresh process,
 * since the function changes that realm's WebAssembly object.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

const MODULE = new URL('../../../runtime/sandbox/worker/jspi-probe.ts', import.meta.url).href;

function inFreshProcess(script: string): unknown {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import { answerJspiProbeCheaply } from ${JSON.stringify(MODULE)};\n${script}`], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('JSPI probe answer', () => {
  it('without JSPI: the probe gives the glue the plain export, without a throw', () => {
    const got = inFreshProcess(`
      delete WebAssembly.promising;
      answerJspiProbeCheaply();
      const plain = () => 42;
      let picked, error;
      try { picked = WebAssembly.promising(plain); } catch (e) { error = e; picked = plain; }
      console.log(JSON.stringify({ kind: typeof WebAssembly.promising, threw: error !== undefined, plain: picked === plain }));
    `);
    assert.deepEqual(got, { kind: 'function', threw: false, plain: true });
  });

  it('with JSPI: WebAssembly.promising is left as the engine made it', () => {
    const got = inFreshProcess(`
      const own = (f) => f;
      WebAssembly.promising = own;
      answerJspiProbeCheaply();
      console.log(JSON.stringify({ same: WebAssembly.promising === own }));
    `);
    assert.deepEqual(got, { same: true });
  });
});
