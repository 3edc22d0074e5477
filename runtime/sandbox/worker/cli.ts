/**
 * wasi:cli, wasi:random and wasi:clocks for one tool instance.
 *
 * - environment: only the granted variables; no arguments; no cwd. (The
 *   shim's default passes the host's whole environment.)
 * - exit: ends the *call*, never the host (the shim calls process.exit()).
 * - stdin is empty; stdout/stderr are captured into a bounded buffer and
 *   handed to the host log after the call (the shim writes to the host's
 *   stdout).
 * - no terminal.
 * - random: a request larger than the cap traps instead of making the host
 *   allocate it.
 */
import { clocks as shimClocks, cli as shimCli, random as shimRandom } from '@bytecodealliance/preview2-shim';
import { CaptureOutputStream, EmptyInputStream } from './streams.ts';

/** Thrown by `exit`: unwinds the guest and ends the call; the instance is then discarded. */
export class ToolExit extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`the tool called exit(${status})`);
    this.name = 'ToolExit';
    this.status = status;
  }
}

/** Bounded byte sink for one stream; keeps the first `limit` bytes of a call. */
export class Capture {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #dropped = 0;
  readonly #limit: number;
  constructor(limit: number) {
    this.#limit = limit;
  }
  push(bytes: Uint8Array): void {
    const room = this.#limit - this.#size;
    if (room <= 0) {
      this.#dropped += bytes.byteLength;
      return;
    }
    const keep = bytes.byteLength <= room ? bytes : bytes.subarray(0, room);
    this.#chunks.push(Uint8Array.from(keep));
    this.#size += keep.byteLength;
    this.#dropped += bytes.byteLength - keep.byteLength;
  }
  /** Whether the captured text so far contains `text` (nothing is taken). */
  includes(text: string): boolean {
    return Buffer.concat(this.#chunks).includes(text);
  }
  /** Returns and clears what was captured. */
  take(): { text: string; dropped: number } | null {
    if (this.#size === 0 && this.#dropped === 0) return null;
    const text = Buffer.concat(this.#chunks).toString('utf8');
    const dropped = this.#dropped;
    this.#chunks = [];
    this.#size = 0;
    this.#dropped = 0;
    return { text, dropped };
  }
}

export interface CliContext {
  readonly env: Readonly<Record<string, string>>;
  readonly stdout: Capture;
  readonly stderr: Capture;
  /** Largest single random-bytes request served. */
  readonly maxRandomBytes: number;
}

export function createCliImports(ctx: CliContext) {
  const envEntries = Object.freeze(Object.entries(ctx.env).map(([k, v]) => Object.freeze([k, v] as [string, string])));
  const stdin = new EmptyInputStream();
  const stdout = new CaptureOutputStream((b) => ctx.stdout.push(b));
  const stderr = new CaptureOutputStream((b) => ctx.stderr.push(b));
  const exitWith = (status: number): never => {
    throw new ToolExit(status);
  };
  const randomBytes = (len: bigint | number): Uint8Array => {
    if (BigInt(len) > BigInt(ctx.maxRandomBytes)) throw new Error(`random bytes request of ${len} exceeds ${ctx.maxRandomBytes}`);
    return shimRandom.random.getRandomBytes(BigInt(len)) as Uint8Array;
  };
  return {
    environment: {
      getEnvironment: () => envEntries.map((e) => [e[0], e[1]]),
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    exit: {
      exit: (status: { tag: 'ok' | 'err' }) => exitWith(status?.tag === 'ok' ? 0 : 1),
      exitWithCode: (code: number) => exitWith(code),
    },
    stdin: { getStdin: () => stdin },
    stdout: { getStdout: () => stdout },
    stderr: { getStderr: () => stderr },
    terminalInput: shimCli.terminalInput,
    terminalOutput: shimCli.terminalOutput,
    terminalStdin: { getTerminalStdin: () => undefined },
    terminalStdout: { getTerminalStdout: () => undefined },
    terminalStderr: { getTerminalStderr: () => undefined },
    random: {
      random: { getRandomBytes: randomBytes, getRandomU64: shimRandom.random.getRandomU64 },
      insecure: { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: shimRandom.insecure.getInsecureRandomU64 },
      insecureSeed: shimRandom.insecureSeed,
    },
    clocks: shimClocks,
  };
}
