import { mppHome } from '../../runtime/home.ts';
import { createCredential } from '../../runtime/identity/credential.ts';
import { AgentRegistry, checkAgentId } from '../../runtime/state/agents.ts';
import { indexExists } from '../../runtime/store/installed-index.ts';
import { writeFileAtomic } from '../../runtime/store/atomic.ts';
import { fingerprint, parsePrivateKeyPem, parsePublicKeyPem } from '../../runtime/trust/keys.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { formatTable, usage } from '../output.ts';
import { auditTo } from '../../runtime/audit/trail.ts';

const TTL_RE = /^([1-9][0-9]*)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const registerAgent: RegisterCommand = (program, run) => {
  const agent = program.command('agent').description('Manage the agents this host knows by key: a caller with a valid credential is that agent; anyone else is unverified.');

  agent
    .command('add')
    .description('Register an agent id with its public key.')
    .argument('<id>', 'agent id, e.g. copilot or acme/triage-bot')
    .argument('<keyfile>', "the agent's public key (SPKI PEM)")
    .option('--json', 'print the result as JSON')
    .action((id: string, keyfile: string, opts: { json?: boolean }) =>
      run(async ({ out }) => {
        checkAgentId(id);
        const key = parsePublicKeyPem(readUserFile(keyfile, 'public key').toString('utf8'), keyfile);
        const home = mppHome();
        const agents = AgentRegistry.open(home);
        try {
          if (agents.get(id)?.key.keyid === key.keyid) {
            out.result(`${id} is already registered with ${fingerprint(key.keyid)}.`, { id, keyid: key.keyid, added: false });
            return;
          }
          auditTo(home)({ type: 'agent', action: 'add', agentId: id, keyid: key.keyid });
          agents.add(id, key);
        } finally {
          agents.close();
        }
        out.result(`Registered agent ${id} with key ${fingerprint(key.keyid)}.`, { id, keyid: key.keyid, added: true });
      }, opts),
    );

  agent
    .command('list')
    .description('List registered agents.')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const home = mppHome();
        if (!indexExists(home)) {
          out.result('No agents are registered. Add one with `mpp agent add <id> <public-key.pem>`.', { agents: [] });
          return;
        }
        const agents = AgentRegistry.open(home);
        try {
          const list = agents.list();
          const text = list.length === 0 ? 'No agents are registered. Add one with `mpp agent add <id> <public-key.pem>`.' : formatTable([['AGENT', 'KEY', 'ADDED'], ...list.map((a) => [a.id, fingerprint(a.key.keyid), a.addedAt])]);
          out.result(text, { agents: list.map((a) => ({ id: a.id, keyid: a.key.keyid, addedAt: a.addedAt })) });
        } finally {
          agents.close();
        }
      }, opts),
    );

  agent
    .command('remove')
    .description('Forget an agent: its credentials stop working at once.')
    .argument('<id>', 'agent id')
    .option('--json', 'print the result as JSON')
    .action((id: string, opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const home = mppHome();
        const agents = AgentRegistry.open(home);
        try {
          const existing = agents.get(id);
          if (existing) auditTo(home)({ type: 'agent', action: 'remove', agentId: id, keyid: existing.key.keyid });
          agents.remove(id);
        } finally {
          agents.close();
        }
        out.result(`Removed agent ${id}.`, { id });
      }, opts),
    );

  agent
    .command('credential')
    .description("Make a signed credential for an agent (its private key signs), to give the agent's host (MPP_AGENT_CREDENTIAL, --credential).")
    .requiredOption('--key <file>', "the agent's private key (PEM, from `mpp keygen`)")
    .requiredOption('--agent <id>', 'the agent id it was registered under')
    .option('--ttl <duration>', 'lifetime: minutes, hours or days, e.g. 30m, 8h, 7d (at most 30d)', '8h')
    .option('--display-name <name>', 'a name for dialogs')
    .option('--out <file>', 'write it to this file (mode 0600) instead of stdout')
    .option('--json', 'print the result as JSON')
    .action((opts: { key: string; agent: string; ttl: string; displayName?: string; out?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const ttl = TTL_RE.exec(opts.ttl);
        if (!ttl) throw usage('--ttl takes a number with m, h or d, like 8h.');
        const key = parsePrivateKeyPem(readUserFile(opts.key, 'private key').toString('utf8'), opts.key);
        const credential = createCredential(key, opts.agent, { ttlMs: Number(ttl[1]) * UNIT_MS[ttl[2] as keyof typeof UNIT_MS], ...(opts.displayName ? { displayName: opts.displayName } : {}) });
        if (opts.out) {
          writeFileAtomic(opts.out, credential + '\n', 0o600);
          out.result(`Wrote a credential for ${opts.agent} to ${opts.out}.`, { agent: opts.agent, file: opts.out });
        } else {
          out.result(credential, { agent: opts.agent, credential });
        }
      }, opts),
    );
};
