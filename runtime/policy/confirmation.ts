import type { Sensitivity } from '../format/manifest.ts';

/** Sensitivities from least to most: the one order confirmation thresholds and policy merges use. */
export const SENSITIVITY_RANK: Readonly<Record<Sensitivity, number>> = Object.freeze({ none: 0, read: 1, write: 2, destructive: 3 });

/**
 * Whether a call of a tool of this sensitivity must stop for a human
 * (spec/manifest.md 4.1): `write` and `destructive` always do; host policy
 * may lower the threshold (ask for more), never raise it above `write`.
 */
export function needsConfirmation(sensitivity: Sensitivity, threshold: Sensitivity): boolean {
  const effective = SENSITIVITY_RANK[threshold] < SENSITIVITY_RANK.write ? threshold : 'write';
  return SENSITIVITY_RANK[sensitivity] >= SENSITIVITY_RANK[effective];
}
