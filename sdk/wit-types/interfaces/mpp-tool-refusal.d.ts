declare module 'mpp:tool/refusal@0.1.0' {
  /**
   * The reason for the running call's latest refused request, if the host
   * gave one; the host then forgets it, so a reason is never read twice
   * as the explanation of two errors.
   */
  export function take(): Reason | undefined;
  export interface Reason {
    /**
     * The WASI error code or variant the refused request returned, so a
     * tool can check the reason belongs to the error it holds.
     */
    wasiCode: string,
    /**
     * Stable: `outside-grant`, `read-only`, `links-refused`,
     * `network-denied`. New codes may be added; treat unknown ones as
     * a refusal without further meaning.
     */
    code: string,
    /**
     * One sentence for humans. Never contains a host path.
     */
    message: string,
  }
}
