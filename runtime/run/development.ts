import { MppError } from '../errors.ts';
import type { ExaminedPackage } from '../trust/gatekeeper.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The sandbox option a development package adds (its source, strictly UTF-8), or nothing for any other package. */
export function developmentSourceOf(pkg: ExaminedPackage): { developmentSource?: string } {
  const entry = pkg.entries.development;
  if (!entry) return {};
  try {
    return { developmentSource: utf8.decode(entry.data) };
  } catch (cause) {
    throw new MppError('MPP_E_TOOL_INVALID', 'The development source (tool.dev.js) of this package is not UTF-8 text.', {
      hint: 'Build it again with `mpp dev`.',
      cause,
    });
  }
}
