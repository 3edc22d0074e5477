/**
 * A handle on the file at a path, kept open between calls by a long-running
 * host (`mpp mcp`, the editor) instead of opened per call. It is opened again
 * when the file at the path is another one (device and inode differ: a new
 * MPP home in its place). Device and inode name the file the handle reads;
 * they never vouch for its bytes (spec/sandbox.md §5).
 */
import { statSync } from 'node:fs';

export class HeldHandle<T extends { close(): void }> {
  #held: { readonly path: string; readonly handle: T; readonly dev: bigint; readonly ino: bigint } | undefined;

  /**
   * The handle on the file at `path`, from `open` when none is held for that
   * very file. Without `create`, undefined when there is no file (nothing is
   * made); with it, `open` is expected to create the file. A path that cannot
   * be looked at is left to `open`, whose refusal is coded.
   */
  get(path: string, open: () => T, create: boolean): T | undefined {
    const st = identity(path);
    const held = this.#held;
    if (held && st && held.path === path && held.dev === st.dev && held.ino === st.ino) return held.handle;
    this.close();
    if (st === undefined && !create) return undefined;
    const handle = open();
    const opened = st ?? identity(path);
    // A handle whose file cannot be named matches no file: the next get closes it and opens again.
    this.#held = { path, handle, dev: opened?.dev ?? -1n, ino: opened?.ino ?? -1n };
    return handle;
  }

  close(): void {
    this.#held?.handle.close();
    this.#held = undefined;
  }
}

/** Device and inode of the file at `path`; undefined when there is none, null when it cannot be looked at. */
function identity(path: string): { dev: bigint; ino: bigint } | undefined | null {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return null;
  }
}
