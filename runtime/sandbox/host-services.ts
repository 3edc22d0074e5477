/**
 * What the host offers tools beyond WASI: the MPP world's kv, log, identity
 * and confirm interfaces. Services run on the parent thread and may be
 * asynchronous; the sandbox bridges them to the tool's synchronous calls.
 *
 * A service refuses by rejecting with HostServiceError; any other rejection
 * reaches the tool as `internal` (its message is not passed on: it may hold
 * host details).
 */
import type { MessagePort } from 'node:worker_threads';
import type { RedactionCounts } from '../privacy/redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  readonly level: LogLevel;
  readonly message: string;
  /** `tool`: mpp:tool/log; `stdout`/`stderr`: captured WASI output; `sandbox`: a refusal the host made. */
  readonly source: 'tool' | 'stdout' | 'stderr' | 'sandbox';
}

/** Longest kv key or prefix, in UTF-8 bytes (spec/kv.md): checked in the worker and again by the store. */
export const MAX_KEY_BYTES = 256;

export interface KvService {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Durable once it resolves. */
  set(key: string, value: Uint8Array): Promise<void>;
  /** Resolves whether the key existed. */
  delete(key: string): Promise<boolean>;
  listKeys(prefix: string, limit: number): Promise<string[]>;
}

export interface Caller {
  readonly agentId: string;
  readonly displayName: string;
  readonly verified: boolean;
}

export interface IdentityService {
  caller(): Promise<Caller>;
}

export interface ConfirmService {
  request(operation: string, details: string): Promise<'approved' | 'denied' | 'timed-out'>;
}

export interface HostServices {
  log(record: LogRecord): void;
  /**
   * Called once per call that had outbound HTTP redacted (grant.privacy),
   * before the call settles, with counts per class (never values): for the
   * host's audit log.
   */
  onRedaction?(direction: 'http', counts: RedactionCounts): void;
  kv?: KvService;
  identity?: IdentityService;
  confirm?: ConfirmService;
}

export type HostErrorTag = 'not-available' | 'denied' | 'quota-exceeded' | 'invalid-argument' | 'internal';

/** Reject a service call with this to give the tool a specific host-error. */
export class HostServiceError extends Error {
  readonly tag: HostErrorTag;
  constructor(tag: HostErrorTag, message: string) {
    super(message);
    this.name = 'HostServiceError';
    this.tag = tag;
  }
}

export interface HostRequest {
  id: number;
  service: 'kv' | 'identity' | 'confirm';
  method: string;
  args: unknown[];
}

export type HostResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { tag: HostErrorTag; message: string } };

const METHODS: Record<HostRequest['service'], readonly string[]> = {
  kv: ['get', 'set', 'delete', 'listKeys'],
  identity: ['caller'],
  confirm: ['request'],
};

async function dispatch(services: HostServices, req: HostRequest): Promise<unknown> {
  const service = services[req.service] as Record<string, (...a: unknown[]) => Promise<unknown>> | undefined;
  if (!service || !METHODS[req.service]?.includes(req.method)) {
    throw new HostServiceError('not-available', `${req.service}.${req.method} is not available`);
  }
  return service[req.method]!(...req.args);
}

/** The time limit of the call in flight, stopped while a human is being asked. */
export interface CallClock {
  pause(): void;
  resume(): void;
}

/**
 * Parent side of the bridge: answers each request on `port`, then wakes the
 * blocked worker through `signal`.
 */
export function serveHostRequests(services: HostServices, port: MessagePort, signal: Int32Array, clock: CallClock, alive: () => boolean): void {
  port.on('message', (req: HostRequest) => {
    // A request a killed instance posted before it died is dropped: by now the
    // services may answer for the next call (kept sandboxes forward to the call in flight).
    if (!alive()) return;
    void (async () => {
      let response: HostResponse;
      const human = req.service === 'confirm';
      try {
        if (human) clock.pause();
        response = { id: req.id, ok: true, value: await dispatch(services, req) };
      } catch (e) {
        response =
          e instanceof HostServiceError
            ? { id: req.id, ok: false, error: { tag: e.tag, message: e.message } }
            : { id: req.id, ok: false, error: { tag: 'internal', message: 'the host service failed' } };
      }
      if (human) clock.resume();
      port.postMessage(response);
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    })();
  });
}

/** Which optional services exist, for the worker (functions do not cross threads). */
export function availability(services: HostServices): { kv: boolean; identity: boolean; confirm: boolean } {
  return { kv: !!services.kv, identity: !!services.identity, confirm: !!services.confirm };
}
