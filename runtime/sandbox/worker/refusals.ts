/**
 * mpp:tool/refusal for one tool worker: why the host refused the instance's
 * latest refused WASI call.
 *
 * A WASI error code says what failed (`not-permitted`, `read-only`,
 * `HTTP-request-denied`), never why. The author SDK takes the reason right after
 * such an error to tell "outside the grant" from "links cannot be made", or
 * to show which network rule refused a fetch. A reason names the WASI code it
 * explains, so the SDK ignores one that belongs to another error. Reasons hold
 * only what the tool already knows (its own path, the host it asked for),
 * never a host path.
 *
 * One log per worker: its instances run one at a time, and the log is
 * cleared whenever a call starts (see main.ts).
 */
import type { FsErrorCode, FsReason } from './fs-errors.ts';

/** The WIT record `mpp:tool/refusal.reason`, as the jco bindings take it. */
export interface Refusal {
  readonly wasiCode: string;
  readonly code: string;
  readonly message: string;
}

const MAX_MESSAGE = 512;

export class RefusalLog {
  #last: Refusal | undefined;

  record(wasiCode: string, code: string, message: string): void {
    this.#last = { wasiCode, code, message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message };
  }

  /** For fs-errors.ts: every filesystem error replaces the last reason, with or without one of its own. */
  readonly recordFs = (wasiCode: FsErrorCode, reason: FsReason | undefined): void => {
    if (reason) this.record(wasiCode, reason.code, reason.message);
    else this.#last = undefined;
  };

  clear(): void {
    this.#last = undefined;
  }

  /** The `mpp:tool/refusal` import object. */
  imports() {
    return {
      take: (): Refusal | undefined => {
        const r = this.#last;
        this.#last = undefined;
        return r;
      },
    };
  }
}
