import { describeCaller } from '../runtime/governance/caller-text.ts';
import type { ConfirmationRequest, Confirmer } from '../runtime/governance/confirm.ts';
import type { ConsentAnswer, ConsentPrompter, ConsentRequest } from '../runtime/governance/consent.ts';
import { isMppError } from '../runtime/errors.ts';
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
          return [`  ${i + 1}. ${c.text}${state}${how}`, ...(c.target ? [`       folder: ${c.target}`] : []), ...(c.reason ? [`       reason: ${c.reason}`] : [])];
        }),
      ];
      // Each line escaped on its own: a manifest's text can never add or fake a line.
      process.stderr.write(lines.map(printable).join('\n') + '\n');
      try {
        const choice = await choose(ctx, 'Grant [a]ll, [s]ome, or [d]eny? ', { all: /^a(ll)?$/, some: /^s(ome)?$/, deny: /^d(eny)?$/ });
        let ids: string[] = [];
        if (choice === 'all') ids = req.capabilities.filter((c) => c.grantable).map((c) => c.id);
        if (choice === 'some') ids = await pickCapabilities(ctx, req);
        const scope = await choose(ctx, `Remember this for [w]orkspace ${req.workspace} only, or [g]lobally? [w] `, { workspace: /^w(orkspace)?$/, global: /^g(lobal(ly)?)?$/ }, { empty: 'workspace' });
        return { decision: choice === 'deny' ? 'deny' : 'grant', capabilities: ids, scope };
      } catch (e) {
        // Dismissed: nothing is recorded, and the call is refused as undecided.
        if (isMppError(e) && e.code === 'MPP_E_DISMISSED') return undefined;
        throw e;
      }
    },
  };
}

/** Asks until the answer is one of `choices` (or empty, when `empty` is given); an invalid answer asks again. */
async function choose<T extends string>(ctx: CliContext, question: string, choices: Record<T, RegExp>, opts: { empty?: NoInfer<T>; signal?: AbortSignal } = {}): Promise<T> {
  const names = Object.keys(choices) as T[];
  for (;;) {
    const answer = (await ctx.ask(question, opts.signal)).toLowerCase();
    if (answer === '' && opts.empty !== undefined) return opts.empty;
    const chosen = names.find((n) => choices[n].test(answer));
    if (chosen !== undefined) return chosen;
    process.stderr.write(`Please answer ${names.map((n) => `"${n[0]}"`).join(', ')}${opts.empty !== undefined ? ' (or just Enter)' : ''}.\n`);
  }
}

/** The numbers of grantable capabilities; anything else asks again. */
async function pickCapabilities(ctx: CliContext, req: ConsentRequest): Promise<string[]> {
  for (;;) {
    const picked = (await ctx.ask('Which numbers (comma-separated; Enter for none)? ')).split(/[ ,]+/).filter(Boolean);
    const chosen = picked.map((n) => (/^[1-9][0-9]*$/.test(n) ? req.capabilities[Number(n) - 1] : undefined));
    if (chosen.every((c) => c?.grantable)) return [...new Set(chosen.map((c) => c!.id))];
    process.stderr.write(`Please give numbers between 1 and ${req.capabilities.length} of capabilities that can be granted here, e.g. 1,2.\n`);
  }
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
          `  agent:     ${printable(describeCaller(req.agent))}`,
          `  ${req.kind === 'call' ? 'arguments' : 'details'}: ${printable(args)}`,
          '',
        ].join('\n'),
      );
      try {
        const answer = await choose(ctx, `Approve? [y/N] (no answer in ${Math.round(req.timeoutMs / 1000)} s is no) `, { yes: /^y(es)?$/, no: /^no?$/ }, { empty: 'no', signal });
        return answer === 'yes' ? 'approved' : 'denied';
      } catch {
        // Dismissed or timed out: never an approval.
        return 'denied';
      }
    },
  };
}
