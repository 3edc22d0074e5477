/**
 * The tool's logic: plain functions, no host imports, so `node --test` can
 * run them directly. src/index.ts wires them to the MPP host through the
 * author SDK (`mpp:sdk`).
 */

export type Language = 'en' | 'fr' | 'es';

const HELLO: Record<Language, string> = { en: 'Hello', fr: 'Bonjour', es: 'Hola' };

export function greeting(name: string, language: Language = 'en'): string {
  return `${HELLO[language]}, ${name}!`;
}

export interface TextStats {
  lines: number;
  words: number;
  longestLine: number;
}

/** Counts lines (a last line without a newline counts), words and the longest line. */
export function textStats(text: string): TextStats {
  if (text === '') return { lines: 0, words: 0, longestLine: 0 };
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const words = text.split(/\s+/).filter((w) => w !== '').length;
  return { lines: lines.length, words, longestLine: Math.max(...lines.map((l) => [...l].length)) };
}
