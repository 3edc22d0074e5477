/**
 * wasi:http and wasi:sockets for one tool instance.
 *
 * Outgoing HTTP is the only network path. `handle` checks scheme, host, port
 * and method against the grant and refuses with the WASI
 * `HTTP-request-denied` error (the tool sees an ordinary fetch failure and
 * stays usable). For a granted *name*, the IO worker resolves it first and
 * refuses if any address is non-public and not named by the grant; the same
 * rule is enforced again by the lookup the connection itself uses (see
 * io-extension.ts), so a name that changes its answer between the two
 * lookups (DNS rebinding) is still refused.
 *
 * Redirects are not followed by the host: the tool sees the 3xx response, and
 * any request it makes to the new location goes through `handle` again.
 *
 * Privacy: when the grant names PII classes, the IO worker redacts each
 * request (URL, header values, body) before it is sent (io-extension.ts);
 * `takeRedactions` collects the counts and refusals since the last take.
 *
 * Raw sockets and name lookup are always refused: the grant model has no
 * socket capability.
 */
import { http as shimHttp, sockets as shimSockets } from '@bytecodealliance/preview2-shim';
import { callExtension } from '@bytecodealliance/preview2-shim/io-worker';
import { isIpv4Literal, type NetGrant, type PrivacyGrant } from '../grant.ts';
import { checkRequest, namedEndpoints } from '../net-policy.ts';
import type { HostCheckResult, RedactionReport } from './io-extension.ts';

export interface NetContext {
  readonly grants: readonly NetGrant[];
  readonly privacy: PrivacyGrant;
  readonly extensionUrl: URL;
  /** Records a refusal so the host log says why a fetch failed. */
  denied(reason: string): void;
}

const DENIED = { tag: 'HTTP-request-denied' } as const;

/**
 * Sends the grant's named endpoints (scheme, address, port) to the IO worker, which loads the
 * extension and installs the connect-time guard. Done before the first
 * request, not at start-up: it costs a thread start (~80 ms) that tools
 * without network use should not pay, and `handle` is the only way to a
 * connection.
 */
function configureIoWorker(ctx: NetContext): void {
  callExtension(ctx.extensionUrl, 'configure', [namedEndpoints(ctx.grants), ctx.privacy]);
}

export function createHttpImports(ctx: NetContext) {
  const shimHandle = shimHttp.outgoingHandler.handle;
  type OutgoingRequest = InstanceType<typeof shimHttp.types.OutgoingRequest>;
  let configured = false;
  const outgoingHandler = {
    handle(request: OutgoingRequest, options: unknown) {
      if (!(request instanceof shimHttp.types.OutgoingRequest)) throw DENIED;
      if (!configured) {
        configureIoWorker(ctx);
        configured = true;
      }
      const decision = checkRequest(ctx.grants, {
        scheme: request.scheme() as { tag: string; val?: string } | undefined,
        authority: request.authority() as string | undefined,
        method: request.method() as { tag: string; val?: string },
      });
      if (!decision.allowed) {
        ctx.denied(decision.reason);
        throw DENIED;
      }
      if (!isIpv4Literal(decision.host)) {
        const check = callExtension(ctx.extensionUrl, 'check', [decision.host]) as HostCheckResult;
        if (!check.ok) {
          ctx.denied(check.reason);
          throw DENIED;
        }
      }
      return shimHandle(request, options as never);
    },
  };
  /** Counts and refusals of redaction since the last take; null when nothing can have been redacted. */
  const takeRedactions = (): RedactionReport | null =>
    configured && ctx.privacy.classes.length > 0 ? (callExtension(ctx.extensionUrl, 'take-redactions', []) as RedactionReport) : null;
  return { types: shimHttp.types, outgoingHandler, takeRedactions };
}

const ACCESS_DENIED = 'access-denied';

export function createSocketImports() {
  // A Network whose capabilities are all off, in case anything consults it;
  // the creation functions refuse outright regardless.
  const closed = (shimSockets as unknown as { createSockets(c: { enableNetwork: boolean }): Record<string, Record<string, unknown>> }).createSockets({
    enableNetwork: false,
  });
  return {
    instanceNetwork: closed.instanceNetwork,
    network: closed.network,
    ipNameLookup: {
      ...closed.ipNameLookup,
      resolveAddresses() {
        throw ACCESS_DENIED;
      },
    },
    tcpCreateSocket: {
      createTcpSocket() {
        throw ACCESS_DENIED;
      },
    },
    tcp: closed.tcp,
    udpCreateSocket: {
      createUdpSocket() {
        throw ACCESS_DENIED;
      },
    },
    udp: closed.udp,
  };
}
