/**
 * The memory of a long-running host (the editor's extension host, `mpp mcp`)
 * keeping one sandbox for each of several different packages, for
 * bench/mcp-server.ts (not meant to be run by hand). Prints one JSON line and
 * exits.
 *
 *   node --expose-gc bench/mcp/editor-memory-child.ts <home> <workspace> <idleMs> <package>...
 *     RSS of this process before the first call, with every package called
 *     once through ToolHost over a SandboxPool (as the editor keeps them), and
 *     after the pool's idle time has passed without a call.
 */
import { openAuditLog } from '../../runtime/audit/log.ts';
import { ToolHost } from '../../runtime/governance/tool-host.ts';
import { SandboxPool } from '../../runtime/run/sandbox-pool.ts';
import { settledRss } from './settled-rss.ts';
import { EXPECTED, INPUT } from './workload.ts';

const [home, workspace, idleArg, ...names] = process.argv.slice(2) as [string, string, string, ...string[]];
const idleMs = Number(idleArg);

const audit = openAuditLog(home);
const pool = new SandboxPool({ max: names.length, idleMs });
const host = new ToolHost({ home, audit: (e) => void audit.append(e), auditGrouped: (e) => audit.appendGrouped(e), sandboxes: pool });
const rssBase = await settledRss();
for (const name of names) {
  const r = await host.call({ target: { installed: name }, tool: 'greet', input: JSON.stringify(INPUT), caller: { label: 'mpp-bench' }, workspace });
  if (JSON.stringify(r.output) !== EXPECTED) throw new Error(`${name} returned ${JSON.stringify(r.output)}`);
}
const rssKept = await settledRss();
const kept = pool.size;
await new Promise((r) => setTimeout(r, idleMs + 500));
const rssIdle = await settledRss();
process.stdout.write(JSON.stringify({ rssBase, rssKept, rssIdle, kept, keptAfterIdle: pool.size, n: names.length }) + '\n');
await pool.dispose();
audit.close();
process.exit(0);
