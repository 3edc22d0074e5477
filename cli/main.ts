import { createInterface } from 'node:readline/promises';
import { Command, CommanderError } from 'commander';
import { MppError } from '../runtime/errors.ts';
import { EXIT, Output } from './output.ts';
import type { CliContext, CommandRunner, RegisterCommand } from './context.ts';
import { registerKeygen } from './commands/keygen.ts';
import { registerSign } from './commands/sign.ts';
import { registerVerify } from './commands/verify.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerTrust } from './commands/trust.ts';
import { registerInit } from './commands/init.ts';
import { registerBuild } from './commands/build.ts';
import { registerInstall } from './commands/install.ts';
import { registerList } from './commands/list.ts';
import { registerUninstall } from './commands/uninstall.ts';
import { registerRun } from './commands/run.ts';
import { registerPermissions } from './commands/permissions.ts';
import { registerGrant } from './commands/grant.ts';
import { registerRevoke } from './commands/revoke.ts';
import { registerAgent } from './commands/agent.ts';
import { registerAudit } from './commands/audit.ts';
import { registerMcp } from './commands/mcp.ts';
import { registerRegistry } from './commands/registry.ts';
import { registerPublish } from './commands/publish.ts';
import { registerSearch } from './commands/search.ts';
import { registerUpdate } from './commands/update.ts';
import { registerDev } from './commands/dev.ts';
import { registerPolicy } from './commands/policy.ts';
import pkg from '../package.json' with { type: 'json' };
import { AuditForwarder, forwardBacklog } from '../runtime/audit/forward/forwarder.ts';
import { mppHome } from '../runtime/home.ts';
import { loadOrgPolicy } from '../runtime/policy/org-policy.ts';

const COMMANDS: RegisterCommand[] = [registerInit, registerBuild, registerKeygen, registerSign, registerVerify, registerInspect, registerTrust, registerInstall, registerList, registerUninstall, registerRun, registerPermissions, registerGrant, registerRevoke, registerAgent, registerAudit, registerMcp, registerRegistry, registerPublish, registerSearch, registerUpdate, registerDev, registerPolicy];

/**
 * Records a short command wrote reach the organisation's collector before it
 * exits, within a bound; what does not make it is sent by the next host.
 */
async function flushAuditForwarding(): Promise<void> {
  try {
    if (!loadOrgPolicy()?.auditForwarding) return;
    const home = mppHome();
    if (forwardBacklog(home) > 0) await new AuditForwarder(home).flush(2000);
  } catch {
    // The command has said what was wrong with the policy; forwarding never changes its outcome.
  }
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  let usageMessage = '';
  const run: CommandRunner = async (action, opts) => {
    const out = new Output(Boolean(opts.json));
    const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
    const ctx: CliContext = {
      out,
      interactive,
      async ask(question, signal) {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        // Ctrl-D (end of input) and Ctrl-C end the question, never the process: a coded refusal.
        const dismissed = new AbortController();
        rl.once('SIGINT', () => dismissed.abort());
        rl.once('close', () => dismissed.abort());
        try {
          return (await rl.question(question, { signal: signal ? AbortSignal.any([signal, dismissed.signal]) : dismissed.signal })).trim();
        } catch (e) {
          if (signal?.aborted || !dismissed.signal.aborted) throw e;
          process.stderr.write('\n');
          throw new MppError('MPP_E_DISMISSED', 'The question was dismissed before it was answered; nothing was decided.');
        } finally {
          rl.close();
        }
      },
    };
    try {
      await action(ctx);
    } catch (e) {
      exitCode = out.error(e);
    }
    await flushAuditForwarding();
  };

  const program = new Command('mpp')
    .description('MPP: signed, sandboxed, portable tools for AI agents.')
    .version(pkg.version)
    .showSuggestionAfterError()
    .exitOverride()
    // Commander's own error line is kept and reported as one MPP_E_USAGE error (one JSON document under --json).
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s) => (usageMessage = s.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')) });
  for (const register of COMMANDS) register(program, run);
  for (const c of program.commands) c.exitOverride();

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      const help = ['mpp', ...commandPath(program, argv), '--help'].join(' ');
      const message = (usageMessage || e.message).replace(/\.?$/, '.');
      return new Output(argv.includes('--json')).error(new MppError('MPP_E_USAGE', message.charAt(0).toUpperCase() + message.slice(1), { hint: `Run \`${help}\` for the commands and options.` }));
    }
    return new Output(argv.includes('--json')).error(e);
  }
  return exitCode;
}

/** The commands argv names that exist (`mpp trust frob` -> trust), for the usage hint. */
function commandPath(program: Command, argv: readonly string[]): string[] {
  const path: string[] = [];
  let at = program;
  for (const word of argv) {
    const next = at.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    path.push(word);
    at = next;
  }
  return path;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`error MPP_E_INTERNAL: ${String(e)}\n`);
    process.exitCode = EXIT.INTERNAL;
  },
);
