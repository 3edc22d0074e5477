/**
 * Transfers with a registry (MPP or OCI) over Node's fetch (undici): every
 * response body is read in chunks against a byte limit (endless data), with
 * an idle and a total deadline and a minimum average rate once a grace
 * period has passed (slow retrieval: a server that drips a byte now and then
 * never goes idle, so only progress can bound it). Nothing a server sends is
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
  /** Slowest average rate of a response body accepted, counted from its headers, once `rateGraceMs` has passed. */
  readonly minBytesPerSecond?: number;
  readonly rateGraceMs?: number;
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

export const TRANSFER_DEFAULTS = Object.freeze({ timeoutMs: 300_000, idleTimeoutMs: 30_000, minBytesPerSecond: 16 * 1024, rateGraceMs: 10_000 });

/** The bounds a caller may set on a transfer's time (e.g. `--timeout`, tests). */
export type TransferTiming = Pick<TransferOptions, 'timeoutMs' | 'idleTimeoutMs' | 'minBytesPerSecond' | 'rateGraceMs'>;
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
    const body = opts.method === 'HEAD' ? Buffer.alloc(0) : await readLimited(res, limit, opts.body ? undefined : opts.onProgress, progressGuard(opts, alive, stop), url);
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

/**
 * What each chunk of a response body does to the deadlines: resets the idle
 * timer, and after the grace period stops a body whose average rate is below
 * the minimum (checked per chunk: a body that sends no chunk meets the idle limit).
 */
function progressGuard(opts: TransferOptions, alive: () => void, stop: (why: string) => void): (size: number) => void {
  const minRate = opts.minBytesPerSecond ?? TRANSFER_DEFAULTS.minBytesPerSecond;
  const grace = opts.rateGraceMs ?? TRANSFER_DEFAULTS.rateGraceMs;
  const started = performance.now();
  return (size) => {
    alive();
    const elapsed = performance.now() - started;
    if (elapsed > grace && (size * 1000) / elapsed < minRate) stop(`the server sent ${size} bytes in ${Math.round(elapsed)} ms, slower than the ${minRate} bytes/s required after ${grace} ms`);
  };
}

async function readLimited(res: globalThis.Response, max: number, onProgress: Progress | undefined, alive: (size: number) => void, url: string): Promise<Buffer> {
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
    size += value.length;
    alive(size);
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
