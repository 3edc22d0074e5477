/**
 * A synchronous shared/exclusive lock between threads and processes, over a
 * directory of entry files: what serialises the portable strategy's walks
 * with other tools' renames (the two-tool race), in the CLI, `mpp mcp` and
 * the editor alike (they share the MPP home, hence the directory).
 *
 * Each holder creates its own entry, `<s|x>.<ticket>.<pid>.<start>.<thread>.<nonce>`
 * (O_EXCL; everything is in the name, so a half-written entry cannot exist),
 * then lists the directory. It enters only when a listing *begun after its
 * entry existed* shows no conflicting entry. Two conflicting holders cannot
 * both enter: the second entry was created after the first listing began, so
 * the second listing, begun later still, sees the first entry.
 * - shared seeing exclusive: withdraws its entry and waits (writers go first);
 * - exclusive seeing shared, or a later exclusive: keeps its entry and waits;
 * - exclusive seeing an earlier exclusive (ticket, then name): withdraws.
 * No cycle of waits with entries kept exists, so nothing deadlocks.
 *
 * An entry is never removed while its holder lives. Entries of dead holders
 * are removed by whoever finds them: the process is gone (process.kill(pid, 0)
 * fails with ESRCH, or the start identity differs), or the host removed the
 * entries of a worker thread it saw exit (`removeEntriesOf`). Names are
 * unique, so removing one can never remove another holder's entry. A wait
 * longer than WAIT_LIMIT_MS refuses the operation (`busy`): a pid reused by
 * an unrelated process fails closed. Held per file operation only.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pid as ownPid } from 'node:process';
import { threadId } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { FsError } from './fs-errors.ts';

export type LockMode = 'shared' | 'exclusive';

export const WAIT_LIMIT_MS = 30_000;
const ENTRY = /^([sx])\.(\d{15})\.(\d+)\.([0-9a-z-]+)\.(\d+)\.([0-9a-f]{16})$/u;

interface Entry {
  readonly name: string;
  readonly mode: LockMode;
  readonly ticket: string;
  readonly pid: number;
  readonly start: string;
  readonly thread: number;
}

function parse(name: string): Entry | null {
  const m = ENTRY.exec(name);
  if (!m) return null;
  return { name, mode: m[1] === 'x' ? 'exclusive' : 'shared', ticket: m[2]!, pid: Number(m[3]), start: m[4]!, thread: Number(m[5]) };
}

function before(a: Entry, b: Entry): boolean {
  return a.ticket < b.ticket || (a.ticket === b.ticket && a.name < b.name);
}

export interface LockOptions {
  /** The start identity of a pid (null: unknown, then liveness is the pid alone). */
  readonly processStart: (pid: number) => string | null;
  /** Longest wait before the operation is refused with `busy` (default WAIT_LIMIT_MS). */
  readonly waitLimitMs?: number;
}

export class FsLock {
  readonly #dir: string;
  readonly #opts: LockOptions;
  readonly #self: string;
  readonly #start: string;
  readonly #sleeper = new Int32Array(new SharedArrayBuffer(4));
  #ready = false;

  constructor(dir: string, opts: LockOptions) {
    this.#dir = dir;
    this.#opts = opts;
    this.#start = opts.processStart(ownPid) ?? '-';
    this.#self = `${ownPid}.${this.#start}.${threadId}`;
  }

  /** Runs `op` holding the lock in `mode`; the lock is released when `op` returns or throws. */
  run<T>(mode: LockMode, op: () => T): T {
    const entry = this.#acquire(mode);
    try {
      return op();
    } finally {
      this.#remove(entry);
    }
  }

  #ensureDir(): void {
    if (this.#ready) return;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(this.#dir);
    // A link or a folder of another user here would let others drop or fake entries.
    if (!st.isDirectory() || (typeof process.getuid === 'function' && st.uid !== process.getuid())) throw new FsError('access');
    this.#ready = true;
  }

  #create(mode: LockMode): Entry {
    const ticket = String(Date.now()).padStart(15, '0');
    const name = `${mode === 'exclusive' ? 'x' : 's'}.${ticket}.${this.#self}.${randomBytes(8).toString('hex')}`;
    for (let attempt = 0; ; attempt++) {
      this.#ensureDir();
      try {
        closeSync(openSync(join(this.#dir, name), 'wx', 0o600));
        return parse(name)!;
      } catch (e) {
        // The directory was removed (a temp cleaner): make it again, once.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && attempt === 0) {
          this.#ready = false;
          continue;
        }
        throw e;
      }
    }
  }

  #remove(entry: Entry): void {
    try {
      unlinkSync(join(this.#dir, entry.name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  #alive(e: Entry): boolean {
    // Threads of this process: the host removes a dead worker's entries. A
    // different start identity is an earlier process that had this pid.
    if (e.pid === ownPid) return e.start === this.#start || e.start === '-' || this.#start === '-';
    try {
      process.kill(e.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    }
    if (e.start === '-') return true;
    const start = this.#opts.processStart(e.pid);
    return start === null || start === e.start;
  }

  /** The other live entries; dead holders' entries are removed on the way. */
  #others(own: Entry | null): Entry[] {
    const out: Entry[] = [];
    for (const name of readdirSync(this.#dir)) {
      if (own && name === own.name) continue;
      const e = parse(name);
      if (!e) continue;
      if (this.#alive(e)) out.push(e);
      else this.#remove(e);
    }
    return out;
  }

  #acquire(mode: LockMode): Entry {
    const deadline = Date.now() + (this.#opts.waitLimitMs ?? WAIT_LIMIT_MS);
    let pause = 0.02;
    const wait = () => {
      if (Date.now() > deadline) throw new FsError('busy');
      Atomics.wait(this.#sleeper, 0, 0, pause);
      pause = Math.min(pause * 2, 2);
    };
    for (;;) {
      let own: Entry | null = this.#create(mode);
      for (;;) {
        let others: Entry[];
        try {
          others = this.#others(own);
        } catch (e) {
          this.#remove(own);
          throw e;
        }
        const writers = others.filter((o) => o.mode === 'exclusive');
        const withdraw = mode === 'shared' ? writers.length > 0 : writers.some((w) => before(w, own!));
        if (withdraw) {
          this.#remove(own);
          own = null;
          break;
        }
        if (others.length === 0 || mode === 'shared') return own;
        try {
          wait();
        } catch (e) {
          this.#remove(own);
          throw e;
        }
      }
      // Withdrawn: wait without an entry until no writer is listed, then queue again.
      do wait();
      while (this.#others(null).some((o) => o.mode === 'exclusive'));
    }
  }
}

/** Host side, after a worker thread exited: removes the entries it left (it can hold no more). */
export function removeEntriesOf(dir: string, thread: number): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const e = parse(name);
    if (!e || e.pid !== ownPid || e.thread !== thread) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // Gone already.
    }
  }
  return removed;
}
