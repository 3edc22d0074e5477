/**
 * The in-host MCP server the editor's agent mode reaches (spec/mcp.md §7):
 * the shared MPP MCP server (runtime/mcp) on loopback Streamable HTTP, inside
 * the extension host, so the editor's own consent and confirmation dialogs
 * guard every call. Started on first use, on a random port, with a random
 * bearer token that only the editor's MCP definition (and the extension API)
 * hands out.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type * as vscode from 'vscode';
import { sha256Hex } from '../runtime/hash.ts';
import { createMppMcpServer, type MppMcpServerOptions } from '../runtime/mcp/server.ts';

export interface McpEndpoint {
  readonly url: string;
  /** The header a client sends with every request. */
  readonly headers: { readonly Authorization: string };
}

/**
 * Sessions kept at once (a bound on memory). When a new client comes and all
 * are taken, the least recently used session without a request in flight is
 * closed for it: clients that drop without DELETE (the SDK's `close()` sends
 * none) never lock out a new one. Only when every session has a request in
 * flight is a new client refused (503).
 */
export const MAX_SESSIONS = 16;
/** A session without requests this long is closed, so dropped clients do not hold the places; a client that comes back initializes again (404). */
const SESSION_IDLE_MS = 30 * 60_000;

/** Constant-time: both sides are hashed to equal length first, so neither length nor content leaks. */
function authorized(header: string | undefined, expected: string): boolean {
  if (header === undefined) return false;
  return timingSafeEqual(Buffer.from(sha256Hex(header), 'hex'), Buffer.from(sha256Hex(expected), 'hex'));
}

function refuse(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
}

export class InHostMcpServer implements vscode.Disposable {
  readonly #options: () => MppMcpServerOptions;
  /** In the order of last use (least recent first); `busy`: POST requests in flight (an open SSE stream is not a request). */
  readonly #sessions = new Map<string, { readonly transport: StreamableHTTPServerTransport; readonly idle: NodeJS.Timeout; busy: number }>();
  readonly #idleMs: number;
  #starting: Promise<McpEndpoint> | undefined;
  #http: Server | undefined;

  /** `options` is read for each new session: home, workspace and settings as they are then. */
  constructor(options: () => MppMcpServerOptions, opts: { idleMs?: number } = {}) {
    this.#options = options;
    this.#idleMs = opts.idleMs ?? SESSION_IDLE_MS;
  }

  start(): Promise<McpEndpoint> {
    this.#starting ??= this.#listen();
    return this.#starting;
  }

  async #listen(): Promise<McpEndpoint> {
    const authorization = `Bearer ${randomBytes(32).toString('base64url')}`;
    const http = createServer((req, res) => {
      this.#handle(req, res, authorization).catch(() => {
        if (!res.headersSent) refuse(res, 500, 'MPP: the request failed.');
        else res.end();
      });
    });
    this.#http = http;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = http.address() as { port: number };
    return Object.freeze({ url: `http://127.0.0.1:${port}/mcp`, headers: Object.freeze({ Authorization: authorization }) });
  }

  async #handle(req: IncomingMessage, res: ServerResponse, authorization: string): Promise<void> {
    // Nothing of MCP is read before the token checks out.
    if (!authorized(req.headers.authorization, authorization)) {
      refuse(res, 401, 'MPP: this server needs its bearer token.', { 'WWW-Authenticate': 'Bearer realm="mpp"' });
      return;
    }
    if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== '/mcp') {
      refuse(res, 404, 'MPP: the MCP endpoint is /mcp.');
      return;
    }
    const id = req.headers['mcp-session-id'];
    const existing = typeof id === 'string' ? this.#sessions.get(id) : undefined;
    if (existing) {
      existing.idle.refresh();
      this.#sessions.delete(id as string);
      this.#sessions.set(id as string, existing);
      if (req.method === 'POST') {
        existing.busy++;
        res.once('close', () => existing.busy--);
      }
      await existing.transport.handleRequest(req, res);
      return;
    }
    if (id !== undefined) {
      refuse(res, 404, 'MPP: no such session; initialize again.');
      return;
    }
    if (this.#sessions.size >= MAX_SESSIONS && !this.#closeLeastRecentIdle()) {
      refuse(res, 503, `MPP: all ${MAX_SESSIONS} sessions have a request in flight; retry when one ends.`, { 'Retry-After': '1' });
      return;
    }
    const { port } = this.#http!.address() as { port: number };
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        const idle = setTimeout(() => void transport.close(), this.#idleMs);
        idle.unref();
        this.#sessions.set(sid, { transport, idle, busy: 0 });
      },
      // DNS rebinding: a page that resolves its own name to 127.0.0.1 still sends its own Host.
      enableDnsRebindingProtection: true,
      allowedHosts: [`127.0.0.1:${port}`],
    });
    transport.onclose = () => {
      const sid = transport.sessionId ?? '';
      clearTimeout(this.#sessions.get(sid)?.idle);
      this.#sessions.delete(sid);
    };
    const server = createMppMcpServer(this.#options());
    await server.connect(transport);
    await transport.handleRequest(req, res);
    // Anything but an initialize request opens no session: nothing to keep.
    if (!transport.sessionId) await server.close();
  }

  /** Closes the least recently used session with no request in flight; false when every session is busy. */
  #closeLeastRecentIdle(): boolean {
    for (const [sid, s] of this.#sessions) {
      if (s.busy > 0) continue;
      clearTimeout(s.idle);
      this.#sessions.delete(sid);
      void s.transport.close();
      return true;
    }
    return false;
  }

  dispose(): void {
    for (const s of this.#sessions.values()) {
      clearTimeout(s.idle);
      void s.transport.close();
    }
    this.#sessions.clear();
    this.#http?.close();
    this.#http?.closeAllConnections();
  }
}
