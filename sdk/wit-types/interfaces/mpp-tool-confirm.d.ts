/// <reference path="./mpp-tool-types.d.ts" />
declare module 'mpp:tool/confirm@0.1.0' {
  /**
   * `operation` is a short verb phrase ("delete 3 files"); `details` is
   * JSON text shown to the human.
   */
  export function request(operation: string, details: string): Answer;
  export type HostError = import('mpp:tool/types@0.1.0').HostError;
  /**
   * # Variants
   * 
   * ## `"approved"`
   * 
   * ## `"denied"`
   * 
   * ## `"timed-out"`
   */
  export type Answer = 'approved' | 'denied' | 'timed-out';
}
