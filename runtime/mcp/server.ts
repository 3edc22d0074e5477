/**
 * MPP tools as an MCP server (spec/mcp.md), independent of the transport:
 * `mpp mcp` connects it to stdio, the editor to loopback HTTP.
 *
 *   tools/list: installed packages (read at each request) -> filter -> one
 *               MCP tool per MPP tool, with its schemas and a mapped name
 *   tools/call: name -> package + tool -> ToolHost.call (grants, confirmations,
 *               identity, sandbox, redaction, audit) -> structured result,
 *               or a tool error carrying the MPP code and hint
 *
 * Nothing is decided here that the ToolHost decides elsewhere: grants must
 * exist already (nobody can be asked to consent over MCP), and confirmations
 * go to the human through MCP elicitation, or are refused when the client
 * cannot elicit.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import * as z from 'zod/v4';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEvent } from '../audit/events.ts';
import { ERROR_CODES, MppError, isMppError } from '../errors.ts';
import { PACKAGE_NAME_RE, type ToolDefinition } from '../format/manifest.ts';
import { describeCaller } from '../governance/caller-text.ts';
import type { ConfirmationRequest, Confirmer } from '../governance/confirm.ts';
import type { ConsentPrompter } from '../governance/consent.ts';
import { ToolHost } from '../governance/tool-host.ts';
import { DEFAULT_POOL_OPTIONS, SandboxPool } from '../run/sandbox-pool.ts';
import type { HostPolicy } from '../policy/host-policy.ts';
import type { LogRecord } from '../sandbox/host-services.ts';
import { listInstalled, type InstalledRecord } from '../store/packages.ts';
import { mcpToolName, parseToolId, TOOL_NAME_RE } from './names.ts';
import { stringifyJson } from '../format/strict-json.ts';

/** Which tools to offer. Entries of one list are alternatives; both lists must hold. Absent or empty: everything. */
export interface McpToolFilter {
  /** Package names (`scope/name`). */
  readonly packages?: readonly string[];
  /** `scope/name/tool`, or a bare tool name (that tool in any package). */
  readonly tools?: readonly string[];
}

export interface MppMcpServerOptions {
  readonly home: string;
  /** The folder `${workspace}` stands for in every call. */
  readonly workspace: string;
  /** Appends one audit event (e.g. `recordAudit(home, e)`); a failure refuses the call. */
  readonly audit: (event: AuditEvent) => void;
  /** Group-committed appends for call outcomes (ToolHostOptions.auditGrouped). */
  readonly auditGrouped?: (event: AuditEvent) => void;
  /** Where tool log lines go (never to the protocol stream). */
  readonly log?: (pkg: string, record: LogRecord) => void;
  readonly filter?: McpToolFilter;
  /** An agent credential (the text `mpp agent credential` writes): calls are made as that agent. Absent: `unverified:<clientInfo.name>`. */
  readonly credential?: string;
  /** Stricter-only policy overrides (editor settings). */
  readonly policy?: Partial<HostPolicy>;
  /** The host's own confirmation UI (the editor's dialogs): used instead of MCP elicitation. */
  readonly confirmer?: Confirmer;
  /** The host's own consent UI (the editor's dialog); absent: grants must exist already. */
  readonly consent?: ConsentPrompter;
  readonly serverInfo?: { readonly name: string; readonly version: string };
  /** How often (ms) to look for installs and uninstalls, to send `notifications/tools/list_changed`; 0: never. Default 2000. */
  readonly watchMs?: number;
  /** A pool the host keeps for its lifetime (the editor shares one with its own calls); absent: one for this session, stopped on close. */
  readonly sandboxes?: SandboxPool;
  /** Per-call limits (editor settings): they only lower what the package asks. */
  readonly limits?: { readonly timeoutMs?: number; readonly memoryBytes?: number };
  /** Told when a call starts (`scope/name/tool`); what it returns is called when the call ends (the editor counts running calls). */
  readonly onCall?: (tool: string) => () => void;
}

/** One MPP tool as offered over MCP. */
interface OfferedTool {
  /** The MCP tool name (names.ts). */
  readonly name: string;
  readonly package: InstalledRecord;
  readonly tool: ToolDefinition;
}

/**
 * tools/call as the handler receives it: checked against the protocol's
 * schema first, so a malformed request is InvalidParams (-32602) naming
 * the first problem, not the SDK's InternalError with a schema dump.
 */
const ToolsCallRequest = z.looseObject({ method: z.literal('tools/call') }).check((ctx) => {
  const parsed = CallToolRequestSchema.safeParse(ctx.value);
  if (parsed.success) return;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'params';
  throw new McpError(ErrorCode.InvalidParams, `Invalid tools/call request: ${where}: ${issue?.message ?? 'malformed'}.`);
}) as unknown as typeof CallToolRequestSchema;

