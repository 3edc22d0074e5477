import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { invokeTool } from '../../../runtime/run/invoke.ts';
import { installPackage } from '../../../runtime/store/packages.ts';
import { verifyPackage, type VerifiedPackage } from '../../../runtime/trust/gatekeeper.ts';
import { generateKey } from '../../../runtime/trust/keys.ts';
import { signPackage } from '../../../runtime/trust/sign.ts';
import type { TrustView } from '../../../runtime/trust/store.ts';
import { makePackage } from '../../helpers/packages.ts';

const key = generateKey();
const trust: TrustView = { state: (id) => (id === key.publicKey.keyid ? 'trusted' : 'unknown'), name: () => 'test' };
const bytes = signPackage(makePackage(), key);

describe('VerifiedPackage can only come from the gatekeeper', () => {
  it('a copy of a verified package is refused by installPackage and invokeTool, and nothing is stored', async () => {
    const real = verifyPackage(bytes, trust);
    const forged: VerifiedPackage = { ...real };
    const home = mkdtempSync(join(tmpdir(), 'mpp-brand-'));
    await assert.rejects(installPackage(home, bytes, { verified: forged }), { code: 'MPP_E_INTERNAL', message: /gatekeeper did not verify/ });
    assert.deepEqual(readdirSync(home), []);
    const tool = real.manifest.tools[0]!;
    const grant = { limits: { timeoutMs: 1000, memoryMb: 64, maxOutputBytes: 1024, maxLogBytes: 1024 } } as never;
    await assert.rejects(invokeTool({ pkg: forged, tool, input: '{}', grant, services: {} as never, cacheDir: home }), { code: 'MPP_E_INTERNAL' });
  });

  it('an object of the right shape is not a VerifiedPackage to the type checker', () => {
    const real = verifyPackage(bytes, trust);
    // @ts-expect-error the brand cannot be written outside gatekeeper.ts
    const literal: VerifiedPackage = { entries: real.entries, manifest: real.manifest, digest: real.digest, signatures: real.signatures, publisher: real.publisher };
    assert.equal(literal.manifest.name, real.manifest.name);
  });
});
