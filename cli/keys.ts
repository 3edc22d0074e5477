import { join } from 'node:path';
import { homePaths, mppHome } from '../runtime/home.ts';

/** Where `mpp keygen` writes and `mpp sign` reads a key when no path is given. */
export function defaultKeyPath(): string {
  return join(homePaths(mppHome()).keys, 'default.pem');
}

export function publicKeyPathFor(privatePath: string): string {
  return privatePath.replace(/\.pem$/, '') + '.pub.pem';
}
