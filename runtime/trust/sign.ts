import { writeArchive } from '../format/write.ts';
import { createEnvelope, type SignatureRole } from './envelope.ts';
import { examinePackage } from './gatekeeper.ts';
import type { PrivateKey } from './keys.ts';

/**
 * Adds (or replaces) `key`'s signature. The package is examined first, so a
 * tampered package or one carrying a bad signature is never signed. The
 * result is deterministic: the same package and key give the same bytes.
 */
export function signPackage(bytes: Uint8Array, key: PrivateKey, role: SignatureRole = 'author'): Uint8Array {
  const pkg = examinePackage(bytes);
  const entries = new Map<string, Uint8Array>();
  for (const e of [...pkg.entries.content, ...pkg.entries.signatures]) entries.set(e.name, e.data);
  entries.set(`signatures/${key.publicKey.keyid}.json`, createEnvelope(key, role, pkg.manifest, pkg.digest.sha256));
  return writeArchive(entries);
}
