import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AttestationLedger, verifyAttestation, type AttestationBinding } from '../../../runtime/attest/attestation.ts';
import { loadOrCreateHostKey } from '../../../runtime/attest/host-key.ts';
import { generateKey } from '../../../runtime/trust/keys.ts';
import { tempDir } from '../../helpers/cli.ts';

const binding: AttestationBinding = {
  package: { name: 'acme/files', version: '1.0.0', digest: 'a'.repeat(64) },
  tool: 'delete',
  operation: 'delete',
  argumentsSha256: 'b'.repeat(64),
  agent: { id: 'copilot', verified: true },
};

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('attestations', () => {
  const dir = tempDir({ after }, 'attest');

  it('is consumed exactly once: a replay is refused', async () => {
    const home = join(dir, 'once');
    const key = await loadOrCreateHostKey(home);
    const ledger = AttestationLedger.open(home);
    try {
      const a = ledger.issue(key, binding, 60_000);
      assert.equal(ledger.consume(key.publicKey, a.envelope, binding).nonce, a.payload.nonce);
      assert.equal(codeOf(() => ledger.consume(key.publicKey, a.envelope, binding)), 'MPP_E_ATTESTATION_REPLAYED');
    } finally {
      ledger.close();
    }
  });

  it('binds every field: another argument set, tool, operation, agent or package digest is refused', async () => {
    const home = join(dir, 'bind');
    const key = await loadOrCreateHostKey(home);
    const ledger = AttestationLedger.open(home);
    try {
      const variants: AttestationBinding[] = [
        { ...binding, argumentsSha256: 'c'.repeat(64) },
        { ...binding, tool: 'other' },
        { ...binding, operation: 'delete everything' },
        { ...binding, agent: { id: 'copilot', verified: false } },
        { ...binding, agent: { id: 'other', verified: true } },
        { ...binding, package: { ...binding.package, digest: 'd'.repeat(64) } },
      ];
      for (const v of variants) {
        const a = ledger.issue(key, binding, 60_000);
        assert.equal(codeOf(() => ledger.consume(key.publicKey, a.envelope, v)), 'MPP_E_ATTESTATION_MISMATCH', JSON.stringify(v));
        // A refused use does not spend it: the matching call still can.
        assert.ok(ledger.consume(key.publicKey, a.envelope, binding));
      }
    } finally {
      ledger.close();
    }
  });

  it('refuses a late use, an altered payload, another host key, and an attestation this host never issued', async () => {
    const home = join(dir, 'refuse');
    const key = await loadOrCreateHostKey(home);
    const ledger = AttestationLedger.open(home);
    try {
      const late = ledger.issue(key, binding, 1000, new Date(Date.now() - 5000));
      assert.equal(codeOf(() => ledger.consume(key.publicKey, late.envelope, binding)), 'MPP_E_ATTESTATION_EXPIRED');

      const a = ledger.issue(key, binding, 60_000);
      const env = JSON.parse(a.envelope) as { payload: string };
      const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as Record<string, unknown>;
      const altered = JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify({ ...payload, expiresAt: '2999-01-01T00:00:00.000Z' })).toString('base64') });
      assert.equal(codeOf(() => ledger.consume(key.publicKey, altered, binding)), 'MPP_E_ATTESTATION_INVALID');
      assert.equal(codeOf(() => ledger.consume(generateKey().publicKey, a.envelope, binding)), 'MPP_E_ATTESTATION_INVALID');

      // Signed with this host's key but recorded in another ledger: unknown here.
      const elsewhere = AttestationLedger.open(join(dir, 'elsewhere'));
      try {
        const foreign = elsewhere.issue(key, binding, 60_000);
        assert.equal(codeOf(() => ledger.consume(key.publicKey, foreign.envelope, binding)), 'MPP_E_ATTESTATION_REPLAYED');
      } finally {
        elsewhere.close();
      }
      assert.equal(codeOf(() => ledger.consume(key.publicKey, 'not json', binding)), 'MPP_E_ATTESTATION_INVALID');
    } finally {
      ledger.close();
    }
  });

  it('verifies offline with only the host public key', async () => {
    const home = join(dir, 'offline');
    const key = await loadOrCreateHostKey(home);
    assert.equal((await loadOrCreateHostKey(home)).publicKey.keyid, key.publicKey.keyid, 'the host key is made once');
    const ledger = AttestationLedger.open(home);
    try {
      const a = ledger.issue(key, binding, 60_000);
      assert.deepEqual(verifyAttestation(a.envelope, key.publicKey), a.payload);
    } finally {
      ledger.close();
    }
  });
});
