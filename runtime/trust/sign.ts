import { MppError } from '../errors.ts';
import { writeArchive } from '../format/write.ts';
import { createEnvelope, type SignatureRole } from './envelope.ts';
import { refuseDevelopmentPackage } from './development.ts';
import { examinePackage, type ExaminedPackage } from './gatekeeper.ts';
import type { PrivateKey } from './keys.ts';

/**
 * Adds (or replaces) `key`'s signature. The package is examined first, so a
 * tampered package or one carrying a bad signature is never signed. The
 * result is deterministic: the same package and key give the same bytes.
 */
export function signPackage(bytes: Uint8Array, key: PrivateKey, role: SignatureRole = 'author'): Uint8Array {
  const pkg = examinePackage(bytes);
  refuseDevelopmentPackage(pkg, 'sign');
  return withSignature(pkg, key, role);
}

/** The only signing of a development package: by its author, for the development install (runtime/dev). */
export function signDevelopmentPackage(bytes: Uint8Array, key: PrivateKey): Uint8Array {
  const pkg = examinePackage(bytes);
  if (!pkg.development) throw new MppError('MPP_E_INTERNAL', 'signDevelopmentPackage was given a release package.');
  return withSignature(pkg, key, 'author');
}

function withSignature(pkg: ExaminedPackage, key: PrivateKey, role: SignatureRole): Uint8Array {
  const entries = new Map<string, Uint8Array>();
  for (const e of [...pkg.entries.content, ...pkg.entries.signatures]) entries.set(e.name, e.data);
  entries.set(`signatures/${key.publicKey.keyid}.json`, createEnvelope(key, role, pkg.manifest, pkg.digest.sha256));
  return writeArchive(entries);
}
