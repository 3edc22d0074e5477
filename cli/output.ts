import { ERROR_CODES, MppError, isMppError } from '../runtime/errors.ts';

/** Exit codes, documented in README.md. */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, INTERNAL: 70 } as const;

/**
 * How a command talks to the user: human text on stdout, or one JSON document
 * with `--json`. Progress and warnings go to stderr so `--json` output stays
 * parseable.
 */
export class Output {
  readonly json: boolean;
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr) {
    this.json = json;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** The command's result: `human` is printed unless --json, where `data` is. */
  result(human: string, data: unknown): void {
    if (this.json) {
      this.stdout.write(JSON.stringify({ ok: true, ...asObject(data) }, null, 2) + '\n');
      return;
    }
    const text = human.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => printable(c));
    this.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
  }

  /** A step of a long operation; silent under --json. */
  progress(message: string): void {
    if (!this.json) this.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    this.stderr.write(`warning: ${printable(message)}\n`);
  }

  /** Prints an error and returns the exit code to use. */
  error(e: unknown): number {
    const err = toMppError(e);
    const code = err.code === 'MPP_E_USAGE' ? EXIT.USAGE : err.code === 'MPP_E_INTERNAL' ? EXIT.INTERNAL : EXIT.REFUSED;
    if (this.json) {
      this.stdout.write(JSON.stringify({ ok: false, error: err.toJSON() }, null, 2) + '\n');
    } else {
      this.stderr.write(`error ${err.code}: ${MULTI_LINE.has(err.code) ? printableLines(err.message) : printable(err.message)}\n`);
      const tool = toolErrorOf(err);
      if (tool) this.stderr.write(`  tool error ${printable(tool.code)}: ${printable(tool.message)}\n`);
      this.stderr.write(`  hint: ${printable(err.hint)}\n`);
    }
    return code;
  }
}

/**
 * Error messages can quote attacker-controlled text (a package's bytes, a
 * parser's excerpt): escape control characters so nothing can move the
 * cursor, recolour or retitle the user's terminal, or fake extra lines.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Codes whose messages list the author's own compiler errors, one per line:
 * they keep their line breaks. Every other message may quote a package's
 * text and stays on one line.
 */
const MULTI_LINE: ReadonlySet<string> = new Set(['MPP_E_BUILD_FAILED']);

/** Continuation lines indented deeper than `  hint:`, so none can pass for one of ours. */
function printableLines(text: string): string {
  return text.split(/\r?\n/).map(printable).join('\n    ');
}

/** The tool's own code and message of an MPP_E_TOOL_ERROR (text the tool chose: printed escaped, on one line). */
function toolErrorOf(err: MppError): { code: string; message: string } | undefined {
  if (err.code !== 'MPP_E_TOOL_ERROR') return undefined;
  const d = err.detail as { toolCode?: unknown; toolMessage?: unknown } | undefined;
  return typeof d?.toolCode === 'string' ? { code: d.toolCode, message: typeof d.toolMessage === 'string' ? d.toolMessage : '' } : undefined;
}

function asObject(data: unknown): Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : { value: data };
}

export function toMppError(e: unknown): MppError {
  if (isMppError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new MppError('MPP_E_INTERNAL', `${ERROR_CODES.MPP_E_INTERNAL} ${message}`, {
    hint: 'This is a bug in MPP: please report it with the command you ran.',
    cause: e,
  });
}

/** Thrown by commands for arguments commander cannot check itself. */
export function usage(message: string): MppError {
  return new MppError('MPP_E_USAGE', message, { hint: 'Run the command with --help for its options.' });
}

/** Columns padded to their widest cell (the last column is not padded, and no line ends in spaces). */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** A whole-number option in [min, max], written in plain decimal digits (not 1e3, 0x10 or 1.0). */
export function integerOption(text: string, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw usage(`${option} takes a whole number from ${min} to ${max}, not ${JSON.stringify(text)}.`);
  return n;
}
