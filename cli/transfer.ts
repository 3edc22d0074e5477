import { formatBytes } from '../runtime/format/describe.ts';
import type { Progress } from '../runtime/registry/client/http.ts';
import type { Output } from './output.ts';
import { integerOption, usage } from './output.ts';

/**
 * A progress bar for a transfer, drawn on stderr only when it is a terminal
 * (never under --json, never into a log file or a pipe).
 */
export function progressBar(out: Output, label: string, stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (out.json || !stream.isTTY) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 80 && done !== total) return;
    last = now;
    const width = 30;
    const bar = total ? '#'.repeat(Math.round((done / total) * width)).padEnd(width, '.') : '';
    stream.write(`\r${label} ${total ? `[${bar}] ` : ''}${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}\x1b[K${done === total ? '\n' : ''}`);
  };
}

/** `--timeout MS` as transfer limits: the whole transfer and the longest silence. */
export function transferTiming(timeout: string | undefined): { timeoutMs?: number; idleTimeoutMs?: number } {
  if (timeout === undefined) return {};
  const ms = integerOption(timeout, '--timeout', 1);
  return { timeoutMs: ms, idleTimeoutMs: ms };
}

/** The publishing token: `--token`, else MPP_REGISTRY_TOKEN (so it need not appear in shell history). */
export function publishToken(given: string | undefined): string {
  const token = given ?? process.env.MPP_REGISTRY_TOKEN;
  if (!token) throw usage('Publishing needs a token: pass --token or set MPP_REGISTRY_TOKEN (create one with `mpp registry token create` on the registry host).');
  return token;
}
