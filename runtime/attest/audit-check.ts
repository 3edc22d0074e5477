import { MppError, isMppError } from '../errors.ts';
import { parseRecordLines } from '../audit/segments.ts';
import type { PublicKey } from '../trust/keys.ts';
import { verifyAttestation } from './attestation.ts';

export interface AttestationAudit {
  readonly issued: number;
  readonly consumed: number;
}

/**
 * The auditor's offline check over an exported log whose chain already
 * verified: every issued attestation is signed by the host key and binds what
 * its record says, no nonce is issued twice, and every consumption names an
 * attestation issued before it and not consumed yet (one approval, one use).
 */
export function checkAuditAttestations(exportLines: string, hostKey: PublicKey): AttestationAudit {
  const issued = new Set<string>();
  const used = new Set<string>();
  let consumed = 0;
  for (const r of parseRecordLines(exportLines, 'the audit log')) {
    const event = r.event as { type?: string; nonce?: string; envelope?: unknown; outcome?: string };
    if (event?.type === 'attestation-issued') {
      try {
        const payload = verifyAttestation(JSON.stringify(event.envelope), hostKey);
        if (payload.nonce !== event.nonce) throw new MppError('MPP_E_ATTESTATION_INVALID', 'its nonce differs from the one recorded');
      } catch (e) {
        throw new MppError('MPP_E_ATTESTATION_INVALID', `The attestation in audit record ${String(r.seq)} does not verify with host key ${hostKey.keyid.slice(0, 16)}...: ${isMppError(e) ? e.message : String(e)}`, {
          detail: { seq: r.seq },
        });
      }
      if (issued.has(event.nonce!)) {
        throw new MppError('MPP_E_ATTESTATION_INVALID', `Audit record ${String(r.seq)} issues attestation ${String(event.nonce)} a second time: a nonce is issued once.`, { detail: { seq: r.seq } });
      }
      issued.add(event.nonce!);
    } else if (event?.type === 'attestation-consumed' && event.outcome === 'consumed') {
      if (!issued.has(event.nonce!)) {
        throw new MppError('MPP_E_ATTESTATION_INVALID', `Audit record ${String(r.seq)} consumes attestation ${String(event.nonce)}, which no earlier record issued.`, { detail: { seq: r.seq } });
      }
      if (used.has(event.nonce!)) {
        throw new MppError('MPP_E_ATTESTATION_INVALID', `Audit record ${String(r.seq)} consumes attestation ${String(event.nonce)} a second time: one approval was used twice (a replay).`, { detail: { seq: r.seq, nonce: event.nonce } });
      }
      used.add(event.nonce!);
      consumed++;
    }
  }
  return Object.freeze({ issued: issued.size, consumed });
}
