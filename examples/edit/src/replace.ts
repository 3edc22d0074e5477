/** The editing logic, apart from the host: plain functions, tested directly by `node --test`. */

/** A failure the caller should see (the SDK returns it as the call's `err`, code kept). */
export class EditError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    // The SDK's defineTools passes on errors named ToolError with a string code.
    this.name = 'ToolError';
    this.code = code;
  }
}

/** How many times `find` occurs in `text` (non-overlapping). */
export function countOccurrences(text: string, find: string): number {
  let n = 0;
  for (let at = text.indexOf(find); at >= 0; at = text.indexOf(find, at + find.length)) n++;
  return n;
}

/**
 * `text` with every `find` replaced by `replace`. Refuses when `find` is
 * absent, or occurs a number of times other than `expected` (when given):
 * an agent states what it means to change, and a mismatch changes nothing.
 */
export function replaceAll(text: string, find: string, replace: string, expected?: number): { text: string; replaced: number } {
  if (find === '') throw new EditError('invalid-input', 'find must not be empty');
  const count = countOccurrences(text, find);
  if (count === 0) throw new EditError('text-not-found', 'the text to replace does not occur in the file');
  if (expected !== undefined && count !== expected) throw new EditError('count-mismatch', `the text occurs ${count} times, not ${expected}; nothing was changed`);
  return { text: text.split(find).join(replace), replaced: count };
}
