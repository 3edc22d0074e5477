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
