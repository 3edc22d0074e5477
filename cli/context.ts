import type { Command } from 'commander';
import { Output } from './output.ts';

/** What every command gets: its output channel and whether a human can be asked. */
export interface CliContext {
  out: Output;
  /** True when stdin and stderr are terminals, so a question can be asked. */
  interactive: boolean;
  /** Reads one line of an answer from the user; only call when `interactive`. Rejects when `signal` aborts. */
  ask(question: string, signal?: AbortSignal): Promise<string>;
}

/** A command module: one file per command under cli/commands/. */
export type RegisterCommand = (program: Command, run: CommandRunner) => void;

/** Wraps an action so that errors become coded output and an exit code. */
export type CommandRunner = (action: (ctx: CliContext) => Promise<void>, opts: { json?: boolean }) => Promise<void>;
