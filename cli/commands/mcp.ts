import { resolve } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { resolveCaller } from '../../runtime/identity/credential.ts';
import type { McpToolFilter } from '../../runtime/mcp/server.ts';
import { AgentRegistry } from '../../runtime/state/agents.ts';
import type { RegisterCommand } from '../context.ts';
import { printable } from '../output.ts';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { AuditForwarder } from '../../runtime/audit/forward/forwarder.ts';
import { cliCaller, logLine } from '../tool-host.ts';
import pkg from '../../package.json' with { type: 'json' };

interface McpOptions {
  package: string[];
  tool: string[];
  workspace?: string;
  credential?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export const registerMcp: RegisterCommand = (program, run) => {
  program
    .command('mcp')
    .description('Serve the installed tools to an MCP client over stdio (configure the client to start `mpp mcp`). Grant packages first with `mpp grant`.')
    .option('--package <name>', 'offer only this package (scope/name); repeatable', collect, [])
    .option('--tool <tool>', 'offer only this tool (scope/name/tool, or a tool name in any package); repeatable', collect, [])
    .option('--workspace <dir>', 'the folder ${workspace} stands for, and whose grants apply (default: the current folder)')
    .option('--credential <file>', 'call as the agent of this credential (`mpp agent credential`); default: $MPP_AGENT_CREDENTIAL, else the client as an unverified caller')
    .option('--json', 'print an error that stops the server from starting as JSON')
    .action((opts: McpOptions) =>
      run(async () => {
        const home = mppHome();
        const workspace = resolve(opts.workspace ?? process.cwd());
        const filter: McpToolFilter = { packages: opts.package, tools: opts.tool };
        const { credential } = cliCaller(opts.credential);
        // A credential that does not verify would refuse every call: say so now, once.
        if (credential !== undefined) {
          const agents = AgentRegistry.open(home);
          try {
            resolveCaller({ credential }, agents);
          } finally {
            agents.close();
          }
        }
        // Loaded here, not at the top: every other command would pay for the MCP SDK at start.
        const { createMppMcpServer, offeredTools } = await import('../../runtime/mcp/server.ts');
        const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
        // One audit log open for the session (appends stay safe alongside other processes).
        const auditLog = openAuditLog(home);
        const server = createMppMcpServer({
          home,
          workspace,
          audit: (event) => void auditLog.append(event),
          auditGrouped: (event) => auditLog.appendGrouped(event),
          log: (_pkg, r) => logLine(r),
          filter,
          ...(credential !== undefined ? { credential } : {}),
          serverInfo: { name: 'mpp', version: pkg.version },
        });
        const tools = offeredTools(home, filter);
        // stdout is the protocol: everything for the human goes to stderr.
        process.stderr.write(`mpp mcp: ${tools.length} tool${tools.length === 1 ? '' : 's'} offered, workspace ${printable(workspace)}${tools.length === 0 ? ' (install packages, or check --package/--tool)' : ''}\n`);
        const closed = new Promise<void>((done) => {
          server.onclose = ((previous) => () => {
            previous?.();
            done();
          })(server.onclose);
        });
        const forwarder = new AuditForwarder(home, { onProblem: (p) => process.stderr.write(`mpp mcp: audit forwarding: ${printable(p)}\n`) }).start();
        await server.connect(new StdioServerTransport());
        process.stdin.once('end', () => void server.close());
        try {
          await closed;
        } finally {
          await forwarder.stop();
          auditLog.close();
        }
      }, opts),
    );
};
