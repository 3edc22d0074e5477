/**
 * Host-side wasi:io streams that do not go through the shim's IO worker:
 * file streams over an fd this worker holds, captured stdout/stderr, and an
 * empty stdin.
 *
 * They subclass the shim's InputStream/OutputStream because the bindings
 * check `instanceof` against the classes passed as `wasi:io/streams`, and
 * the shim's HTTP streams must keep working alongside. Every method of the
 * base class is overridden, so no call reaches the base class's IO-worker
 * path with an undefined stream id.
 *
 * Reads and write budgets are bounded per call so a tool cannot make the host
 * allocate more than CHUNK bytes at once (its own memory is capped; ours is not).
 */
import { fstatSync, readSync, writeSync } from 'node:fs';
import { error as ioError, streams } from '@bytecodealliance/preview2-shim/io';
import { monotonicClock } from '@bytecodealliance/preview2-shim/clocks';
import { toFsError } from './fs-errors.ts';

// The shim's typings declare these constructors private (guests never
// construct streams); at runtime they are plain classes and may be extended.
type StreamBase = new () => object;
export const InputStream = streams.InputStream as unknown as StreamBase;
export const OutputStream = streams.OutputStream as unknown as StreamBase;
const IoError = ioError.Error as unknown as new (payload: string) => Error;
export const CHUNK = 1024 * 1024;
const symbolDispose: symbol = Symbol.dispose ?? Symbol.for('dispose');

type Pollable = ReturnType<typeof monotonicClock.subscribeDuration>;

/** A pollable that is ready at once (file and capture streams never block). */
export function readyPollable(): Pollable {
  return monotonicClock.subscribeDuration(0n);
}

function streamFailure(e: unknown): { tag: 'last-operation-failed'; val: unknown } {
  return { tag: 'last-operation-failed', val: new IoError(toFsError(e).payload) };
}

const CLOSED = { tag: 'closed' } as const;

/** An fd shared by a descriptor and its streams; closed when the last user lets go. */
export interface SharedFd {
  readonly fd: number;
  retain(): void;
  release(): void;
}

function clampLen(len: bigint | number): number {
  const n = typeof len === 'bigint' ? (len > BigInt(CHUNK) ? CHUNK : Number(len)) : Math.min(len, CHUNK);
  return Math.max(0, n);
}

export class FileInputStream extends InputStream {
  #file: SharedFd;
  #pos: number;
  #open = true;

  constructor(file: SharedFd, offset: bigint) {
    super();
    file.retain();
    this.#file = file;
    this.#pos = Number(offset);
  }

  read(len: bigint): Uint8Array {
    if (!this.#open) throw CLOSED;
    const n = clampLen(len);
    if (n === 0) return new Uint8Array(0);
    const buf = Buffer.alloc(n);
    let got: number;
    try {
      got = readSync(this.#file.fd, buf, 0, n, this.#pos);
    } catch (e) {
      throw streamFailure(e);
    }
    if (got === 0) throw CLOSED;
    this.#pos += got;
    return new Uint8Array(buf.buffer, buf.byteOffset, got);
  }

  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }

  skip(len: bigint): bigint {
    if (!this.#open) throw CLOSED;
    let size: number;
    try {
      size = fstatSync(this.#file.fd).size;
    } catch (e) {
      throw streamFailure(e);
    }
    if (this.#pos >= size) throw CLOSED;
    const n = Math.min(Number(len), size - this.#pos);
    this.#pos += n;
    return BigInt(n);
  }

  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }

  subscribe(): Pollable {
    return readyPollable();
  }

  [symbolDispose](): void {
    if (this.#open) {
      this.#open = false;
      this.#file.release();
    }
  }
}

/**
 * An output stream that never blocks: every way of writing comes down to
 * `put`, which subclasses implement (and `checkWrite`/`flush` where a closed
 * stream must refuse).
 */
abstract class PutOutputStream extends OutputStream {
  protected abstract put(buf: Uint8Array): void;

  checkWrite(): bigint {
    return BigInt(CHUNK);
  }
  write(buf: Uint8Array): void {
    this.put(buf);
  }
  blockingWriteAndFlush(buf: Uint8Array): void {
    this.put(buf);
  }
  flush(): void {}
  blockingFlush(): void {
    this.flush();
  }
  writeZeroes(len: bigint): void {
    this.put(new Uint8Array(clampLen(len)));
  }
  blockingWriteZeroesAndFlush(len: bigint): void {
    this.put(new Uint8Array(clampLen(len)));
  }
  splice(src: { read(len: bigint): Uint8Array }, len: bigint): bigint {
    const data = src.read(BigInt(clampLen(len)));
    this.put(data);
    return BigInt(data.byteLength);
  }
  blockingSplice(src: { read(len: bigint): Uint8Array }, len: bigint): bigint {
    return this.splice(src, len);
  }
  subscribe(): Pollable {
    return readyPollable();
  }
  [symbolDispose](): void {}
}

export class FileOutputStream extends PutOutputStream {
  #file: SharedFd;
  /** null: append (write at the current end of file). */
  #pos: number | null;
  #open = true;

  constructor(file: SharedFd, offset: bigint | null) {
    super();
    file.retain();
    this.#file = file;
    this.#pos = offset === null ? null : Number(offset);
  }

  protected put(buf: Uint8Array): void {
    if (!this.#open) throw CLOSED;
    if (buf.byteLength > CHUNK) throw streamFailure({ code: 'EFBIG' });
    try {
      let done = 0;
      while (done < buf.byteLength) {
        const at = this.#pos ?? fstatSync(this.#file.fd).size;
        const n = writeSync(this.#file.fd, buf, done, buf.byteLength - done, at);
        done += n;
        if (this.#pos !== null) this.#pos += n;
      }
    } catch (e) {
      throw streamFailure(e);
    }
  }

  override checkWrite(): bigint {
    if (!this.#open) throw CLOSED;
    return BigInt(CHUNK);
  }
  override flush(): void {
    if (!this.#open) throw CLOSED;
  }
  [symbolDispose](): void {
    if (this.#open) {
      this.#open = false;
      this.#file.release();
    }
  }
}

/**
 * stdout/stderr: bytes go to `sink`, which keeps what fits its budget and
 * drops the rest. The tool always sees success, so a noisy tool is not
 * broken by the cap, and the host never buffers more than the budget.
 */
export class CaptureOutputStream extends PutOutputStream {
  #sink: (bytes: Uint8Array) => void;

  constructor(sink: (bytes: Uint8Array) => void) {
    super();
    this.#sink = sink;
  }
  protected put(buf: Uint8Array): void {
    this.#sink(buf);
  }
}

/** stdin: always at end of stream (tools get their input as the call argument). */
export class EmptyInputStream extends InputStream {
  read(): Uint8Array {
    throw CLOSED;
  }
  blockingRead(): Uint8Array {
    throw CLOSED;
  }
  skip(): bigint {
    throw CLOSED;
  }
  blockingSkip(): bigint {
    throw CLOSED;
  }
  subscribe(): Pollable {
    return readyPollable();
  }
  [symbolDispose](): void {}
}
