/**
 * The capability grant for one tool instance: what it may reach, parsed once
 * into frozen, normalised values. Everything else the sandbox does reads only
 * these values; nothing later looks at the caller's raw object again.
 *
 * Policy choices (each refuses rather than guesses):
 * - fs: `hostPath` must be an absolute path to an existing directory; it is
 *   resolved with realpath now (runtime/policy has already refused a declared
 *   folder that a link takes outside its root; what tools do later is
 *   confined by the sandbox).
 *   `guestPath` is an absolute POSIX path without `.`/`..` segments.
 * - net: scheme `http`/`https`, a lower-case DNS name or a dotted-quad IPv4
 *   literal, an explicit port (omitted = the scheme's default port only, never
 *   "any port"), and an explicit method list. No wildcards yet.
 * - env: already-resolved values; names are POSIX identifiers.
 * - limits: every limit is required to be a positive safe integer within a
 *   hard ceiling.
 * - privacy: the PII classes redacted from outbound HTTP (spec/privacy.md)
 *   and the exact strings never redacted; absent = no redaction.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { MppError } from '../errors.ts';
import type { PiiClass } from '../format/manifest.ts';
import { isPiiClass } from '../privacy/redact.ts';

export interface FsGrant {
  readonly hostPath: string;
  readonly guestPath: string;
  readonly write: boolean;
}

export type NetScheme = 'http' | 'https';

export interface NetGrant {
  readonly scheme: NetScheme;
  /** Lower-case DNS name or IPv4 literal. */
  readonly host: string;
  /** Always set after parsing: the scheme's default port when omitted. */
  readonly port: number;
  /** Upper-case method names. */
  readonly methods: readonly string[];
}

export interface Limits {
  /** Wall time of one call, including any host calls it makes. */
  readonly timeoutMs: number;
  /** Ceiling of the tool's linear memory (rounded down to 64 KiB pages). */
  readonly memoryBytes: number;
  /** UTF-8 byte length of the input JSON text. */
  readonly maxInputBytes: number;
  /** UTF-8 byte length of the output JSON text. */
  readonly maxOutputBytes: number;
}

export interface PrivacyGrant {
  /** Classes redacted from every outbound HTTP request; empty = none. */
  readonly classes: readonly PiiClass[];
  /** Exact strings never redacted (granted environment values). */
  readonly allow: readonly string[];
}

export interface Grant {
  readonly fs: readonly FsGrant[];
  readonly net: readonly NetGrant[];
  readonly env: Readonly<Record<string, string>>;
  readonly limits: Limits;
  readonly privacy: PrivacyGrant;
}

/** What callers pass in: `port` may be omitted, limits may be partial. */
export interface GrantInput {
  fs?: { hostPath: string; guestPath: string; write: boolean }[];
  net?: { scheme: string; host: string; port?: number; methods: string[] }[];
  env?: Record<string, string>;
  limits?: Partial<Limits>;
  privacy?: { classes: PiiClass[]; allow?: string[] };
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  timeoutMs: 30_000,
  memoryBytes: 256 * 1024 * 1024,
  maxInputBytes: 1024 * 1024,
  maxOutputBytes: 1024 * 1024,
});

const LIMIT_CEILINGS: Limits = Object.freeze({
  timeoutMs: 15 * 60_000,
  memoryBytes: 4 * 1024 * 1024 * 1024 - 65536,
  maxInputBytes: 64 * 1024 * 1024,
  maxOutputBytes: 64 * 1024 * 1024,
});

/** Smallest memory limit accepted: below this no JS engine even starts. */
const MIN_MEMORY_BYTES = 16 * 1024 * 1024;

const DEFAULT_PORTS: Record<NetScheme, number> = { http: 80, https: 443 };

/** The port a URL of this scheme means when it names none. */
export function defaultPort(scheme: NetScheme): number {
  return DEFAULT_PORTS[scheme];
}
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function invalid(message: string, cause?: unknown): MppError {
  return new MppError('MPP_E_GRANT_INVALID', message, {
    hint: 'Grant an existing folder, a DNS name or IPv4 address with its port and methods, a valid variable name, limits within range, or known privacy classes.',
    ...(cause !== undefined ? { cause } : {}),
  });
}

function invalidLimit(message: string): MppError {
  return new MppError('MPP_E_GRANT_INVALID', message, {
    hint: `Set limits (in the manifest, the host's settings or the grant) to whole numbers within the host's ceilings, with at least ${MIN_MEMORY_BYTES / (1024 * 1024)} MiB of memory: below that no tool can start.`,
  });
}

/** True for a canonical dotted-quad IPv4 literal (no leading zeros, no short forms). */
export function isIpv4Literal(host: string): boolean {
  return IPV4.test(host);
}

/**
 * A grantable host name: a canonical IPv4 literal, or a DNS name whose last
 * label is not all digits (so `127.1` or `2130706433` can never pass as names).
 */
export function isGrantableHost(host: string): boolean {
  if (isIpv4Literal(host)) return true;
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  if (!labels.every((l) => DNS_LABEL.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!) && !/^0x/i.test(labels[labels.length - 1]!);
}

function parseGuestPath(p: unknown, index: number): string {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0') || p.includes('\\')) {
    throw invalid(`fs[${index}].guestPath: expected an absolute POSIX path, got ${JSON.stringify(p)}.`);
  }
  const segments = p.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw invalid(`fs[${index}].guestPath: "." and ".." segments are not allowed, got ${JSON.stringify(p)}.`);
  }
  return '/' + segments.join('/');
}

