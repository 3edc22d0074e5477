declare module 'mpp:tool/types@0.1.0' {
  /**
   * An error a tool returns from a call. `code` is the tool's own stable
   * identifier (for example `not-found`); `details` is optional JSON text.
   */
  export interface ToolError {
    code: string,
    message: string,
    details?: string,
  }
  /**
   * Why a host import refused or failed.
   */
  export type HostError = HostErrorNotAvailable | HostErrorDenied | HostErrorQuotaExceeded | HostErrorInvalidArgument | HostErrorInternal;
  /**
   * The host does not offer this capability (yet, or in this context).
   */
  export interface HostErrorNotAvailable {
    tag: 'not-available',
    val: string,
  }
  /**
   * Policy refused: not granted, agent not allowed, user denied.
   */
  export interface HostErrorDenied {
    tag: 'denied',
    val: string,
  }
  /**
   * A quota from the manifest would be exceeded.
   */
  export interface HostErrorQuotaExceeded {
    tag: 'quota-exceeded',
    val: string,
  }
  /**
   * An argument is malformed (bad key, oversized value).
   */
  export interface HostErrorInvalidArgument {
    tag: 'invalid-argument',
    val: string,
  }
  /**
   * The host failed; the call may be retried.
   */
  export interface HostErrorInternal {
    tag: 'internal',
    val: string,
  }
}
