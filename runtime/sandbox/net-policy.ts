/**
 * Network policy: pure decisions, no I/O. Used by the tool worker (request
 * check) and by the IO-worker extension (address check at connect time).
 *
 * A request is allowed only when its scheme, host, port and method all match
 * one grant entry exactly. The authority is attacker-controlled text: it is
 * parsed strictly (`host[:port]`, nothing else), so userinfo tricks such as
 * `granted.example@evil` never match anything.
 *
 * Addresses: a granted *name* may only connect to public unicast addresses.
 * Loopback, private, link-local, CGNAT, multicast and reserved ranges are
 * refused unless the grant names that exact address as a host (DNS
 * rebinding defence: the name's owner controls what it resolves to).
 */
import { isIP } from 'node:net';
import { defaultPort, isGrantableHost, isIpv4Literal, type NetGrant, type NetScheme } from './grant.ts';

export interface RequestFacts {
  /** The WASI scheme variant, as the bindings pass it. */
  scheme: { tag: string; val?: string } | undefined;
  authority: string | undefined;
  method: { tag: string; val?: string };
}

export type NetDecision =
  | { allowed: true; scheme: NetScheme; host: string; port: number; method: string }
  | { allowed: false; reason: string };

const AUTHORITY = /^([a-z0-9.-]+)(?::([0-9]{1,5}))?$/;

function schemeOf(s: RequestFacts['scheme']): NetScheme | null {
  // The shim treats a missing scheme as https; do the same so the check and
  // the connection agree.
  if (s === undefined) return 'https';
  if (s.tag === 'HTTP') return 'http';
  if (s.tag === 'HTTPS') return 'https';
  if (s.tag === 'other' && typeof s.val === 'string') {
    const v = s.val.toLowerCase();
    if (v === 'http' || v === 'https') return v;
  }
  return null;
}

function methodOf(m: RequestFacts['method']): string {
  return (m.tag === 'other' ? String(m.val ?? '') : m.tag).toUpperCase();
}

/** Parses `host[:port]`; returns null for anything else (userinfo, IPv6, junk). */
export function parseAuthority(authority: string | undefined, scheme: NetScheme): { host: string; port: number } | null {
  if (typeof authority !== 'string' || authority.length === 0 || authority.length > 260) return null;
  const m = AUTHORITY.exec(authority.toLowerCase());
  if (!m) return null;
  const host = m[1]!.replace(/\.$/, '');
  const port = m[2] === undefined ? defaultPort(scheme) : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (!isGrantableHost(host)) return null;
  return { host, port };
}

export function checkRequest(grants: readonly NetGrant[], req: RequestFacts): NetDecision {
  const scheme = schemeOf(req.scheme);
  if (scheme === null) return { allowed: false, reason: 'scheme is not http or https' };
  const target = parseAuthority(req.authority, scheme);
  if (target === null) return { allowed: false, reason: `authority ${JSON.stringify(req.authority)} is not host[:port]` };
  const method = methodOf(req.method);
  for (const g of grants) {
    if (g.scheme === scheme && g.host === target.host && g.port === target.port && g.methods.includes(method)) {
      return { allowed: true, scheme, host: target.host, port: target.port, method };
    }
  }
  return { allowed: false, reason: `${method} ${scheme}://${target.host}:${target.port} is not granted` };
}

/** The IP literals a grant names: the only non-public addresses it may reach. */
export function namedAddresses(grants: readonly NetGrant[]): string[] {
  return [...new Set(grants.filter((g) => isIpv4Literal(g.host)).map((g) => g.host))];
}

function ipv4ToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function inV4(ip: number, base: string, bits: number): boolean {
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ip & mask) >>> 0 === (ipv4ToInt(base) & mask) >>> 0;
}

const V4_NON_PUBLIC: [string, number][] = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 connects to the local host
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

function expandV6(ip: string): number[] | null {
  let s = ip.split('%')[0]!;
  const lastColon = s.lastIndexOf(':');
  const tailPart = s.slice(lastColon + 1);
  if (tailPart.includes('.')) {
    if (isIP(tailPart) !== 4) return null;
    const n = ipv4ToInt(tailPart);
    s = s.slice(0, lastColon + 1) + (n >>> 16).toString(16) + ':' + (n & 0xffff).toString(16);
  }
  const parts = s.split('::');
  if (parts.length > 2) return null;
  const head = parts[0] ? parts[0].split(':') : [];
  const rest = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
  let groups = head;
  if (parts.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<string>(fill).fill('0'), ...rest];
  }
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * True only for global unicast addresses. Unknown or malformed input is not
 * public (fail closed).
 */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) {
    const n = ipv4ToInt(ip);
    return !V4_NON_PUBLIC.some(([base, bits]) => inV4(n, base, bits));
  }
  if (family !== 6) return false;
  const w = expandV6(ip);
  if (!w) return false;
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64
  // (64:ff9b::/96) embed an IPv4 address: judge that address.
  const embedded = (hi: number, lo: number) => `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
  if (w.slice(0, 5).every((x) => x === 0) && (w[5] === 0xffff || w[5] === 0)) {
    if (w[5] === 0 && w[6] === 0 && (w[7] === 0 || w[7] === 1)) return false; // :: and ::1
    return isPublicAddress(embedded(w[6]!, w[7]!));
  }
  if (w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0)) {
    return isPublicAddress(embedded(w[6]!, w[7]!));
  }
  const first = w[0]!;
  // Global unicast is 2000::/3; within it, refuse documentation (2001:db8::/32),
  // 6to4 (2002::/16, embeds arbitrary IPv4), Teredo (2001::/32) and ORCHID.
  if ((first & 0xe000) !== 0x2000) return false;
  if (first === 0x2001 && (w[1] === 0x0db8 || w[1] === 0 || (w[1]! & 0xfff0) === 0x0010)) return false;
  if (first === 0x2002) return false;
  return true;
}

/** May a connection go to `address`, given the addresses the grant names? */
export function addressAllowed(address: string, named: ReadonlySet<string>): boolean {
  return named.has(address) || isPublicAddress(address);
}
