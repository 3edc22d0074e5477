/**
 * The search logic, apart from the host: glob patterns and line matching.
 * Plain functions, tested directly by `node --test`.
 */

/**
 * A glob as a RegExp over `/`-separated relative paths: `*` is any run of
 * characters within one segment, `**` any number of whole segments, `?` one
 * character, `{a,b}` either; everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob.slice(i + 1, end).split(',').map(escape).join('|')})`;
        i = end;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

function escape(s: string): string {
  return s.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}

export interface LineMatch {
  line: number;
  text: string;
}

/** Lines containing `query` (1-based numbers), each cut to `maxLineChars`, at most `limit`. */
export function matchLines(text: string, query: string, opts: { caseSensitive?: boolean; limit: number; maxLineChars?: number }): LineMatch[] {
  const max = opts.maxLineChars ?? 200;
  const needle = opts.caseSensitive ? query : query.toLowerCase();
  const out: LineMatch[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && out.length < opts.limit; i++) {
    const line = lines[i]!;
    if ((opts.caseSensitive ? line : line.toLowerCase()).includes(needle)) out.push({ line: i + 1, text: line.length > max ? `${line.slice(0, max)}…` : line });
  }
  return out;
}

/** Whether bytes look like text: no NUL in the first 8 KiB. */
export function looksLikeText(bytes: Uint8Array): boolean {
  return !bytes.subarray(0, 8192).includes(0);
}
