/**
 * The redaction engine: replaces every detected value of the policy's classes
 * by `[REDACTED:<class>]` and counts replacements per class. Counts are the
 * only thing it reports; values never leave this module.
 *
 * Policy (which classes) is decided by the caller (effectiveClasses); this
 * module is the mechanism. The allow list names exact strings the user
 * granted (environment values a tool may send): a detection lying wholly
 * inside an occurrence of one is left as it is.
 */
import type { Manifest, PiiClass } from '../format/manifest.ts';
import { DETECTORS, type Detector } from './detectors.ts';

export const PII_CLASSES: readonly PiiClass[] = Object.freeze(['email', 'phone', 'payment-card', 'iban', 'national-id', 'ip-address', 'secret']);

export interface RedactionPolicy {
  readonly classes: ReadonlySet<PiiClass>;
  /** Exact strings never redacted (granted environment values, in requests to the granted hosts). */
  readonly allow?: readonly string[];
  /**
   * Exact strings always redacted, as `secret`, whatever the classes (granted
   * environment values anywhere but those requests: the user handed them to
   * the tool, not to the agent). Shorter than MIN_REDACTED_VALUE_CHARS: left
   * to the detectors, since a short value cannot be told from ordinary text.
   */
  readonly values?: readonly string[];
}

export const MIN_REDACTED_VALUE_CHARS = 8;

/** Replacements per class; classes with none are absent. */
export type RedactionCounts = Partial<Record<PiiClass, number>>;

function redactionMarker(cls: PiiClass): string {
  return `[REDACTED:${cls}]`;
}

export function isPiiClass(v: unknown): v is PiiClass {
  return typeof v === 'string' && (PII_CLASSES as readonly string[]).includes(v);
}

/**
 * The classes redacted for a package: the manifest's `privacy.redact` plus
 * the host minimum (set by the user or organisation). A union, so a package
 * can add classes but never remove one the host requires.
 */
export function effectiveClasses(manifest: Pick<Manifest, 'privacy'> | undefined, hostMinimum: Iterable<PiiClass>): ReadonlySet<PiiClass> {
  const out = new Set<PiiClass>();
  for (const c of [...hostMinimum, ...(manifest?.privacy?.redact ?? [])]) {
    if (!isPiiClass(c)) throw new TypeError(`expected a PII class (${PII_CLASSES.join(', ')}), got ${JSON.stringify(c)}`);
    out.add(c);
  }
  return out;
}

export function addCounts(into: RedactionCounts, from: RedactionCounts): RedactionCounts {
  for (const c of Object.keys(from) as PiiClass[]) into[c] = (into[c] ?? 0) + from[c]!;
  return into;
}

/** A policy prepared for scanning many strings: its detectors, its allow list. */
interface Scanner {
  readonly detectors: readonly Detector[];
  readonly allow: readonly string[];
  readonly values: readonly string[];
}

function scanner(policy: RedactionPolicy): Scanner {
  if (!policy || !(policy.classes instanceof Set)) throw new TypeError('expected a RedactionPolicy with a Set of classes');
  const allow = (policy.allow ?? []).filter((s) => typeof s === 'string' && s.length > 0);
  const values = (policy.values ?? []).filter((v) => typeof v === 'string' && v.length >= MIN_REDACTED_VALUE_CHARS);
  return { detectors: DETECTORS.filter((d) => policy.classes.has(d.cls)), allow, values };
}

const idle = (s: Scanner): boolean => s.detectors.length === 0 && s.values.length === 0;

interface Hit {
  readonly start: number;
  readonly end: number;
  readonly cls: PiiClass;
}

function allowedRanges(text: string, allow: readonly string[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const a of allow) {
    for (let i = text.indexOf(a); i !== -1; i = text.indexOf(a, i + 1)) ranges.push([i, i + a.length]);
  }
  return ranges;
}

