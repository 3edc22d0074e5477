/**
 * The value the crash writer stores for operation `n`: `size` bytes whose
 * content depends on `n` and the position, so a torn, stale or misplaced
 * value never equals the expected one (the first 4 bytes are `n` itself).
 */
export function valueFor(n: number, size: number): Uint8Array {
  const v = new Uint8Array(size);
  for (let j = 0; j < size; j++) v[j] = j < 4 ? (n >>> (8 * j)) & 0xff : (n * 131 + j * 7 + (j >>> 8)) & 0xff;
  return v;
}
