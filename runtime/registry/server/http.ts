/**
 * `mpp registry serve`: the HTTP API (spec/registry-api.md) and the web
 * frontend, from one node:http server. Loopback by default. Every request
 * body is bounded while it streams; slow clients are cut off by Node's
 * request and idle timeouts.
 */
import { pipeline } from 'node:stream';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MppError, isMppError, type ErrorCode } from '../../errors.ts';
import type { Database } from '../../state/sqlite.ts';
import { fingerprint, publicKeyToPem, type PrivateKey } from '../../trust/keys.ts';
import { acceptRotation, acceptYank, publishUpload } from './publish.ts';
import { IndexSigner } from './signed-index.ts';
import { blobFile, loadOrCreateRegistryKey, openRegistryDb, sweepRegistry, tokenLabel, Upload } from './store.ts';
import { renderWeb, searchPackages } from './web.ts';

export interface RegistryOptions {
  readonly dir: string;
  readonly host?: string;
  readonly port?: number;
  /** Largest package a publish may upload. */
  readonly maxPackageBytes?: number;
  /** Time a client has to send a whole request (headers and body). */
  readonly requestTimeoutMs?: number;
  /** Time a connection may stay silent. */
  readonly idleTimeoutMs?: number;
  /** Lifetime of a signed index. */
  readonly indexTtlMs?: number;
}

export interface RunningRegistry {
  readonly url: string;
  readonly keyid: string;
  readonly publicKeyPem: string;
  close(): Promise<void>;
}

export const REGISTRY_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 7878,
  maxPackageBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 120_000,
  idleTimeoutMs: 30_000,
  indexTtlMs: 24 * 3600_000,
});
/** Bodies other than package uploads (rotation statements) are small. */
const MAX_SMALL_BODY = 64 * 1024;

const STATUS: Partial<Record<ErrorCode, number>> = {
  MPP_E_USAGE: 400,
  MPP_E_REGISTRY_UNAUTHORIZED: 401,
  MPP_E_REGISTRY_PUBLISHER_MISMATCH: 403,
  MPP_E_REGISTRY_NOT_FOUND: 404,
  MPP_E_REGISTRY_VERSION_EXISTS: 409,
  MPP_E_REGISTRY_TOO_LARGE: 413,
  MPP_E_INTERNAL: 500,
  MPP_E_IO: 500,
};

