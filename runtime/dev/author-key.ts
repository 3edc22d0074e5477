import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MppError } from '../errors.ts';
import { homePaths } from '../home.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { generateKey, parsePrivateKeyPem, privateKeyToPem, publicKeyToPem, type PrivateKey } from '../trust/keys.ts';

/** Where `mpp keygen` writes and `mpp sign` / `mpp dev` read a key when no path is given. */
export function defaultAuthorKeyPath(home: string): string {
  return join(homePaths(home).keys, 'default.pem');
}

export function publicKeyPathFor(privatePath: string): string {
  return privatePath.replace(/\.pem$/, '') + '.pub.pem';
}

/** Writes a new Ed25519 key pair (private 0600, public beside it); refuses to replace one unless `force`. */
export function writeNewKey(privatePath: string, force = false): PrivateKey {
  const pubPath = publicKeyPathFor(privatePath);
  for (const p of [privatePath, pubPath]) {
    if (!force && existsSync(p)) {
      throw new MppError('MPP_E_KEY_EXISTS', `${p} already exists.`, { hint: 'Choose another --out, or pass --force to replace it (the old key is lost).' });
    }
  }
  const key = generateKey();
  writeFileAtomic(privatePath, privateKeyToPem(key), 0o600);
  writeFileAtomic(pubPath, publicKeyToPem(key.publicKey));
  return key;
}

/**
 * The author's own key for development builds: the default key, or (only
 * after `consent` says yes) a new one written there. Never created silently.
 */
export async function authorKey(path: string, consent: (path: string) => Promise<boolean>): Promise<PrivateKey> {
  if (existsSync(path)) return parsePrivateKeyPem(readFileSync(path, 'utf8'), path);
  if (!(await consent(path))) {
    throw new MppError('MPP_E_DEVELOPMENT_DECLINED', `There is no signing key at ${path}, and none was created.`, {
      hint: 'Create one with `mpp keygen` (or agree when asked): development builds are signed with your own key.',
      detail: { path },
    });
  }
  return writeNewKey(path);
}
