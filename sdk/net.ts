/**
 * `fetch`, with the host's reason for a refusal. The engine's own fetch
 * reports a refused request only as "An error occurred while using the host
 * API"; this one throws ToolRefusal `network-denied` saying which rule
 * refused (the scheme, host, port or method is not granted, or the name
 * resolves to a private address). Only SpiderMonkey (the default engine)
 * has fetch: with QuickJS the call is refused as `unavailable`.
 */
import { takeNetworkReason, ToolRefusal } from './errors.ts';

export async function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const target = input instanceof Request ? input.url : String(input);
  if (typeof globalThis.fetch !== 'function') {
    throw new ToolRefusal('unavailable', `${target}: this engine has no fetch; build with the default engine (SpiderMonkey)`, { target });
  }
  takeNetworkReason(); // a reason left from an earlier request explains nothing here
  try {
    return await globalThis.fetch(input, init);
  } catch (e) {
    const why = takeNetworkReason();
    if (why !== undefined) throw new ToolRefusal('network-denied', `${target}: ${why}`, { target });
    throw e;
  }
}
