import type { ConfirmationRequest, Confirmer } from '../runtime/governance/confirm.ts';
import type { ConsentAnswer, ConsentPrompter, ConsentRequest } from '../runtime/governance/consent.ts';
import { fingerprint } from '../runtime/trust/keys.ts';
import type { CliContext } from './context.ts';
import { printable } from './output.ts';

/**
 * The terminal faces of consent and confirmation. They exist only when a
 * human is at a terminal (and output is not --json); otherwise the CLI has
 * no prompter, and governance refuses instead of deciding for the user.
 */
const SHOWN_ARGUMENT_CHARS = 4000;

export function terminalConsent(ctx: CliContext): ConsentPrompter {
  return {
    async ask(req: ConsentRequest): Promise<ConsentAnswer | undefined> {
      const lines = [
        req.reason === 'first-run'
          ? `${req.package} ${req.version} has not run here before.`
          : `${req.package} ${req.version} asks for more than you granted before.`,
        `  publisher: ${req.publisher.name ?? '(unnamed)'} ${fingerprint(req.publisher.keyid)}`,
        req.capabilities.length === 0 ? 'It asks for no capabilities: it can only compute on the input it is given.' : 'It asks to:',
        ...req.capabilities.flatMap((c, i) => {
          const state = c.state === 'granted' ? ' [granted]' : c.state === 'new' && req.reason === 'widened' ? ' [NEW]' : '';
          const how = c.blockedBy ? ` (blocked by your organisation's policy: ${c.blockedBy})` : c.grantable ? '' : ' (grant concrete hosts with `mpp grant`)';
          return [`  ${i + 1}. ${c.text}${state}${how}`, ...(c.reason ? [`       reason: ${c.reason}`] : [])];
        }),
      ];
      // Each line escaped on its own: a manifest's text can never add or fake a line.
      process.stderr.write(lines.map(printable).join('\n') + '\n');
      const choice = (await ctx.ask('Grant [a]ll, [s]ome, or [d]eny? ')).toLowerCase();
      let ids: string[];
      if (/^a(ll)?$/.test(choice)) {
        ids = req.capabilities.filter((c) => c.grantable).map((c) => c.id);
      } else if (/^s(ome)?$/.test(choice)) {
        const picked = (await ctx.ask('Which numbers (comma-separated)? ')).split(/[ ,]+/).filter(Boolean).map(Number);
        ids = picked.map((n) => req.capabilities[n - 1]).filter((c) => c !== undefined && c.grantable).map((c) => c!.id);
      } else if (/^d(eny)?$/.test(choice)) {
        ids = [];
      } else {
        return undefined;
      }
      const scopeAnswer = (await ctx.ask(`Remember this for [w]orkspace ${req.workspace} only, or [g]lobally? [w] `)).toLowerCase();
      const scope = /^g(lobal(ly)?)?$/.test(scopeAnswer) ? 'global' : 'workspace';
      return { decision: /^d(eny)?$/.test(choice) ? 'deny' : 'grant', capabilities: ids, scope };
    },
  };
}

export function terminalConfirmer(ctx: CliContext): Confirmer {
  return {
    async confirm(req: ConfirmationRequest, signal: AbortSignal): Promise<'approved' | 'denied'> {
      const args = req.arguments.length > SHOWN_ARGUMENT_CHARS ? `${req.arguments.slice(0, SHOWN_ARGUMENT_CHARS)}... (${req.arguments.length} characters in all)` : req.arguments;
      process.stderr.write(
        [
          `Confirm ${req.kind === 'call' ? 'a call' : 'an operation'} (${req.sensitivity}):`,
          `  package:   ${req.package} ${req.version}`,
          `  tool:      ${req.tool}`,
          ...(req.kind === 'mid-call' ? [`  the tool says: ${printable(req.operation)}`] : []),
          `  agent:     ${printable(req.agent.displayName)} (${req.agent.verified ? 'verified' : 'unverified'})`,
          `  ${req.kind === 'call' ? 'arguments' : 'details'}: ${printable(args)}`,
          '',
        ].join('\n'),
      );
      try {
        const answer = await ctx.ask(`Approve? [y/N] (no answer in ${Math.round(req.timeoutMs / 1000)} s is no) `, signal);
        return /^y(es)?$/i.test(answer) ? 'approved' : 'denied';
      } catch {
        return 'denied';
      }
    },
  };
}
