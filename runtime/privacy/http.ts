/**
 * Redaction of one outbound HTTP request: URL path segments and query names
 * and values (percent-decoded first, re-encoded only where something was
 * replaced), header values, and the body when it can be read as text.
 *
 * What stays as it is: the scheme and host:port (the grant matched them;
 * changing them would send the request elsewhere), header names, and every
 * part with nothing to redact (byte for byte).
 *
 * Fail closed: when at least one class applies and the body cannot be read
 * as text (binary, compressed, a charset other than UTF-8, not valid UTF-8,
 * or larger than MAX_REDACTABLE_BODY_BYTES), the request is refused with
 * MPP_E_REDACTION_FAILED rather than sent unread.
 */
import { MppError } from '../errors.ts';
import { parseStrictJson } from '../format/strict-json.ts';
import { addCounts, redactJson, redactText, type RedactionCounts, type RedactionPolicy } from './redact.ts';

export const MAX_REDACTABLE_BODY_BYTES = 16 * 1024 * 1024;

export interface HttpRequestParts {
  /** An absolute URL or an origin-form path with query (`/a/b?q=1`). */
  readonly url: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Uint8Array;
}

export interface RedactedHttpRequest {
  readonly url: string;
  readonly headers: [string, string][];
  /** The same bytes when nothing in the body was redacted. */
  readonly body?: Uint8Array;
  readonly counts: RedactionCounts;
}

function uninspectable(reason: string): MppError {
  return new MppError('MPP_E_REDACTION_FAILED', `The request body cannot be inspected for redaction (${reason}), so the request was not sent.`, {
    detail: { reason },
  });
}

/**
 * Decodes a URL component the way lenient servers do: each run of valid
 * escapes is decoded (a malformed one elsewhere must not hide the rest);
 * a run that is not UTF-8 keeps its ASCII escapes decoded, the rest as is.
 */
function decode(part: string, plusIsSpace: boolean): string {
  const s = plusIsSpace ? part.replace(/\+/g, ' ') : part;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%[0-7][0-9A-Fa-f]/g, (e) => String.fromCharCode(parseInt(e.slice(1), 16)));
    }
  });
}

/** Redacts `a=b&c=d` pairs (a query, or a form body). */
function redactPairs(query: string, policy: RedactionPolicy, counts: RedactionCounts): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const parts = eq === -1 ? [pair] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return parts
        .map((p) => {
          const r = redactText(decode(p, true), policy);
          addCounts(counts, r.counts);
          return Object.keys(r.counts).length > 0 ? encodeURIComponent(r.text) : p;
        })
        .join('=');
    })
    .join('&');
}

function redactPath(path: string, policy: RedactionPolicy, counts: RedactionCounts): string {
  return path
    .split('/')
    .map((seg) => {
      const r = redactText(decode(seg, false), policy);
      addCounts(counts, r.counts);
      return Object.keys(r.counts).length > 0 ? encodeURIComponent(r.text) : seg;
    })
    .join('/');
}

/** Redacts a URL; scheme and host:port are kept, userinfo is redacted like a path segment. */
function redactUrl(url: string, policy: RedactionPolicy): { url: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  let prefix = '';
  let rest = url;
  const abs = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (abs) {
    const authority = abs[2]!;
    const at = authority.lastIndexOf('@');
    const userinfo = at === -1 ? '' : authority.slice(0, at);
    prefix = abs[1]! + (at === -1 ? authority : userinfo.split(':').map((p) => redactPath(p, policy, counts)).join(':') + authority.slice(at));
    rest = url.slice(abs[0].length);
  }
  const hash = rest.indexOf('#');
  const fragment = hash === -1 ? '' : rest.slice(hash);
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  let out = prefix + redactPath(path, policy, counts);
  if (q !== -1) out += '?' + redactPairs(rest.slice(q + 1), policy, counts);
  if (fragment) out += '#' + redactPath(fragment.slice(1), policy, counts);
  return { url: out, counts };
}

interface MediaType {
  readonly essence: string;
  readonly charset: string | undefined;
}

function mediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  const [essence, ...params] = value.split(';');
  const charset = params
    .map((p) => p.trim().split('='))
    .find(([k]) => k?.toLowerCase() === 'charset')?.[1]
    ?.replace(/^"|"$/g, '')
    .toLowerCase();
  return { essence: essence!.trim().toLowerCase(), charset };
}

function header(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  let found: string | undefined;
  for (const [k, v] of headers) if (k.toLowerCase() === name) found = v;
  return found;
}

function redactBody(body: Uint8Array, type: MediaType | undefined, policy: RedactionPolicy, counts: RedactionCounts): Uint8Array {
  if (body.byteLength > MAX_REDACTABLE_BODY_BYTES) throw uninspectable(`larger than ${MAX_REDACTABLE_BODY_BYTES} bytes`);
  if (type?.charset !== undefined && type.charset !== 'utf-8' && type.charset !== 'utf8' && type.charset !== 'us-ascii') {
    throw uninspectable(`charset ${type.charset.slice(0, 40)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw uninspectable('not UTF-8 text');
  }
  const essence = type?.essence ?? '';
  let out: string | undefined;
  if (essence === 'application/json' || essence.endsWith('+json')) {
    let parsed: unknown;
    let isJson = true;
    try {
      // Strict: with a duplicate key JSON.parse keeps the last value, other parsers the first.
      parsed = parseStrictJson(body);
    } catch {
      isJson = false; // labelled JSON but is not (or is ambiguous): redact it as text below
    }
    if (isJson) {
      const r = redactJson(parsed, policy);
      if (Object.keys(r.counts).length === 0) return body;
      try {
        out = JSON.stringify(r.value);
      } catch {
        throw uninspectable('JSON too deeply nested to write back');
      }
      addCounts(counts, r.counts);
    }
  } else if (essence === 'application/x-www-form-urlencoded') {
    const formCounts: RedactionCounts = {};
    out = redactPairs(text, policy, formCounts);
    if (Object.keys(formCounts).length === 0) return body;
    addCounts(counts, formCounts);
  }
  if (out === undefined) {
    const r = redactText(text, policy);
    if (Object.keys(r.counts).length === 0) return body;
    addCounts(counts, r.counts);
    out = r.text;
  }
  return new TextEncoder().encode(out);
}

/**
 * Redacts a request before it is sent. Throws MPP_E_REDACTION_FAILED when a
 * class applies and the body cannot be inspected. With no classes, returns
 * the request unchanged.
 */
export function redactHttpRequest(req: HttpRequestParts, policy: RedactionPolicy): RedactedHttpRequest {
  const headers = req.headers.map(([k, v]) => [k, v] as [string, string]);
  if (policy.classes.size === 0) return { url: req.url, headers, ...(req.body ? { body: req.body } : {}), counts: {} };
  const u = redactUrl(req.url, policy);
  const counts: RedactionCounts = { ...u.counts };
  for (const h of headers) {
    const r = redactText(h[1], policy);
    addCounts(counts, r.counts);
    h[1] = r.text;
  }
  let body = req.body;
  if (body && body.byteLength > 0) {
    const encoding = header(req.headers, 'content-encoding');
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') throw uninspectable(`content-encoding ${encoding.trim().slice(0, 40)}`);
    body = redactBody(body, mediaType(header(req.headers, 'content-type')), policy, counts);
  }
  return { url: u.url, headers, ...(body ? { body } : {}), counts };
}
