/**
 * How an audit record is hashed (audit.md section 3), exactly:
 *
 *   hash = hex(SHA-256( "mpp-audit-record-v1\n" || canonical({event, prev, seq, time, type}) ))
 *
 * `canonical` is RFC 8785 (JCS) restricted to what audit events hold:
 * objects with keys sorted by UTF-16 code units, no whitespace, strings as
 * JSON.stringify writes them, and integers only (no floats, whose text
 * differs between languages). The prefix keeps an audit hash from ever
 * equalling a hash MPP computes over anything else.
 */
import { sha256Hex } from '../hash.ts';

export const RECORD_DOMAIN = 'mpp-audit-record-v1\n';

/** The `prev` of record 1. */
export const GENESIS_PREV = '0'.repeat(64);

/** The hashed fields of a record, with the event as a parsed value. */
export interface HashedFields {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly event: unknown;
  readonly prev: string;
}

/**
 * Canonical JSON text of `value` (hand-written: JCS libraries exist, but
 * for integers, strings, booleans, null, arrays and plain objects this is
 * the whole algorithm). Properties whose value is `undefined` are left out,
 * as JSON.stringify does; anything else that JSON cannot hold exactly throws.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`only safe integers can be canonicalized, got ${value}`);
      return String(value === 0 ? 0 : value); // -0 is written 0
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new TypeError('only plain objects can be canonicalized');
      const members = Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} cannot be canonicalized`);
  }
}

export function recordHash(fields: HashedFields): string {
  const { seq, time, type, event, prev } = fields;
  return sha256Hex(RECORD_DOMAIN + canonicalJson({ event, prev, seq, time, type }));
}