function parseFs(raw: unknown): FsGrant[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalid('fs: expected an array.');
  const seen = new Set<string>();
  return raw.map((entry: unknown, i): FsGrant => {
    const e = entry as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) throw invalid(`fs[${i}]: expected an object.`);
    if (typeof e.hostPath !== 'string' || !isAbsolute(e.hostPath) || e.hostPath.includes('\0')) {
      throw invalid(`fs[${i}].hostPath: expected an absolute path, got ${JSON.stringify(e.hostPath)}.`);
    }
    if (typeof e.write !== 'boolean') throw invalid(`fs[${i}].write: expected a boolean.`);
    let hostPath: string;
    try {
      hostPath = realpathSync(e.hostPath);
      if (!statSync(hostPath).isDirectory()) throw new Error('not a directory');
    } catch (cause) {
      throw invalid(`fs[${i}].hostPath: ${e.hostPath} is not an existing directory.`, cause);
    }
    const guestPath = parseGuestPath(e.guestPath, i);
    if (seen.has(guestPath)) throw invalid(`fs[${i}].guestPath: ${guestPath} is granted twice.`);
    seen.add(guestPath);
    return Object.freeze({ hostPath, guestPath, write: e.write });
  });
}

function parseNet(raw: unknown): NetGrant[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalid('net: expected an array.');
  return raw.map((entry: unknown, i): NetGrant => {
    const e = entry as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) throw invalid(`net[${i}]: expected an object.`);
    const scheme = typeof e.scheme === 'string' ? e.scheme.toLowerCase() : '';
    if (scheme !== 'http' && scheme !== 'https') {
      throw invalid(`net[${i}].scheme: expected "http" or "https", got ${JSON.stringify(e.scheme)}.`);
    }
    const host = typeof e.host === 'string' ? e.host.toLowerCase().replace(/\.$/, '') : '';
    if (!isGrantableHost(host)) {
      throw invalid(`net[${i}].host: expected a DNS name or dotted-quad IPv4 address, got ${JSON.stringify(e.host)}.`);
    }
    let port = DEFAULT_PORTS[scheme];
    if (e.port !== undefined) {
      if (typeof e.port !== 'number' || !Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
        throw invalid(`net[${i}].port: expected an integer in 1..65535, got ${JSON.stringify(e.port)}.`);
      }
      port = e.port;
    }
    if (!Array.isArray(e.methods) || e.methods.length === 0) {
      throw invalid(`net[${i}].methods: expected a non-empty array of HTTP methods.`);
    }
    const methods = e.methods.map((m: unknown) => {
      const up = typeof m === 'string' ? m.toUpperCase() : '';
      if (!METHODS.has(up)) throw invalid(`net[${i}].methods: unknown method ${JSON.stringify(m)}.`);
      return up;
    });
    return Object.freeze({ scheme, host, port, methods: Object.freeze([...new Set(methods)]) });
  });
}

function parseEnv(raw: unknown): Record<string, string> {
  if (raw === undefined) return Object.freeze({});
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('env: expected an object.');
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(raw)) {
    if (!ENV_NAME.test(name)) throw invalid(`env: invalid variable name ${JSON.stringify(name)}.`);
    if (typeof value !== 'string' || value.includes('\0')) throw invalid(`env.${name}: expected a string without NUL.`);
    out[name] = value;
  }
  return Object.freeze(out);
}

function parseLimits(raw: unknown): Limits {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw invalidLimit('limits: expected an object.');
  const r = (raw ?? {}) as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const v = r[key] ?? DEFAULT_LIMITS[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > LIMIT_CEILINGS[key]) {
      throw invalidLimit(`limits.${key}: expected an integer in 1..${LIMIT_CEILINGS[key]}, got ${JSON.stringify(v)}.`);
    }
    out[key] = v;
  }
  if (out.memoryBytes! < MIN_MEMORY_BYTES) {
    throw invalidLimit(`limits.memoryBytes: expected at least ${MIN_MEMORY_BYTES}, got ${out.memoryBytes}.`);
  }
  return Object.freeze(out as unknown as Limits);
}

function parsePrivacy(raw: unknown): PrivacyGrant {
  if (raw === undefined) return Object.freeze({ classes: Object.freeze([]), allow: Object.freeze([]) });
  if (typeof raw !== 'object' || raw === null) throw invalid('privacy: expected an object.');
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.classes) || !r.classes.every(isPiiClass)) {
    throw invalid('privacy.classes: expected an array of PII classes (email, phone, payment-card, iban, national-id, ip-address, secret).');
  }
  const allow = r.allow ?? [];
  if (!Array.isArray(allow) || !allow.every((a) => typeof a === 'string' && a.length > 0 && !a.includes('\0'))) {
    throw invalid('privacy.allow: expected an array of non-empty strings without NUL.');
  }
  return Object.freeze({ classes: Object.freeze([...new Set(r.classes as PiiClass[])]), allow: Object.freeze([...(allow as string[])]) });
}

/** Validates and normalises a grant. Throws MPP_E_GRANT_INVALID. */
export function parseGrant(input: GrantInput): Grant {
  if (typeof input !== 'object' || input === null) throw invalid('grant: expected an object.');
  return Object.freeze({
    fs: Object.freeze(parseFs(input.fs)),
    net: Object.freeze(parseNet(input.net)),
    env: parseEnv(input.env),
    limits: parseLimits(input.limits),
    privacy: parsePrivacy(input.privacy),
  });
}
