/**
 * The tool's logic: plain functions, no host imports, so `node --test` can
 * run them directly. src/index.ts wires them to the MPP host.
 */

/** A failure the caller should see: becomes the `err` side of `call`'s result. */
export class ToolError extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ToolError';
    this.code = code;
    this.details = details;
  }
}

export type Language = 'en' | 'fr' | 'es';

export interface GreetInput {
  name: string;
  language?: Language;
}

export interface GreetOutput {
  greeting: string;
}

const HELLO: Record<Language, string> = { en: 'Hello', fr: 'Bonjour', es: 'Hola' };

export function greet(input: GreetInput): GreetOutput {
  // The host validates input against the manifest's schema; blank names still pass it.
  const name = input.name.trim();
  if (name === '') throw new ToolError('invalid-input', 'name must not be blank');
  return { greeting: `${HELLO[input.language ?? 'en']}, ${name}!` };
}

export interface CountWordsInput {
  text: string;
  top?: number;
}

export interface CountWordsOutput {
  words: number;
  lines: number;
  /** Unicode code points, not UTF-16 units. */
  characters: number;
  mostFrequent: { word: string; count: number }[];
}

// Letters, digits and inner apostrophes/hyphens. Spelled out without \p{L}: the SpiderMonkey engine has no Unicode property escapes.
const WORD = /[0-9A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]+(?:['’-][0-9A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]+)*/g;

export function countWords(input: CountWordsInput): CountWordsOutput {
  const words = input.text.match(WORD) ?? [];
  const counts = new Map<string, number>();
  for (const w of words) {
    const key = w.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const mostFrequent = [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, input.top ?? 3)
    .map(([word, count]) => ({ word, count }));
  return {
    words: words.length,
    lines: input.text === '' ? 0 : input.text.split(/\r\n|\r|\n/).length,
    characters: [...input.text].length,
    mostFrequent,
  };
}
