/**
 * The mpp:tool host interfaces (kv, log, identity, confirm) with their
 * host-error refusals turned into ToolRefusal (errors.ts).
 */
import { request } from 'mpp:tool/confirm@0.1.0';
import { caller, type CallerInfo } from 'mpp:tool/identity@0.1.0';
import * as store from 'mpp:tool/kv@0.1.0';
import { write } from 'mpp:tool/log@0.1.0';
import { hostCall } from './errors.ts';
import { decodeUtf8, encodeUtf8 } from './utf8.ts';

/** The package's persistent key-value store (needs `permissions.kv` in the manifest). */
export const kv = {
  get(key: string): Uint8Array | undefined {
    return hostCall(`kv.get ${key}`, () => store.get(key));
  },
  getText(key: string): string | undefined {
    const v = kv.get(key);
    return v === undefined ? undefined : decodeUtf8(v);
  },
  getJson<T = unknown>(key: string): T | undefined {
    const v = kv.getText(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  },
  /** Durable once it returns. */
  set(key: string, value: string | Uint8Array): void {
    const bytes = typeof value === 'string' ? encodeUtf8(value) : value;
    hostCall(`kv.set ${key}`, () => store.set(key, bytes));
  },
  setJson(key: string, value: unknown): void {
    kv.set(key, JSON.stringify(value));
  },
  /** Returns whether the key existed. */
  delete(key: string): boolean {
    return hostCall(`kv.delete ${key}`, () => store.delete(key));
  },
  /** Keys starting with `prefix`, in byte order, at most `limit` (default 1000). */
  list(prefix = '', limit = 1000): string[] {
    return hostCall('kv.list', () => store.listKeys(prefix, limit));
  },
};

/** Lines in the host's log for this package (bounded per call). */
export const log = {
  debug: (message: string) => write('debug', message),
  info: (message: string) => write('info', message),
  warn: (message: string) => write('warn', message),
  error: (message: string) => write('error', message),
};

export type Caller = CallerInfo;

/** The agent on whose behalf this call runs. */
export function identity(): Caller {
  return hostCall('identity', () => caller());
}

/**
 * Asks the human to confirm `operation` ("overwrite notes.md"); `details` is
 * shown with it. True only when approved: a denial or no answer is false.
 */
export function confirm(operation: string, details: unknown = {}): boolean {
  return hostCall('confirm', () => request(operation, JSON.stringify(details))) === 'approved';
}