/** Packages prepared ahead per session, and how long the session is idle before each. */
const PREPARED_AHEAD = 4;
const PREPARE_AFTER_MS = 50;

/** `_meta` key of an error result: the MPP error as JSON (code, message, hint, detail). */
export const MCP_ERROR_META = 'mpp.dev/error';
const ARGUMENTS_SHOWN = 2000;

/** Refuses a malformed filter (a typo would otherwise silently offer nothing). */
function checkToolFilter(filter: McpToolFilter): void {
  const bad = (what: string, value: string, expected: string) =>
    new MppError('MPP_E_USAGE', `${what} ${JSON.stringify(value)} is not ${expected}.`, { hint: 'Give --package as scope/name and --tool as scope/name/tool or a tool name.' });
  for (const p of filter.packages ?? []) if (!PACKAGE_NAME_RE.test(p)) throw bad('The package', p, 'a package name (scope/name)');
  for (const t of filter.tools ?? []) {
    const ok = t.includes('/') ? parseToolId(t) !== undefined : TOOL_NAME_RE.test(t);
    if (!ok) throw bad('The tool', t, 'scope/name/tool or a tool name');
  }
}

/** The tools offered now: installed packages, sorted by name, through `filter`. */
export function offeredTools(home: string, filter: McpToolFilter = {}): OfferedTool[] {
  const packages = filter.packages?.length ? new Set(filter.packages) : undefined;
  const tools = filter.tools?.length ? new Set(filter.tools) : undefined;
  const seen = new Set<string>();
  const out: OfferedTool[] = [];
  for (const record of listInstalled(home)) {
    if (packages && !packages.has(record.name)) continue;
    for (const tool of record.manifest.tools) {
      if (tools && !tools.has(tool.name) && !tools.has(`${record.name}/${tool.name}`)) continue;
      const name = mcpToolName(record.name, tool.name);
      // Only a 64-bit hash collision gets here: offer the first, never a tool the agent did not pick.
      if (seen.has(name)) continue;
      seen.add(name);
      out.push(Object.freeze({ name, package: record, tool }));
    }
  }
  return out;
}

/** The MCP tool definition of an offered tool. */
function mcpToolDefinition(t: OfferedTool): Tool {
  const m = t.package.manifest;
  const publisher = t.package.publisher.name ?? m.publisher.name;
  const confirm = t.tool.sensitivity === 'write' || t.tool.sensitivity === 'destructive' ? ' Each call asks the user to confirm.' : '';
  return {
    name: t.name,
    ...(t.tool.title ? { title: t.tool.title } : {}),
    description: `${t.tool.description}\n\n(MPP tool ${t.tool.name} of ${m.name} ${m.version} by ${publisher}, signed and sandboxed; sensitivity: ${t.tool.sensitivity}.${confirm})`,
    inputSchema: t.tool.inputSchema,
    outputSchema: t.tool.outputSchema,
    annotations: {
      readOnlyHint: t.tool.sensitivity === 'none' || t.tool.sensitivity === 'read',
      destructiveHint: t.tool.sensitivity === 'destructive',
      openWorldHint: (m.permissions?.network?.length ?? 0) > 0,
    },
  };
}

/** An unexpected error's message may hold host details (paths): the client gets the code only; the host log has the rest. */
function coded(e: unknown): MppError {
  return isMppError(e) ? e : new MppError('MPP_E_INTERNAL', ERROR_CODES.MPP_E_INTERNAL, { cause: e });
}

/** An MPP refusal as an MCP tool error: the agent reads what happened and what the user can do. */
/** A client's arguments as the input text a tool gets; too deep to write out is the client's error, not MPP's. */
function argumentsText(args: unknown): string {
  try {
    return stringifyJson(args ?? {});
  } catch (e) {
    throw new MppError('MPP_E_INPUT_INVALID', `The arguments cannot be written as JSON: ${(e as Error).message}.`, { hint: 'Send arguments nested at most 256 levels deep.', cause: e });
  }
}

function mcpErrorResult(e: unknown): CallToolResult {
  const err = coded(e);
  return {
    isError: true,
    content: [{ type: 'text', text: `${err.code}: ${err.message}\nWhat to do: ${err.hint}` }],
    _meta: { [MCP_ERROR_META]: err.toJSON() },
  };
}

/**
 * Creates the server; connect it to a transport with `server.connect(t)`.
 * It sets `server.oninitialized` and `server.onclose` (to watch the install
 * store while connected): wrap, do not replace, them.
 */
