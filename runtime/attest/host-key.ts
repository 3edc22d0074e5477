import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asIoError, withFileLock, writeFileAtomic } from '../store/atomic.ts';
import { generateKey, parsePrivateKeyPem, privateKeyToPem, type PrivateKey } from '../trust/keys.ts';

/**
 * The host's own Ed25519 key, which signs attestations: `host-key.pem` in the
 * MPP home (mode 0600), made on first use. Auditors verify attestations with
 * its public half (`mpp audit host-key`).
 */
function hostKeyPath(home: string): string {
  return join(home, 'host-key.pem');
}

function read(path: string): PrivateKey | undefined {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return asIoError(`read ${path}`, () => {
      throw e;
    });
  }
  return parsePrivateKeyPem(pem, `The host key ${path}`);
}

/** The host key, created under a lock so two processes starting together agree on one key. */
export async function loadOrCreateHostKey(home: string): Promise<PrivateKey> {
  const path = hostKeyPath(home);
  const existing = read(path);
  if (existing) return existing;
  return withFileLock(path, () => {
    const raced = read(path);
    if (raced) return raced;
    const key = generateKey();
    writeFileAtomic(path, privateKeyToPem(key), 0o600);
    return key;
  });
}

/** The host key if it exists (read-only commands must not create one). */
export function readHostKey(home: string): PrivateKey | undefined {
  return read(hostKeyPath(home));
}