export async function startRegistry(options: RegistryOptions): Promise<RunningRegistry> {
  const opts = { ...REGISTRY_DEFAULTS, ...options };
  const key = loadOrCreateRegistryKey(opts.dir);
  const db = openRegistryDb(opts.dir);
  sweepRegistry(opts.dir, db);
  const signer = new IndexSigner(db, key, opts.indexTtlMs);
  signer.current();

  const server = createServer({
    requestTimeout: opts.requestTimeoutMs,
    headersTimeout: Math.min(opts.requestTimeoutMs, 30_000),
    // Node checks the two timeouts above on this interval (30 s by default).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(opts.requestTimeoutMs / 4))),
  }, (req, res) => {
    handle(req, res, { ...opts, db, key, signer }).catch((e) => drain(req, opts.maxPackageBytes).then(() => sendError(res, e)));
  });
  server.setTimeout(opts.idleTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      db.close();
      // A taken or forbidden address is the user's to change, not an MPP bug.
      reject(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL'].includes(e.code ?? '') ? new MppError('MPP_E_USAGE', `Cannot listen on ${opts.host}:${opts.port}: ${e.code}.`, { hint: 'Choose another --port (0 picks a free one) or --host.', cause: e }) : e);
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    keyid: key.publicKey.keyid,
    publicKeyPem: publicKeyToPem(key.publicKey),
    close: () => closeServer(server, db),
  };
}

interface Context {
  readonly dir: string;
  readonly db: Database;
  readonly key: PrivateKey;
  readonly signer: IndexSigner;
  readonly maxPackageBytes: number;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  // Attacker-controlled request line: an unparseable one is a bad request, never an internal error.
  const url = URL.parse(req.url ?? '/', 'http://registry.invalid');
  if (!url) throw new MppError('MPP_E_USAGE', 'The request path is not a URL path.', { hint: 'Use the paths spec/registry-api.md lists.' });
  const path = url.pathname;
  const method = req.method ?? 'GET';
  let m: RegExpExecArray | null;

  if (method === 'GET' && path === '/v1/index') return send(res, 200, 'application/json', ctx.signer.current());
  if (method === 'GET' && path === '/v1/key') return send(res, 200, 'application/x-pem-file', publicKeyToPem(ctx.key.publicKey));
  if (method === 'GET' && (m = /^\/v1\/blobs\/sha256\/([0-9a-f]{64})$/.exec(path))) return sendBlob(res, ctx, m[1]!);
  if (method === 'GET' && path === '/v1/search') return sendJson(res, 200, { results: searchPackages(ctx.db, url.searchParams.get('q') ?? '') });
  if (method === 'POST' && path === '/v1/packages') {
    authorize(req, ctx.db);
    return receivePackage(req, res, ctx);
  }
  // Package names need no escapes; the version may carry an escaped `+` (build metadata).
  if (method === 'POST' && (m = /^\/v1\/packages\/([a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9._-]*)\/([^/]+)\/(yank|unyank)$/.exec(path))) {
    authorize(req, ctx.db);
    const version = decodeOrNull(m[2]!);
    if (!version) throw new MppError('MPP_E_USAGE', 'The version in the path is not validly escaped.', { hint: 'Escape the version with encodeURIComponent.' });
    // The token says who may write; only the name's key says what happens to its versions.
    const body = await readBody(req, MAX_SMALL_BODY);
    const indexVersion = acceptYank(ctx.db, body, { name: m[1]!, version, yanked: m[3] === 'yank' });
    return sendJson(res, 200, { name: m[1]!, version, yanked: m[3] === 'yank', indexVersion });
  }
  if (method === 'POST' && path === '/v1/rotations') {
    authorize(req, ctx.db);
    const body = await readBody(req, MAX_SMALL_BODY);
    return sendJson(res, 201, acceptRotation(ctx.db, body));
  }
  if (method === 'GET' || method === 'HEAD') {
    const page = renderWeb(ctx.db, path, url.searchParams, fingerprint(ctx.key.publicKey.keyid));
    if (page) {
      res.writeHead(page.status, {
        'Content-Type': 'text/html; charset=utf-8',
        // Inline CSS only, with this response's nonce; no scripts, no frames, forms only to us.
        'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${page.nonce}'; img-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-store',
      });
      res.end(method === 'HEAD' ? undefined : page.html);
      return;
    }
  }
  throw new MppError('MPP_E_REGISTRY_NOT_FOUND', `No such resource: ${method} ${path}.`, { hint: 'See spec/registry-api.md for the API.' });
}

function authorize(req: IncomingMessage, db: Database): void {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (!m || tokenLabel(db, m[1]!) === undefined) {
    throw new MppError('MPP_E_REGISTRY_UNAUTHORIZED', m ? 'The registry does not know this token.' : 'Publishing needs a token (Authorization: Bearer …).');
  }
}

async function receivePackage(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > ctx.maxPackageBytes) throw tooLarge(ctx.maxPackageBytes);
  const upload = new Upload(ctx.dir);
  try {
    for await (const chunk of req) {
      if (upload.size + (chunk as Buffer).length > ctx.maxPackageBytes) throw tooLarge(ctx.maxPackageBytes);
      upload.write(chunk as Buffer);
    }
    const { change, ...answer } = publishUpload(ctx.dir, ctx.db, upload);
    sendJson(res, change === 'published' ? 201 : 200, answer);
  } finally {
    upload.discard(); // no-op once finished: the blob was renamed into place
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw tooLarge(max);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendBlob(res: ServerResponse, ctx: Context, sha256: string): void {
  const counted = ctx.db.prepare('UPDATE versions SET downloads = downloads + 1 WHERE sha256 = ?').run(sha256).changes;
  if (counted === 0) throw new MppError('MPP_E_REGISTRY_NOT_FOUND', `The registry has no blob sha256:${sha256}.`);
  const file = blobFile(ctx.dir, sha256);
  res.writeHead(200, { 'Content-Type': 'application/vnd.mpp.package.v1+zip', 'Content-Length': statSync(file).size, 'Cache-Control': 'public, max-age=31536000, immutable' });
  // A read error ends this response; it must not become an uncaught exception in the server.
  pipeline(createReadStream(file), res, () => {});
}

/**
 * A refusal before the body was read (no token, a name taken) is answered
 * after reading the rest of it (bounded), so that the client, still sending,
 * gets the answer instead of a reset connection.
 */
function drain(req: IncomingMessage, limit: number): Promise<void> {
  if (req.complete || req.destroyed || Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve();
  return new Promise((resolve) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) req.destroy();
    });
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

function sendError(res: ServerResponse, e: unknown): void {
  // A client that went away (or was timed out by Node) gets no answer.
  if (res.headersSent || res.destroyed || !res.socket || res.socket.destroyed) {
    res.destroy();
    return;
  }
  const err = isMppError(e) ? e : new MppError('MPP_E_INTERNAL', 'The registry failed unexpectedly.', { cause: e });
  if (!isMppError(e)) process.stderr.write(`registry: ${String((e as Error)?.stack ?? e)}\n`);
  // A body not read to its end (too large) leaves the connection unusable.
  if (!res.req.complete) res.setHeader('Connection', 'close');
  sendJson(res, STATUS[err.code] ?? 422, { error: { code: err.code, message: err.message, hint: err.hint } });
}

function tooLarge(max: number): MppError {
  return new MppError('MPP_E_REGISTRY_TOO_LARGE', `The upload is larger than this registry accepts (${max} bytes).`);
}

async function closeServer(server: Server, db: Database): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  db.close();
}

function decodeOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