export function createMppMcpServer(opts: MppMcpServerOptions): Server {
  if (opts.filter) checkToolFilter(opts.filter);
  const server = new Server(opts.serverInfo ?? { name: 'mpp', version: '0' }, {
    capabilities: { tools: { listChanged: true } },
    instructions:
      'Tools from signed MPP packages, run in a sandbox with what the user granted. A tool error starting with an MPP_E_ code says what was refused and what the user can do (for example `mpp grant <package> --all`).',
  });
  const logUnexpected = (what: string, e: unknown): void => {
    if (!isMppError(e)) opts.log?.('mpp', { level: 'error', source: 'sandbox', message: `unexpected failure ${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
  };
  // Kept for the session: a call runs in a fresh instance prepared while the server was idle.
  const sandboxes = opts.sandboxes ?? new SandboxPool(DEFAULT_POOL_OPTIONS);
  // What the client was last shown, to tell it (once) when installs change it.
  let listed: string | undefined;
  const signature = (tools: readonly OfferedTool[]) => tools.map((t) => `${t.name}@${t.package.version}:${t.package.digest}`).join('\n');
  // The watcher polls this (no manifest parsed) and lists again only when it moved.
  let installed: string | undefined;
  // Every install rewrites its row's time: the same bytes installed again count as a move too.
  // Through the pool's held install index: opening the index per call cost 0.4 ms.
  const installedNow = () => sandboxes.packages.digests(opts.home).map((r) => `${r.name}:${r.digest}:${r.installedAt}`).join('\n');
  // Reading the offered tools parses and checks every installed manifest (each tool's schemas
  // compiled: 7 ms a call for two packages); read again only when the installs moved.
  let offeredFor: { installed: string; tools: OfferedTool[] } | undefined;
  const offered = (now = installedNow()): OfferedTool[] => {
    if (offeredFor?.installed !== now) offeredFor = { installed: now, tools: offeredTools(opts.home, opts.filter) };
    return offeredFor.tools;
  };

  const toolHost = (): ToolHost => {
    const canElicit = Boolean(server.getClientCapabilities()?.elicitation?.form);
    // The host's own dialogs, when it has them, are a channel the agent cannot answer; elicitation goes through the client.
    const confirmer = opts.confirmer ?? (canElicit ? elicitingConfirmer(server) : undefined);
    return new ToolHost({
      home: opts.home,
      // Without the host's consent UI nobody can be asked: grants are made with `mpp grant` or in the editor.
      ...(opts.consent ? { consent: opts.consent, consentSource: 'editor' as const } : {}),
      ...(confirmer ? { confirmer } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      audit: opts.audit,
      ...(opts.auditGrouped ? { auditGrouped: opts.auditGrouped } : {}),
      sandboxes,
      ...(opts.log ? { log: opts.log } : {}),
    });
  };

  // The packages a client was just shown are made ready while the session is idle (sandbox.md §5):
  // verified, compiled and, where the stored decisions give the grant, their sandbox started, so a
  // first call waits for none of it. At most PREPARED_AHEAD packages a session (a SpiderMonkey one
  // holds ~40 MB of compiled code and ~36 MB a sandbox), most recently installed first, one at a
  // time, each once (failed or not: a tool that never starts would cost its start limit again).
  const tried = new Set<string>();
  let waiting: InstalledRecord[] = [];
  let inFlight = 0;
  let running = false;
  let closed = false;
  let preparing: NodeJS.Timeout | undefined;
  const prepareAhead = (tools: readonly OfferedTool[]): void => {
    // A newer listing replaces what an older one left waiting.
    waiting = [...new Map(tools.map((t) => [t.package.name, t.package])).values()]
      .filter((p) => !tried.has(`${p.name}\0${p.digest}`))
      .sort((a, b) => b.installedAt.localeCompare(a.installedAt));
    if (!running) schedule();
  };
  const schedule = (): void => {
    clearTimeout(preparing);
    preparing = setTimeout(prepareNext, PREPARE_AFTER_MS);
    preparing.unref();
  };
  const prepareNext = (): void => {
    if (closed || tried.size >= PREPARED_AHEAD) return;
    // Idle means no call running: one that is would wait for the package's hashing.
    if (inFlight > 0) return schedule();
    const p = waiting.shift();
    if (!p) return;
    tried.add(`${p.name}\0${p.digest}`);
    running = true;
    const t0 = performance.now();
    toolHost()
      .prepare(p.name, { workspace: opts.workspace, ...opts.limits })
      .then(
        (how) => {
          const what = how === 'started' ? 'sandbox started under its stored grant' : 'compiled; its grant is decided at its first call';
          opts.log?.(p.name, { level: 'debug', source: 'sandbox', message: `${p.name} ${p.version} prepared for its first call in ${Math.round(performance.now() - t0)} ms (${what})` });
        },
        // A call reports an MPP refusal, with its code, to whoever makes it; anything else is a bug to see.
        (e: unknown) => logUnexpected(`preparing ${p.name}`, e),
      )
      .catch(() => {})
      .finally(() => {
        running = false;
        if (waiting.length > 0) schedule();
      });
  };

  server.setRequestHandler(ListToolsRequestSchema, () => {
    let tools: OfferedTool[];
    try {
      installed = installedNow();
      tools = offered(installed);
    } catch (e) {
      logUnexpected('listing tools', e);
      const err = coded(e);
      throw new McpError(ErrorCode.InternalError, `${err.code}: ${err.message}`, err.toJSON());
    }
    listed = signature(tools);
    prepareAhead(tools);
    return { tools: tools.map(mcpToolDefinition) };
  });

  server.setRequestHandler(ToolsCallRequest, async (request, extra) => {
    try {
      const target = offered().find((t) => t.name === request.params.name);
      if (!target) {
        throw new MppError('MPP_E_TOOL_UNKNOWN', `No MPP tool is offered here as ${JSON.stringify(request.params.name.slice(0, 100))}.`, {
          hint: 'List the tools again: the package may have been uninstalled, or this server was started with --package/--tool that leave it out.',
        });
      }
      const done = opts.onCall?.(`${target.package.name}/${target.tool.name}`);
      inFlight++;
      const result = await toolHost()
        .call({
          target: { installed: target.package.name },
          tool: target.tool.name,
          input: argumentsText(request.params.arguments),
          caller: { ...(opts.credential !== undefined ? { credential: opts.credential } : {}), label: server.getClientVersion()?.name ?? '' },
          workspace: opts.workspace,
          ...opts.limits,
          // notifications/cancelled: the call stops (its worker is stopped) and is audited as MPP_E_CANCELLED.
          signal: extra.signal,
        })
        .finally(() => {
          inFlight--;
          done?.();
        });
      const output = result.output as Record<string, unknown>;
      return {
        content: [{ type: 'text', text: JSON.stringify(output) }, ...result.notices.map((n) => ({ type: 'text' as const, text: `Notice: ${n}` }))],
        structuredContent: output,
      };
    } catch (e) {
      logUnexpected(`calling ${request.params.name}`, e);
      return mcpErrorResult(e);
    }
  });

  const watchMs = opts.watchMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  server.oninitialized = () => {
    if (watchMs <= 0) return;
    timer = setInterval(() => {
      if (listed === undefined) return;
      try {
        const now = installedNow();
        if (now === installed) return;
        installed = now;
        if (signature(offered(now)) === listed) return;
      } catch {
        return; // the next tools/list reports it
      }
      listed = undefined;
      server.sendToolListChanged().catch(() => {});
    }, watchMs);
    timer.unref();
  };
  server.onclose = () => {
    clearInterval(timer);
    closed = true;
    clearTimeout(preparing);
    if (!opts.sandboxes) void sandboxes.dispose();
  };
  return server;
}

/** Confirmations as MCP form elicitations: approved only by an explicit accept with approve = true. */
function elicitingConfirmer(server: Server): Confirmer {
  return {
    async confirm(request, signal) {
      const result = await server.elicitInput(
        {
          message: confirmationMessage(request),
          requestedSchema: {
            type: 'object',
            properties: { approve: { type: 'boolean', title: 'Approve', description: 'Allow this operation, once.', default: false } },
            required: ['approve'],
          },
        },
        { signal, timeout: request.timeoutMs },
      );
      return result.action === 'accept' && result.content?.approve === true ? 'approved' : 'denied';
    },
  };
}

function confirmationMessage(r: ConfirmationRequest): string {
  const shown = r.arguments.length > ARGUMENTS_SHOWN ? `${r.arguments.slice(0, ARGUMENTS_SHOWN)}… (${r.arguments.length - ARGUMENTS_SHOWN} more characters not shown)` : r.arguments;
  const what = r.kind === 'call' ? `call ${r.tool} of ${r.package} ${r.version} (${r.sensitivity})` : `let ${r.tool} of ${r.package} ${r.version} do ${JSON.stringify(r.operation)}`;
  return `MPP: ${describeCaller(r.agent)} wants to ${what}.\n${r.kind === 'call' ? 'Input' : 'Details'}: ${shown}`;
}
