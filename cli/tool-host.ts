import { auditTo } from '../runtime/audit/trail.ts';
import type { CallerClaim } from '../runtime/identity/credential.ts';
import { ToolHost } from '../runtime/governance/tool-host.ts';
import type { LogRecord } from '../runtime/sandbox/host-services.ts';
import type { CliContext } from './context.ts';
import { readUserFile } from './files.ts';
import { printable } from './output.ts';
import { terminalConfirmer, terminalConsent } from './prompts.ts';

/**
 * The governed tool host as the CLI runs it: a human at a terminal can be
 * asked (consent, confirmations); with --json or without a terminal nobody
 * can, and governance refuses rather than decide.
 */
export function cliToolHost(ctx: CliContext, home: string): ToolHost {
  const human = ctx.interactive && !ctx.out.json;
  return new ToolHost({
    home,
    ...(human ? { consent: terminalConsent(ctx), confirmer: terminalConfirmer(ctx) } : {}),
    audit: auditTo(home),
    log: (_pkg, r) => logLine(r),
  });
}

/** Who the CLI calls as: an agent credential from a file or MPP_AGENT_CREDENTIAL, else the unverified label `mpp-cli`. */
export function cliCaller(credentialFile: string | undefined, env: NodeJS.ProcessEnv = process.env): CallerClaim {
  if (credentialFile) return { credential: readUserFile(credentialFile, 'agent credential').toString('utf8'), label: 'mpp-cli' };
  if (env.MPP_AGENT_CREDENTIAL) return { credential: env.MPP_AGENT_CREDENTIAL, label: 'mpp-cli' };
  return { label: 'mpp-cli' };
}

/** Tool log lines go to stderr, marked with their source, never mixed into the result. */
export function logLine(r: LogRecord): void {
  process.stderr.write(`[${r.source}] ${r.level}: ${printable(r.message)}\n`);
}
