/**
 * Runs inside preview2-shim's IO worker (loaded through the shim's host
 * extension mechanism, by a URL only the host chooses). That thread is
 * private to one tool worker, so what this module sets applies to one tool
 * instance only.
 *
 * It enforces the address rule at connect time: a connection to an address
 * literal must be to a public address or to an endpoint the grant names
 * (scheme, address and port), and the shim's HTTP agents get a `lookup` that
 * resolves a name and refuses the connection if any address is non-public. The check in the tool worker
 * (`check`, below) runs first to produce a clean `HTTP-request-denied`; this
 * one is the enforcement, because it is the lookup the socket actually uses.
 * Until `configure` has run, every lookup is refused (fail closed).
 *
 * It also redacts outbound requests when the grant names privacy classes
 * (spec/privacy.md): this is the one place that sees a request whole, after
 * the tool has finished its body, whether the tool wrote the body before or
 * after `handle`. Headers are held back until the body has ended, then path,
 * header values and body are redacted together and sent; a body that cannot
 * be inspected destroys the request before any byte of it is written.
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { defaultPort, type NetScheme, type PrivacyGrant } from '../grant.ts';
import { connectionAllowed, isPublicAddress } from '../net-policy.ts';
import { MAX_REDACTABLE_BODY_BYTES, redactHttpRequest } from '../../privacy/http.ts';
import { addCounts, type RedactionCounts, type RedactionPolicy } from '../../privacy/redact.ts';

export type HostCheckResult = { ok: true } | { ok: false; reason: string };

/** What `take-redactions` returns: counts and refusals since the last take. */
export interface RedactionReport {
  readonly counts: RedactionCounts;
  readonly refused: readonly string[];
}

/** The grant's named endpoints (`scheme://address:port`, see namedEndpoints); null until configured. */
let named: ReadonlySet<string> | null = null;
let installed = false;
let counts: RedactionCounts = {};
let refused: string[] = [];

/** Why a name's answers may not be connected to (a name never reaches a non-public address), or null. */
function refusal(list: readonly LookupAddress[], hostname: string): string | null {
  if (named === null) return 'the network policy is not configured';
  const bad = list.find((a) => !isPublicAddress(a.address));
  return bad ? `${hostname} resolves to ${bad.address}, a non-public address: only a grant naming that address (scheme, address and port) reaches it` : null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;

function refusedError(reason: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`MPP sandbox refused the connection: ${reason}`);
  e.code = 'EACCES';
  return e;
}

/** A dns.lookup replacement that applies the address rule to every answer. */
export function guardedLookup(hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void {
  let opts: LookupOptions = {};
  let cb = callback;
  if (typeof options === 'function') cb = options;
  else if (typeof options === 'number') opts = { family: options };
  else if (options) opts = options;
  const done = cb!;
  dns.lookup(hostname, { ...opts, all: true }, (err, addresses) => {
    if (err) return done(err);
    const reason = addresses.length === 0 ? `${hostname} has no address` : refusal(addresses, hostname);
    if (reason !== null) return done(refusedError(reason));
    if (opts.all) return done(null, addresses);
    const first = addresses[0]!;
    return done(null, first.address, first.family);
  });
}

/**
 * The check of one connection, as the agent is about to make it: an address
 * literal (which net.connect does not look up) must be public or named with
 * this scheme and port; a name goes through guardedLookup. Throws to refuse.
 */
export function guardConnection(scheme: NetScheme, options: { host?: unknown; port?: unknown }): void {
  const host = typeof options.host === 'string' ? options.host.replace(/^\[(.*)\]$/, '$1') : '';
  if (isIP(host) === 0) return;
  const port = Number(options.port ?? defaultPort(scheme));
  if (named === null) throw refusedError('the network policy is not configured');
  if (!connectionAllowed(scheme, host, port, true, named)) throw refusedError(`${scheme}://${host}:${port} is a non-public address no grant names with this scheme and port`);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const [Agent, scheme] of [[http.Agent, 'http'], [https.Agent, 'https']] as const) {
    const proto = Agent.prototype as unknown as { createConnection: (this: unknown, options: unknown, ...rest: unknown[]) => unknown };
    const original = proto.createConnection;
    proto.createConnection = function (this: unknown, options: unknown, ...rest: unknown[]) {
      if (options === null || typeof options !== 'object') {
        throw new Error('MPP sandbox: unexpected createConnection call shape');
      }
      guardConnection(scheme, options as { host?: unknown; port?: unknown });
      return original.call(this, { ...(options as object), lookup: guardedLookup }, ...rest);
    };
  }
}

interface Held {
  chunks: Buffer[];
  size: number;
  tooLarge: boolean;
  /** Headers already sent (a request without body framing); any body byte is refused. */
  sent: boolean;
}

type Callback = (err?: Error | null) => void;

/** The request's headers as name/value pairs, without Host (the authority the grant matched). */
function headerPairs(req: http.ClientRequest): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name of req.getRawHeaderNames()) {
    if (name.toLowerCase() === 'host') continue;
    const v = req.getHeader(name);
    for (const item of Array.isArray(v) ? v : [v]) if (item !== undefined) pairs.push([name, String(item)]);
  }
  return pairs;
}

