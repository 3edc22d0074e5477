/**
 * Every host file descriptor a tool instance holds, so that the instance can
 * be held to a quota and retired with nothing left open (closeAll).
 *
 * When the worker itself ends (time limit, memory, crash, cancellation), Node
 * closes every fd the worker opened with `fs.open`/`fs.openSync` and did not
 * close (the Worker option `trackUnmanagedFds`, which the host sets). Nobody
 * else may close them: fd numbers are process-wide and reused at once, so a
 * second close from the parent after the worker's exit closed whatever file
 * the host, or another worker, had opened under that number in between — the
 * host's install index (SQLite: "disk I/O error") or another worker's epoll
 * descriptor (libuv aborted the process in uv__io_poll).
 *
 * Ordering keeps the worker's own closes safe when termination lands between
 * two statements: an fd is recorded only after `open` returned it, and
 * unrecorded before `close`; only recorded fds are closed, each exactly once.
 */
import { closeSync, openSync } from 'node:fs';
import { FsError } from './fs-errors.ts';

export class FdRegistry {
  readonly #open = new Set<number>();
  readonly #max: number;

  constructor(maxOpen: number) {
    this.#max = maxOpen;
  }

  /** Opens `path`; refuses with `quota` when the instance holds too many fds. */
  open(path: string, flags: number, mode?: number): number {
    if (this.#open.size >= this.#max) throw new FsError('quota');
    const fd = openSync(path, flags, mode);
    this.#open.add(fd);
    return fd;
  }

  /** Closes every fd still recorded: an instance is retired, nothing of it may outlive it. */
  closeAll(): void {
    for (const fd of [...this.#open]) this.close(fd);
  }

  /**
   * Closes `fd` if this registry holds it. An fd number it does not hold
   * (closed already, by closeAll or twice) is never closed: that number may
   * by now be another thread's file, socket or event-loop descriptor.
   */
  close(fd: number): void {
    if (!this.#open.delete(fd)) return;
    try {
      closeSync(fd);
    } catch {
      // Already closed by the kernel's view: nothing to release.
    }
  }
}
