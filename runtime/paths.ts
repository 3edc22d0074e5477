import { isAbsolute, relative } from 'node:path';

/** Whether `child` is `parent` or below it (both absolute and already resolved). */
export function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
