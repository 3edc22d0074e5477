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
 * reached only by a request naming that literal address, through an entry
 * naming the same scheme, address and port (DNS rebinding defence: the
 * name's owner controls what it resolves to).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
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

/**
 * The endpoints a grant names by address (`http://127.0.0.1:8080`): the only
 * ways to a non-public address. A connection is matched on scheme, address
 * and port, never on the address alone.
 */
export function namedEndpoints(grants: readonly NetGrant[]): string[] {
  return [...new Set(grants.filter((g) => isIpv4Literal(g.host)).map((g) => endpoint(g.scheme, g.host, g.port)))];
}

function endpoint(scheme: NetScheme, address: string, port: number): string {
  return `${scheme}://${address}:${port}`;
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * True only for global unicast addresses (ipaddr.js's classification, fail
 * closed): IPv4 outside every special range; IPv6 in 2000::/3 outside every
 * special range. Forms that embed an IPv4 address (mapped, RFC 6145, NAT64)
 * are judged by that address; 6to4 and Teredo, which tunnel to an address of
 * the sender's choosing, are never public. Malformed input is not public.
 */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip) || isIP(ip) === 0) return false;
  const addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv4') return addr.range() === 'unicast';
  const v6 = addr as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') {
    const b = v6.toByteArray().slice(-4);
    return isPublicAddress(b.join('.'));
  }
  return range === 'unicast' && v6.match(GLOBAL_UNICAST_V6);
}

/**
 * May a connection go to `address` on `port` (the address it actually
 * connects to)? A public address: yes (the request check decided the rest).
 * A non-public one only when the connection was asked for by that literal
 * address (`literal`, not through a name: DNS rebinding) and a grant entry
 * names exactly this scheme, address and port.
 */
export function connectionAllowed(scheme: NetScheme, address: string, port: number, literal: boolean, named: ReadonlySet<string>): boolean {
  if (isPublicAddress(address)) return true;
  if (!literal || !ipaddr.isValid(address)) return false;
  return named.has(endpoint(scheme, ipaddr.process(address).toString(), port));
}
