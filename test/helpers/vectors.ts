import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.ts';
import type { TrustView } from '../../runtime/trust/store.ts';
import type { Vector, VectorKey } from '../../spec/vectors/generate.ts';

export const VECTORS = join(ROOT, 'spec', 'vectors');

export interface VectorIndex {
  version: 1;
  keys: Omit<VectorKey, 'privateKeyPem'>[];
  vectors: Vector[];
}

export function loadIndex(): VectorIndex {
  return JSON.parse(readFileSync(join(VECTORS, 'vectors.json'), 'utf8')) as VectorIndex;
}

export function vectorBytes(v: Vector): Buffer {
  return readFileSync(join(VECTORS, 'packages', v.file));
}

/** The trust the vectors assume: as each key's `trust` field says. */
export function vectorTrust(index: VectorIndex): TrustView {
  return {
    state: (keyid) => index.keys.find((k) => k.keyid === keyid)?.trust ?? 'unknown',
    name: (keyid) => index.keys.find((k) => k.keyid === keyid)?.role,
  };
}

/** Writes `home`'s trust store as the vectors assume it: trusted and revoked keys; unknown ones absent. */
export function writeVectorTrustStore(home: string, index: VectorIndex): void {
  const at = '2026-01-01T00:00:00.000Z';
  const keys = index.keys
    .filter((k) => k.trust !== 'unknown')
    .map((k) => ({ keyid: k.keyid, addedAt: at, ...(k.trust === 'revoked' ? { revoked: { at, reason: 'test' } } : { name: k.role }) }));
  writeFileSync(join(home, 'trust.json'), JSON.stringify({ version: 1, keys }, null, 2));
}
