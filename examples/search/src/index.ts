/**
 * Workspace search: find files by glob, search their text. Reads only the
 * workspace (granted read-only) through the author SDK; every result list is
 * bounded and says when it was cut short.
 */
import { defineTools, files, ToolError, ToolRefusal, type Entry } from 'mpp:sdk';
import { globToRegExp, looksLikeText, matchLines, type LineMatch } from './match.ts';

const ROOT = '/workspace';
/** Folders nobody means to search. */
const SKIP = new Set(['.git', 'node_modules', '.mpp', 'dist']);
/** At most this many files are looked at per call, whatever the limits asked. */
const MAX_VISITED = 20_000;
/** Larger files are skipped by search-text (and counted). */
const MAX_FILE_BYTES = 1024 * 1024;

interface Walk {
  readonly paths: string[];
  /** True when MAX_VISITED stopped the walk. */
  readonly truncated: boolean;
}

/** Relative paths of files under ROOT matching `glob`, in name order, at most `limit`. */
function walk(glob: string, limit: number): Walk {
  const re = globToRegExp(glob);
  const paths: string[] = [];
  let visited = 0;
  const visit = (rel: string): boolean => {
    let entries: Entry[];
    try {
      entries = files.list(rel === '' ? ROOT : `${ROOT}/${rel}`);
    } catch (e) {
      // A folder that vanished or cannot be read is skipped, not fatal.
      if (e instanceof ToolRefusal && rel !== '') return true;
      throw e;
    }
    for (const e of entries) {
      if (++visited > MAX_VISITED || paths.length >= limit) return false;
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.type === 'directory') {
        if (!SKIP.has(e.name) && !visit(path)) return false;
      } else if (e.type === 'file' && re.test(path)) paths.push(path);
    }
    return true;
  };
  const complete = visit('');
  return { paths, truncated: !complete };
}

function limitOf(n: number | undefined, fallback: number): number {
  return Math.max(1, Math.min(n ?? fallback, 500));
}

export const handler = defineTools({
  'find-files'(input: { glob: string; limit?: number }) {
    const limit = limitOf(input.limit, 100);
    const { paths, truncated } = walk(input.glob, limit);
    return { files: paths, truncated: truncated || paths.length >= limit };
  },

  'search-text'(input: { query: string; glob?: string; caseSensitive?: boolean; limit?: number }) {
    if (input.query === '') throw new ToolError('invalid-input', 'query must not be empty');
    const limit = limitOf(input.limit, 50);
    const { paths, truncated } = walk(input.glob ?? '**', MAX_VISITED);
    const matches: (LineMatch & { path: string })[] = [];
    let skipped = 0;
    for (const path of paths) {
      if (matches.length >= limit) break;
      let bytes: Uint8Array;
      try {
        bytes = files.readBytes(`${ROOT}/${path}`, { maxBytes: MAX_FILE_BYTES });
      } catch (e) {
        if (e instanceof ToolRefusal && (e.code === 'too-large' || e.code === 'not-found')) {
          skipped++;
          continue;
        }
        throw e;
      }
      if (!looksLikeText(bytes)) continue;
      const text = new TextDecoder().decode(bytes);
      for (const m of matchLines(text, input.query, { caseSensitive: input.caseSensitive === true, limit: limit - matches.length })) matches.push({ path, ...m });
    }
    return { matches, truncated: truncated || matches.length >= limit, skippedLargeFiles: skipped };
  },
});
