import { mppHome } from '../runtime/home.ts';
import { defaultAuthorKeyPath } from '../runtime/dev/author-key.ts';
import { parsePrivateKeyPem, type PrivateKey } from '../runtime/trust/keys.ts';
import { readUserFile } from './files.ts';

export { publicKeyPathFor } from '../runtime/dev/author-key.ts';

/** Where `mpp keygen` writes and `mpp sign` reads a key when no path is given. */
export function defaultKeyPath(): string {
  return defaultAuthorKeyPath(mppHome());
}

/** A signing key the user named (or the default one); a missing one points to `mpp keygen`. */
export function readSigningKey(path: string): PrivateKey {
  const hint = path === defaultKeyPath() ? 'Create your signing key with `mpp keygen` first.' : `Check the path, or create a key there with \`mpp keygen --out ${path}\`.`;
  return parsePrivateKeyPem(readUserFile(path, 'key file', hint).toString('utf8'), path);
}
