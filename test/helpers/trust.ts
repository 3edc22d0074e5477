import { withAuditLog } from '../../runtime/audit/trail.ts';
import type { PublicKey } from '../../runtime/trust/keys.ts';
import { changeTrust, type TrustChange, type TrustStore } from '../../runtime/trust/store.ts';

/** A change of `home`'s trust store as a user's command makes it: through the one writing function, recorded in the audit log. */
export function trustChange(home: string, change: TrustChange): Promise<TrustStore> {
  return withAuditLog(home, (audit) => changeTrust(home, audit, change));
}

export const addTrustedKey = (home: string, key: PublicKey, name: string): Promise<TrustStore> => trustChange(home, { action: 'add', key, name, via: 'command' });
export const revokeKey = (home: string, keyid: string, reason?: string): Promise<TrustStore> => trustChange(home, { action: 'revoke', keyid, ...(reason ? { reason } : {}) });
export const removeKey = (home: string, keyid: string): Promise<TrustStore> => trustChange(home, { action: 'remove', keyid });
