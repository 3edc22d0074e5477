/// <reference path="./mpp-tool-types.d.ts" />
declare module 'mpp:tool/kv@0.1.0' {
  export function get(key: string): Uint8Array | undefined;
  /**
   * Durable once it returns `ok`.
   */
  export function set(key: string, value: Uint8Array): void;
  /**
   * Returns whether the key existed.
   */
  export { _delete as delete };
  function _delete(key: string): boolean;
  /**
   * Keys starting with `prefix`, in byte order, at most `limit` of them.
   */
  export function listKeys(prefix: string, limit: number): Array<string>;
  export type HostError = import('mpp:tool/types@0.1.0').HostError;
}
