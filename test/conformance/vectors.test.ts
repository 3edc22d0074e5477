import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import { verifyPackage } from '../../runtime/trust/gatekeeper.ts';
import { assembleComponent } from '../../spec/vectors/assemble.ts';
import { COMPONENT_WASM, COMPONENT_WAT, generateVectors, renderIndex } from '../../spec/vectors/generate.ts';
import { VECTORS, loadIndex, vectorBytes, vectorTrust } from '../helpers/vectors.ts';

const index = loadIndex();
const trust = vectorTrust(index);

describe('conformance vectors (spec/vectors)', () => {
  it('are exactly what the recipe generates (deterministic and up to date)', () => {
    const { keys, vectors, files } = generateVectors();
    assert.equal(readFileSync(join(VECTORS, 'vectors.json'), 'utf8'), renderIndex(keys, vectors), 'vectors.json is stale: run `node spec/vectors/generate.ts`');
    for (const [file, bytes] of files) {
      assert.ok(Buffer.from(bytes).equals(readFileSync(join(VECTORS, 'packages', file))), `${file} differs from its recipe`);
    }
    for (const k of keys) assert.equal(readFileSync(join(VECTORS, 'keys', `${k.role}.pub.pem`), 'utf8'), k.publicKeyPem);
  });

  it('hold a component assembled from its committed WAT (components/counter.wat)', async () => {
    const assembled = await assembleComponent(readFileSync(COMPONENT_WAT, 'utf8'));
    assert.ok(Buffer.from(assembled).equals(readFileSync(COMPONENT_WASM)), 'components/counter.wasm is stale: run `node spec/vectors/generate.ts`');
  });

  it('cover at least 30 refusals and every gatekeeper code', () => {
    const refusals = index.vectors.filter((v) => v.expect.verdict === 'refuse');
    assert.ok(refusals.length >= 30, `only ${refusals.length} refusal vectors`);
    const codes = new Set(refusals.map((v) => (v.expect as { code: string }).code));
    for (const code of ['MPP_E_UNSIGNED', 'MPP_E_BAD_SIGNATURE', 'MPP_E_UNTRUSTED_KEY', 'MPP_E_REVOKED_KEY', 'MPP_E_DIGEST_MISMATCH', 'MPP_E_EXTRA_ENTRY', 'MPP_E_MISSING_ENTRY', 'MPP_E_UNSAFE_ARCHIVE', 'MPP_E_INVALID_MANIFEST', 'MPP_E_UNSUPPORTED_FORMAT', 'MPP_E_ARCHIVE_TOO_LARGE', 'MPP_E_CORRUPT_ARCHIVE', 'MPP_E_INVALID_COMPONENT', 'MPP_E_IMPORT_NOT_ALLOWED', 'MPP_E_EXPORT_NOT_ALLOWED', 'MPP_E_HANDLER_MISSING']) {
      assert.ok(codes.has(code), `no vector expects ${code}`);
    }
  });

  for (const v of index.vectors) {
    it(`${v.id}: ${v.description}`, () => {
      const bytes = vectorBytes(v);
      if (v.expect.verdict === 'accept') {
        const pkg = verifyPackage(bytes, trust);
        assert.equal(pkg.publisher.keyid, v.expect.publisher, `${v.id}: accepted on the wrong key`);
      } else {
        const expected = v.expect.code;
        assert.throws(() => verifyPackage(bytes, trust), (e: unknown) => {
          assert.ok(isMppError(e), `${v.id}: expected ${expected}, got a non-MPP error: ${String(e)}`);
          assert.equal(e.code, expected, `${v.id}: ${e.message}`);
          return true;
        });
      }
    });
  }
});
