import type { Sensitivity } from '../format/manifest.ts';

const ORDER: Record<Sensitivity, number> = { none: 0, read: 1, write: 2, destructive: 3 };

/**
 * Whether a call of a tool of this sensitivity must stop for a human
 * (spec/manifest.md 4.1): `write` and `destructive` always do; host policy
 * may lower the threshold (ask for more), never raise it above `write`.
 */
export function needsConfirmation(sensitivity: Sensitivity, threshold: Sensitivity): boolean {
  const effective = ORDER[threshold] < ORDER.write ? threshold : 'write';
  return ORDER[sensitivity] >= ORDER[effective];
}
