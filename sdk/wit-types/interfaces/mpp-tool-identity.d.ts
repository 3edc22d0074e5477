/// <reference path="./mpp-tool-types.d.ts" />
declare module 'mpp:tool/identity@0.1.0' {
  export function caller(): CallerInfo;
  export type HostError = import('mpp:tool/types@0.1.0').HostError;
  export interface CallerInfo {
    /**
     * The agent id registered with the host, or `unverified:<label>`.
     */
    agentId: string,
    displayName: string,
    /**
     * True only when the call carried a valid signed agent credential.
     */
    verified: boolean,
  }
}
