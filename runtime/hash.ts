import { createHash } from 'node:crypto';

/** Lowercase hex SHA-256: the one hash MPP names content by. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
