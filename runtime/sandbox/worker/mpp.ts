/**
 * The MPP host interfaces (mpp:tool/kv, log, identity, confirm) as seen from
 * inside the tool worker.
 *
 * Tool calls are synchronous, host services are asynchronous and live on the
 * parent thread. A service call posts a request on a private MessagePort and
 * blocks this worker on an Atomics.wait until the parent answers; the answer
 * is then read with receiveMessageOnPort. The call's wall-time limit still
 * applies (the parent terminates the worker if it expires meanwhile).
 *
 * A capability the host did not pass answers `not-available` without a round
 * trip. Arguments are checked here first (key length), so malformed requests
 * never reach the services. Log lines are bounded in size and count per call.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { MAX_KEY_BYTES, type HostErrorTag, type HostRequest, type HostResponse, type LogLevel } from '../host-services.ts';

export interface MppContext {
  readonly port: MessagePort;
  readonly signal: Int32Array;
  readonly available: { readonly kv: boolean; readonly identity: boolean; readonly confirm: boolean };
  log(level: LogLevel, message: string): void;
}

function hostError(tag: HostErrorTag, message: string): { tag: HostErrorTag; val: string } {
  return { tag, val: message };
}

let nextId = 1;

function roundTrip(ctx: MppContext, service: HostRequest['service'], method: string, args: unknown[]): unknown {
  const id = nextId++;
  Atomics.store(ctx.signal, 0, 0);
  const request: HostRequest = { id, service, method, args };
  ctx.port.postMessage(request);
  while (Atomics.load(ctx.signal, 0) === 0) Atomics.wait(ctx.signal, 0, 0);
  const received = receiveMessageOnPort(ctx.port);
  const response = received?.message as HostResponse | undefined;
  if (!response || response.id !== id) throw hostError('internal', 'the host answered out of order');
  if (!response.ok) throw hostError(response.error.tag, response.error.message);
  return response.value;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES || key.length === 0) {
    throw hostError('invalid-argument', `keys are 1..${MAX_KEY_BYTES} bytes of UTF-8`);
  }
  return key;
}

export function createMppImports(ctx: MppContext) {
  const need = (cap: keyof MppContext['available'], what: string) => {
    if (!ctx.available[cap]) throw hostError('not-available', `${what} is not available in this host`);
  };
  return {
    kv: {
      get(key: string): Uint8Array | undefined {
        need('kv', 'the key-value store');
        const v = roundTrip(ctx, 'kv', 'get', [checkKey(key)]);
        return v === null || v === undefined ? undefined : new Uint8Array(v as Uint8Array);
      },
      set(key: string, value: Uint8Array): void {
        need('kv', 'the key-value store');
        roundTrip(ctx, 'kv', 'set', [checkKey(key), Uint8Array.from(value)]);
      },
      delete(key: string): boolean {
        need('kv', 'the key-value store');
        return roundTrip(ctx, 'kv', 'delete', [checkKey(key)]) === true;
      },
      listKeys(prefix: string, limit: number): string[] {
        need('kv', 'the key-value store');
        if (typeof prefix !== 'string' || Buffer.byteLength(prefix, 'utf8') > MAX_KEY_BYTES) {
          throw hostError('invalid-argument', `prefixes are at most ${MAX_KEY_BYTES} bytes of UTF-8`);
        }
        const keys = roundTrip(ctx, 'kv', 'listKeys', [prefix, Math.min(limit >>> 0, 10_000)]);
        return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
      },
    },
    log: {
      write(level: LogLevel, message: string): void {
        ctx.log(level, String(message));
      },
    },
    identity: {
      caller() {
        need('identity', 'caller identity');
        const c = roundTrip(ctx, 'identity', 'caller', []) as { agentId: string; displayName: string; verified: boolean };
        return { agentId: String(c.agentId), displayName: String(c.displayName), verified: c.verified === true };
      },
    },
    confirm: {
      request(operation: string, details: string): 'approved' | 'denied' | 'timed-out' {
        need('confirm', 'confirmation');
        const a = roundTrip(ctx, 'confirm', 'request', [String(operation), String(details)]);
        return a === 'approved' || a === 'timed-out' ? a : 'denied';
      },
    },
  };
}
