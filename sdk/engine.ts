/**
 * What differs between the two engines' bindings. `mpp build` defines
 * __MPP_ENGINE__ when it bundles (runtime/build/bundle.ts): the SpiderMonkey
 * bindings pass WIT u64 values as BigInt, the QuickJS ones as numbers.
 */
declare const __MPP_ENGINE__: 'spidermonkey' | 'quickjs' | undefined;

export const ENGINE: 'spidermonkey' | 'quickjs' = typeof __MPP_ENGINE__ === 'string' ? __MPP_ENGINE__ : 'spidermonkey';

/** A WIT u64 argument in the form this engine's bindings take. */
export function u64(n: number): bigint {
  return (ENGINE === 'quickjs' ? n : BigInt(n)) as bigint;
}

/** Releases a resource handle now rather than when the instance ends (fds are bounded per instance). */
export function drop(resource: object): void {
  const key = typeof Symbol.dispose === 'symbol' ? Symbol.dispose : Symbol.for('dispose');
  const f = (resource as Record<symbol, unknown>)[key];
  if (typeof f === 'function') f.call(resource);
}
