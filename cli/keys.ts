import { mppHome } from '../runtime/home.ts';
import { defaultAuthorKeyPath } from '../runtime/dev/author-key.ts';

export { publicKeyPathFor } from '../runtime/dev/author-key.ts';

/** Where `mpp keygen` writes and `mpp sign` reads a key when no path is given. */
export function defaultKeyPath(): string {
  return defaultAuthorKeyPath(mppHome());
}