function scan(text: string, s: Scanner): { text: string; counts: RedactionCounts } {
  const hits: Hit[] = [];
  for (const d of s.detectors) {
    if (d.needs !== undefined && !text.includes(d.needs)) continue;
    const re = d.re;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const span = d.accept ? d.accept(m) : [m.index, m.index + m[0].length];
      if (span) hits.push({ start: span[0], end: span[1], cls: d.cls });
    }
  }
  for (const v of s.values) {
    for (let i = text.indexOf(v); i !== -1; i = text.indexOf(v, i + v.length)) hits.push({ start: i, end: i + v.length, cls: 'secret' });
  }
  if (hits.length === 0) return { text, counts: {} };
  const allowed = s.allow.length > 0 ? allowedRanges(text, s.allow) : [];
  // Earliest first; at one start, secrets first (a URL password is not an
  // e-mail), then longest. A span inside a kept one (an e-mail inside a
  // private key block) is covered by it and not counted again.
  hits.sort((a, b) => a.start - b.start || Number(b.cls === 'secret') - Number(a.cls === 'secret') || b.end - a.end);
  const counts: RedactionCounts = {};
  let out = '';
  let pos = 0;
  for (const h of hits) {
    if (h.start < pos) continue;
    if (allowed.some(([a, b]) => a <= h.start && h.end <= b)) continue;
    out += text.slice(pos, h.start) + redactionMarker(h.cls);
    pos = h.end;
    counts[h.cls] = (counts[h.cls] ?? 0) + 1;
  }
  return pos === 0 ? { text, counts } : { text: out + text.slice(pos), counts };
}

/** Redacts one string. */
export function redactText(text: string, policy: RedactionPolicy): { text: string; counts: RedactionCounts } {
  if (typeof text !== 'string') throw new TypeError(`redactText: expected a string, got ${typeof text}`);
  const s = scanner(policy);
  return idle(s) ? { text, counts: {} } : scan(text, s);
}

type JsonContainer = unknown[] | Record<string, unknown>;

interface Frame {
  readonly src: JsonContainer;
  readonly dst: JsonContainer;
  readonly keys: readonly string[] | null;
  i: number;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Sets a property without ever touching a prototype (`__proto__` is an ordinary key in JSON). */
function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Redacts a parsed JSON value: every string, every object key and every
 * integer (as its decimal text, so a card number sent as a number is found)
 * at any depth. Returns a new value; the input is not changed. The walk is
 * iterative, so nesting depth is bounded by memory, not by the call stack.
 * A redacted number becomes the marker string. Two keys redacted to the same
 * marker are kept apart as `[REDACTED:email]#2`, `#3`...
 */
export function redactJson(value: unknown, policy: RedactionPolicy): { value: unknown; counts: RedactionCounts } {
  const s = scanner(policy);
  if (idle(s)) return { value, counts: {} };
  const counts: RedactionCounts = {};
  const text = (t: string): string => {
    const r = scan(t, s);
    addCounts(counts, r.counts);
    return r.text;
  };
  const onPath = new Set<object>();
  const stack: Frame[] = [];
  // Primitives are returned transformed; containers get an empty copy and a frame.
  const visit = (v: unknown): unknown => {
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'string') return text(v);
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || Math.abs(v) >= 1e21) return v;
      const t = String(v);
      const r = text(t);
      return r === t ? v : r;
    }
    if (typeof v === 'object') {
      if (onPath.has(v)) throw new TypeError('redactJson: the value contains a cycle');
      if (Array.isArray(v)) {
        const dst: unknown[] = [];
        onPath.add(v);
        stack.push({ src: v, dst, keys: null, i: 0 });
        return dst;
      }
      if (isPlainObject(v)) {
        const dst: Record<string, unknown> = {};
        onPath.add(v);
        stack.push({ src: v, dst, keys: Object.keys(v), i: 0 });
        return dst;
      }
    }
    throw new TypeError(`redactJson: expected a JSON value, got ${typeof v === 'object' ? 'a non-plain object' : typeof v}`);
  };
  const root = visit(value);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.keys === null) {
      const src = f.src as unknown[];
      if (f.i >= src.length) {
        onPath.delete(src);
        stack.pop();
        continue;
      }
      const idx = f.i++;
      (f.dst as unknown[])[idx] = visit(src[idx]);
    } else {
      if (f.i >= f.keys.length) {
        onPath.delete(f.src);
        stack.pop();
        continue;
      }
      const key = f.keys[f.i++]!;
      const dst = f.dst as Record<string, unknown>;
      // Source keys are unique, so a clash comes from a redaction: keep both.
      let newKey = text(key);
      if (Object.hasOwn(dst, newKey)) {
        let n = 2;
        while (Object.hasOwn(dst, `${newKey}#${n}`)) n++;
        newKey = `${newKey}#${n}`;
      }
      define(dst, newKey, visit((f.src as Record<string, unknown>)[key]));
    }
  }
  return { value: root, counts };
}
