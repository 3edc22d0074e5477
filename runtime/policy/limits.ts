import type { Manifest } from '../format/manifest.ts';
import { DEFAULT_LIMITS, type Limits } from '../sandbox/grant.ts';

/**
 * Host policy for resource limits: a package's manifest may ask for less or
 * more than the default, never more than the host's maximum. Callers (a flag,
 * a setting) may only lower the result.
 */
export interface LimitPolicy {
  readonly default: Limits;
  readonly max: Limits;
}

const MiB = 1024 * 1024;

export const HOST_LIMITS: LimitPolicy = Object.freeze({
  // The sandbox's own defaults: one set of numbers, whoever fills in a limit.
  default: DEFAULT_LIMITS,
  max: Object.freeze({ timeoutMs: 120_000, memoryBytes: 1024 * MiB, maxInputBytes: 16 * MiB, maxOutputBytes: 16 * MiB }),
});

export function effectiveLimits(manifest: Manifest, lower: Partial<Limits> = {}, policy: LimitPolicy = HOST_LIMITS): Limits {
  const asked = manifest.limits ?? {};
  const pick = (key: keyof Limits, fromManifest: number | undefined): number =>
    Math.min(fromManifest ?? policy.default[key], policy.max[key], lower[key] ?? Infinity);
  return Object.freeze({
    timeoutMs: pick('timeoutMs', asked.timeoutMs),
    memoryBytes: pick('memoryBytes', asked.memoryMb === undefined ? undefined : asked.memoryMb * MiB),
    maxInputBytes: pick('maxInputBytes', asked.maxInputBytes),
    maxOutputBytes: pick('maxOutputBytes', asked.maxOutputBytes),
  });
}
