/**
 * Types of the host interfaces of the mpp:tool@0.1.0 world (spec/wit/mpp.wit)
 * as a JS tool imports them. A host refusal is thrown as an Error whose
 * `payload` is a HostError; it never traps the tool.
 */

declare module 'mpp:tool/types@0.1.0' {
  export type HostError =
    | { tag: 'not-available'; val: string }
    | { tag: 'denied'; val: string }
    | { tag: 'quota-exceeded'; val: string }
    | { tag: 'invalid-argument'; val: string }
    | { tag: 'internal'; val: string };
}

declare module 'mpp:tool/kv@0.1.0' {
  export function get(key: string): Uint8Array | undefined;
  export function set(key: string, value: Uint8Array): void;
  /** Returns whether the key existed. Import it as `import { delete as remove } from ...`. */
  function remove(key: string): boolean;
  export { remove as delete };
  export function listKeys(prefix: string, limit: number): string[];
}

declare module 'mpp:tool/log@0.1.0' {
  export type Level = 'debug' | 'info' | 'warn' | 'error';
  export function write(level: Level, message: string): void;
}

declare module 'mpp:tool/identity@0.1.0' {
  export interface Caller {
    agentId: string;
    displayName: string;
    verified: boolean;
  }
  export function caller(): Caller;
}

declare module 'mpp:tool/confirm@0.1.0' {
  export type Answer = 'approved' | 'denied' | 'timed-out';
  export function request(operation: string, details: string): Answer;
}
