/**
 * The world's single export, made from a table of tool functions. `input`
 * and the result are JSON texts the host validates against the manifest's
 * schemas. Whatever a tool throws becomes the `err` side of the call — a
 * ToolError keeps its code, a ToolRefusal its refusal code, anything else is
 * `internal` (and logged) — because a
 * thrown value of any other shape would trap and end the instance.
 * A tool function may be async with SpiderMonkey; QuickJS tools are
 * synchronous.
 */
import { write } from 'mpp:tool/log@0.1.0';
import { ENGINE } from './engine.ts';
import { ToolError, ToolRefusal } from './errors.ts';

/** The `err` side of `call`: the world's tool-error record. */
interface ToolErrorRecord {
  code: string;
  message: string;
  details?: string;
}

// Each tool takes its own input type: the host has checked it against the schema.
export type Tools = Record<string, (input: any) => unknown>;

export interface Handler {
  call(tool: string, input: string): string | Promise<string>;
}

export function defineTools(tools: Tools): Handler {
  return {
    call(tool: string, input: string): string | Promise<string> {
      let out: unknown;
      try {
        const run = Object.hasOwn(tools, tool) ? tools[tool] : undefined;
        if (!run) throw new ToolError('unknown-tool', `This package has no tool named "${tool}".`);
        out = run(JSON.parse(input));
      } catch (e) {
        throw toRecord(e);
      }
      if (out instanceof Promise) {
        // QuickJS components run `call` synchronously: a promise cannot be awaited there.
        if (ENGINE === 'quickjs') throw toRecord(new ToolRefusal('unavailable', `"${tool}" is async; async tools need the default engine (SpiderMonkey)`));
        return out.then(
          (v) => JSON.stringify(v),
          (e: unknown) => {
            throw toRecord(e);
          },
        );
      }
      return JSON.stringify(out);
    },
  };
}

/**
 * A ToolError, or an error of the tool's own named `ToolError` with a string
 * `code`: logic modules that `node --test` imports directly cannot import
 * `mpp:sdk`, so they may declare their own.
 */
function isToolError(e: unknown): e is { code: string; message: string; details?: unknown } {
  return e instanceof ToolError || (e instanceof Error && e.name === 'ToolError' && typeof (e as { code?: unknown }).code === 'string');
}

function toRecord(e: unknown): ToolErrorRecord {
  if (isToolError(e)) {
    return e.details === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, details: JSON.stringify(e.details) };
  }
  if (e instanceof ToolRefusal) return { code: e.code, message: e.message };
  if (e instanceof SyntaxError) return { code: 'invalid-input', message: 'input is not valid JSON' };
  const message = e instanceof Error ? e.message : String(e);
  write('error', `unexpected failure: ${message}`);
  return { code: 'internal', message };
}
