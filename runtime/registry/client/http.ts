/**
 * Transfers with a registry (MPP or OCI) over Node's fetch (undici): every
 * response body is read in chunks against a byte limit (endless data), with
 * an idle and a total deadline (slow retrieval). Nothing a server sends is
 * believed about its own size: Content-Length only lets a refusal come early.
 */
import { ERROR_CODES, MppError, type ErrorCode } from '../../errors.ts';
import { compileSchema } from '../../schema.ts';
import registrySchema from '../../../spec/registry.schema.json' with { type: 'json' };
import { parseJson } from '../../format/strict-json.ts';

export type Progress = (done: number, total: number | undefined) => void;

export interface TransferOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  /** Largest response body accepted. */
  readonly maxBytes: number;
  /** Whole transfer, headers to last byte. */
  readonly timeoutMs?: number;
  /** Longest silence between two chunks. */
  readonly idleTimeoutMs?: number;
  readonly onProgress?: Progress;
  /** Statuses returned to the caller instead of thrown (OCI's 401 challenge, 404 on HEAD). */
  readonly accept?: readonly number[];
}

export interface Response {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly url: string;
}

const TRANSFER_DEFAULTS = Object.freeze({ timeoutMs: 300_000, idleTimeoutMs: 30_000 });
const UPLOAD_CHUNK = 256 * 1024;

const validateError = compileSchema<{ error: { code: string; message: string; hint?: string } }>(registrySchema, '#/$defs/error');

export async function transfer(url: string, opts: TransferOptions): Promise<Response> {
  const total = opts.timeoutMs ?? TRANSFER_DEFAULTS.timeoutMs;
  const idle = opts.idleTimeoutMs ?? TRANSFER_DEFAULTS.idleTimeoutMs;
  const controller = new AbortController();
  let timedOut: string | undefined;
  const stop = (why: string) => {
    timedOut ??= why;
    controller.abort();
  };
  const totalTimer = setTimeout(() => stop(`the transfer took longer than ${total} ms`), total);
  let idleTimer = setTimeout(() => stop(`the server sent nothing for ${idle} ms`), idle);
  const alive = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop(`the server sent nothing for ${idle} ms`), idle);
  };
  try {
    const res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      body: opts.body ? uploadStream(opts.body, opts.onProgress, alive) : undefined,
      signal: controller.signal,
      redirect: 'follow',
      ...(opts.body ? { duplex: 'half' } : {}),
    } as RequestInit);
    alive();
    const ok = res.ok || (opts.accept ?? []).includes(res.status);
    // Error bodies are only read for their message: a small limit.
    const limit = ok ? opts.maxBytes : 64 * 1024;
    const body = opts.method === 'HEAD' ? Buffer.alloc(0) : await readLimited(res, limit, opts.body ? undefined : opts.onProgress, alive, url);
    if (!ok) throw httpError(url, res.status, body);
    return { status: res.status, headers: res.headers, body, url: res.url || url };
  } catch (e) {
    if (timedOut) {
      throw new MppError('MPP_E_REGISTRY_TIMEOUT', `${describe(url)} was stopped: ${timedOut}.`, { cause: e, detail: { url } });
    }
    if (e instanceof MppError) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new MppError('MPP_E_REGISTRY_UNREACHABLE', `${describe(url)} failed: ${cause?.code ?? cause?.message ?? (e as Error).message}.`, { cause: e, detail: { url } });
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(idleTimer);
  }
}

async function readLimited(res: globalThis.Response, max: number, onProgress: Progress | undefined, alive: () => void, url: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const tooLarge = () => new MppError('MPP_E_REGISTRY_TOO_LARGE', `${describe(url)} answered more than the ${max} bytes expected; the transfer was stopped.`, { detail: { url, limit: max } });
  if (declared > max) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    alive();
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
    onProgress?.(size, Number.isFinite(declared) ? declared : undefined);
  }
  return Buffer.concat(chunks, size);
}

function uploadStream(body: Uint8Array, onProgress: Progress | undefined, alive: () => void): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= body.length) {
        controller.close();
        return;
      }
      const chunk = body.subarray(off, Math.min(off + UPLOAD_CHUNK, body.length));
      off += chunk.length;
      alive();
      onProgress?.(off, body.length);
      controller.enqueue(chunk);
    },
  });
}

/** An HTTP error, with the registry's own error code when it sent one MPP knows. */
function httpError(url: string, status: number, body: Buffer): MppError {
  let doc: unknown;
  try {
    doc = parseJson(body.toString('utf8'));
  } catch {
    doc = undefined;
  }
  if (validateError(doc) && doc.error.code in ERROR_CODES && doc.error.code !== 'MPP_E_INTERNAL') {
    return new MppError(doc.error.code as ErrorCode, `The registry refused: ${doc.error.message}`, { ...(doc.error.hint ? { hint: doc.error.hint } : {}), detail: { url, status } });
  }
  const code: ErrorCode = status === 401 || status === 403 ? 'MPP_E_REGISTRY_UNAUTHORIZED' : status === 404 ? 'MPP_E_REGISTRY_NOT_FOUND' : status === 413 ? 'MPP_E_REGISTRY_TOO_LARGE' : 'MPP_E_REGISTRY_UNREACHABLE';
  return new MppError(code, `${describe(url)} answered HTTP ${status}.`, { detail: { url, status } });
}

function describe(url: string): string {
  const u = new URL(url);
  return `The request to ${u.host}${u.pathname}`;
}
