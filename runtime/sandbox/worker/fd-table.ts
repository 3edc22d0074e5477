/**
 * Every host file descriptor a tool instance holds, recorded in memory the
 * parent thread can read.
 *
 * Why: fds are process-wide. `worker.terminate()` (timeout, memory, crash)
 * does not close fds opened with `fs.openSync`; without this table a tool
 * could leak fds until the host runs out. After the worker has exited, the
 * parent closes whatever is still recorded (see `closeLeakedFds`).
 *
 * Ordering keeps this safe when termination lands between two statements:
 * an fd is recorded only after `open` returned it, and unrecorded before
 * `close`; the worst case is one leaked fd, never closing an fd number that
 * someone else has reused. Only recorded fds are ever closed (by the worker
 * or, after it exited, by the parent), each exactly once.
 */
import { closeSync, openSync } from 'node:fs';
import { FsError } from './fs-errors.ts';

export const FD_TABLE_SLOTS = 1024;

export function createFdTableBuffer(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(FD_TABLE_SLOTS * 4);
  new Int32Array(sab).fill(-1);
  return sab;
}

export class FdRegistry {
  readonly #slots: Int32Array;
  readonly #max: number;
  #count = 0;

  constructor(buffer: SharedArrayBuffer, maxOpen: number) {
    this.#slots = new Int32Array(buffer);
    this.#max = Math.min(maxOpen, this.#slots.length);
  }

  /** Opens `path`; refuses with `quota` when the instance holds too many fds. */
  open(path: string, flags: number, mode?: number): number {
    if (this.#count >= this.#max) throw new FsError('quota');
    const fd = openSync(path, flags, mode);
    const slot = this.#slots.indexOf(-1);
    if (slot < 0) {
      closeSync(fd);
      throw new FsError('quota');
    }
    Atomics.store(this.#slots, slot, fd);
    this.#count++;
    return fd;
  }

  /** Closes every fd still recorded: an instance is retired, nothing of it may outlive it. */
  closeAll(): void {
    for (let slot = 0; slot < this.#slots.length; slot++) {
      const fd = Atomics.exchange(this.#slots, slot, -1);
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        // Already closed: nothing to release.
      }
    }
    this.#count = 0;
  }

  /**
   * Closes `fd` if this registry holds it. An fd number it does not hold
   * (closed already, by closeAll or twice) is never closed: fd numbers are
   * process-wide and reused at once, so that number may by now be another
   * thread's file, socket or event-loop descriptor.
   */
  close(fd: number): void {
    const slot = this.#slots.indexOf(fd);
    if (slot < 0) return;
    Atomics.store(this.#slots, slot, -1);
    this.#count--;
    try {
      closeSync(fd);
    } catch {
      // Already closed by the kernel's view: nothing to release.
    }
  }
}

/** Parent side, after the worker exited: closes the fds it left open. */
export function closeLeakedFds(buffer: SharedArrayBuffer): number {
  const slots = new Int32Array(buffer);
  let closed = 0;
  for (let i = 0; i < slots.length; i++) {
    const fd = Atomics.exchange(slots, i, -1);
    if (fd >= 0) {
      try {
        closeSync(fd);
        closed++;
      } catch {
        // Not open any more.
      }
    }
  }
  return closed;
}
