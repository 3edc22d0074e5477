/**
 * Runs inside preview2-shim's IO worker (loaded through the shim's host
 * extension mechanism, by a URL only the host chooses). That thread is
 * private to one tool worker, so what this module sets applies to one tool
 * instance only.
 *
 * It enforces the address rule at connect time: the shim's HTTP agents get a
 * `lookup` that resolves the name and refuses the connection if any address is
 * non-public and not named by the grant. The check in the tool worker
 * (`check`, below) runs first to produce a clean `HTTP-request-denied`; this
 * one is the enforcement, because it is the lookup the socket actually uses.
 * Until `configure` has run, every lookup is refused (fail closed).
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { addressAllowed } from '../net-policy.ts';

export type HostCheckResult = { ok: true } | { ok: false; reason: string };

let named: ReadonlySet<string> | null = null;
let installed = false;

function refusal(list: readonly LookupAddress[], hostname: string): string | null {
  if (named === null) return 'the network policy is not configured';
  const bad = list.find((a) => !addressAllowed(a.address, named!));
  return bad ? `${hostname} resolves to ${bad.address}, a non-public address the grant does not name` : null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;

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
    if (reason !== null) {
      const e: NodeJS.ErrnoException = new Error(`MPP sandbox refused the connection: ${reason}`);
      e.code = 'EACCES';
      return done(e);
    }
    if (opts.all) return done(null, addresses);
    const first = addresses[0]!;
    return done(null, first.address, first.family);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const Agent of [http.Agent, https.Agent]) {
    const proto = Agent.prototype as unknown as { createConnection: (this: unknown, options: unknown, ...rest: unknown[]) => unknown };
    const original = proto.createConnection;
    proto.createConnection = function (this: unknown, options: unknown, ...rest: unknown[]) {
      if (options === null || typeof options !== 'object') {
        throw new Error('MPP sandbox: unexpected createConnection call shape');
      }
      return original.call(this, { ...(options as object), lookup: guardedLookup }, ...rest);
    };
  }
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
        if (named === null) named = new Set((args[0] as string[]).filter((a) => typeof a === 'string'));
        return true;
      }
      case 'check':
        return check(String(args[0]));
      default:
        throw new Error(`unknown operation ${operation}`);
    }
  };
}
