import { write as log } from 'mpp:tool/log@0.1.0';
import { ToolError, countWords, greet } from './tools.ts';

/** Every tool in mpp.manifest.json, by name. Add yours here. */
const TOOLS: Record<string, (input: never) => unknown> = {
  greet,
  'count-words': countWords,
};

/** The `err` side of `call`: the world's tool-error record. */
interface ToolErrorRecord {
  code: string;
  message: string;
  details?: string;
}

/**
 * The world's single export. `input` and the returned string are JSON texts,
 * validated by the host against the tool's schemas. A thrown ToolErrorRecord
 * becomes `err`; anything else thrown would trap and kill the instance, so
 * every error is converted first.
 */
export const handler = {
  call(tool: string, input: string): string {
    try {
      const run = Object.hasOwn(TOOLS, tool) ? TOOLS[tool] : undefined;
      if (!run) throw new ToolError('unknown-tool', `This package has no tool named "${tool}".`);
      return JSON.stringify(run(JSON.parse(input) as never));
    } catch (e) {
      throw toToolErrorRecord(e);
    }
  },
};

function toToolErrorRecord(e: unknown): ToolErrorRecord {
  if (e instanceof ToolError) {
    return e.details === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, details: JSON.stringify(e.details) };
  }
  if (e instanceof SyntaxError) return { code: 'invalid-input', message: 'input is not valid JSON' };
  const message = e instanceof Error ? e.message : String(e);
  log('error', `unexpected failure: ${message}`);
  return { code: 'internal', message };
}
