import type { Sensitivity } from '../format/manifest.ts';
import type { Caller } from '../sandbox/host-services.ts';

/**
 * Human-in-the-loop confirmations. Only the host's Confirmer (a terminal
 * question, an editor dialog, an MCP elicitation) can answer; nothing in a
 * call's input is consulted. No answer before the timeout is a deny.
 */
export interface ConfirmationRequest {
  readonly requestId: string;
  readonly package: string;
  readonly version: string;
  readonly tool: string;
  /** The tool name for a whole call; the tool's own words for a mid-call confirmation. */
  readonly operation: string;
  readonly kind: 'call' | 'mid-call';
  readonly sensitivity: Sensitivity;
  /** What is to be approved: the call's input JSON, or the details the tool gave. */
  readonly arguments: string;
  readonly agent: Caller;
  readonly timeoutMs: number;
}

export type ConfirmationAnswer = 'approved' | 'denied' | 'timed-out';

export interface Confirmer {
  /** Resolves with the human's answer; `signal` aborts when the host stops waiting (timeout). */
  confirm(request: ConfirmationRequest, signal: AbortSignal): Promise<'approved' | 'denied'>;
}

/** Asks `confirmer` with a deadline; a missing confirmer, an error or silence is never an approval. */
export async function askHuman(confirmer: Confirmer | undefined, request: ConfirmationRequest): Promise<ConfirmationAnswer> {
  if (!confirmer) return 'denied';
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timed-out');
    }, request.timeoutMs);
  });
  try {
    const answer = await Promise.race([confirmer.confirm(request, controller.signal).catch(() => 'denied' as const), timeout]);
    return answer === 'approved' || answer === 'timed-out' ? answer : 'denied';
  } finally {
    clearTimeout(timer);
  }
}