function refuse(req: http.ClientRequest, reason: string): void {
  refused.push(reason);
  req.destroy(new Error(`MPP sandbox refused the request: ${reason}`));
}

/**
 * Holds each request's headers and body until `end`, then redacts and sends.
 * Patches ClientRequest in this thread only (the IO worker of one tool
 * instance), like the connection guard above.
 */
function installRedaction(p: RedactionPolicy): void {
  const proto = http.ClientRequest.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const { end, flushHeaders } = proto as { end: (...a: unknown[]) => unknown; flushHeaders: () => void };
  const held = new WeakMap<object, Held>();
  const state = (req: object): Held => {
    let s = held.get(req);
    if (!s) held.set(req, (s = { chunks: [], size: 0, tooLarge: false, sent: false }));
    return s;
  };
  /** Redacts path, header values and `body` in place on the request; returns the body to send. */
  const redactInPlace = (req: http.ClientRequest, body: Buffer): Buffer => {
    const pairs = headerPairs(req);
    const r = redactHttpRequest({ url: req.path, headers: pairs, body }, p);
    const sent = r.body ?? body;
    // Unchanged bodies come back as the same Buffer; a redacted one is fresh and only wrapped, not copied.
    const out = Buffer.isBuffer(sent) ? sent : Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength);
    req.path = r.url;
    for (const [name] of pairs) req.removeHeader(name);
    for (const [name, value] of r.headers) req.appendHeader(name, name.toLowerCase() === 'content-length' ? String(out.length) : value);
    addCounts(counts, r.counts);
    return out;
  };
  proto.flushHeaders = function (this: http.ClientRequest & { useChunkedEncodingByDefault?: boolean }) {
    // GET, HEAD, DELETE, OPTIONS without Content-Length carry no body framing
    // in Node, and the shim never ends their (empty) body stream: send the
    // redacted headers now. Every other request waits for its body, because a
    // redacted body changes Content-Length.
    if (this.useChunkedEncodingByDefault !== false || this.hasHeader('content-length')) return;
    const s = state(this);
    s.sent = true;
    try {
      redactInPlace(this, Buffer.alloc(0));
      flushHeaders.call(this);
    } catch (e) {
      refuse(this, e instanceof Error ? e.message : String(e));
    }
  };
  proto.write = function (this: http.ClientRequest, chunk: unknown, encoding?: unknown, cb?: unknown) {
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    const s = state(this);
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, (encoding as BufferEncoding | undefined) ?? 'utf8') : Buffer.from(chunk as Uint8Array);
    if (s.sent && buf.length > 0) refuse(this, 'a request body after headers that declared none');
    s.size += buf.length;
    if (s.size > MAX_REDACTABLE_BODY_BYTES) {
      s.tooLarge = true;
      s.chunks = [];
    } else if (!s.tooLarge) {
      s.chunks.push(buf);
    }
    if (typeof cb === 'function') process.nextTick(cb as Callback);
    return true;
  };
  proto.end = function (this: http.ClientRequest, chunk?: unknown, encoding?: unknown, cb?: unknown) {
    if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    if (chunk !== undefined && chunk !== null) proto.write!.call(this, chunk, encoding);
    const s = state(this);
    held.delete(this);
    if (this.destroyed) return this;
    try {
      if (s.tooLarge) throw new Error(`the request body is larger than ${MAX_REDACTABLE_BODY_BYTES} bytes and cannot be inspected for redaction`);
      if (s.sent) return end.call(this, cb);
      const body = redactInPlace(this, Buffer.concat(s.chunks));
      return end.call(this, body.length > 0 ? body : undefined, cb);
    } catch (e) {
      refuse(this, e instanceof Error ? e.message : String(e));
      if (typeof cb === 'function') process.nextTick(cb as Callback);
      return this;
    }
  };
}

async function check(hostname: string): Promise<HostCheckResult> {
  let addresses: LookupAddress[];
  try {
    addresses = await dns.promises.lookup(hostname, { all: true });
  } catch {
    // Unresolvable: let the request proceed to fail with the shim's DNS error.
    return { ok: true };
  }
  const reason = refusal(addresses, hostname);
  return reason === null ? { ok: true } : { ok: false, reason };
}

export default function create(): (operation: string, args: unknown[]) => Promise<unknown> {
  install();
  return async (operation, args) => {
    switch (operation) {
      case 'configure': {
        // Once only: a second configure (from anything) cannot widen the set.
        if (named === null) {
          named = new Set((args[0] as string[]).filter((a) => typeof a === 'string'));
          const privacy = args[1] as PrivacyGrant | undefined;
          if (privacy && privacy.classes.length > 0) {
            installRedaction({ classes: new Set(privacy.classes), allow: privacy.allow });
          }
        }
        return true;
      }
      case 'take-redactions': {
        const report: RedactionReport = { counts, refused };
        counts = {};
        refused = [];
        return report;
      }
      case 'check':
        return check(String(args[0]));
      default:
        throw new Error(`unknown operation ${operation}`);
    }
  };
}
