/**
 * Tool worker entry: one worker thread per grant serves calls one at a time,
 * each in a fresh component instance built from that grant (the next one is
 * prepared while the worker is idle).
 *
 * Bundling: esbuild builds this file as its own entry (dist/sandbox-worker.js);
 * see workerEntryUrl() in ../host.ts.
 *
 * Nothing here has authority of its own beyond what the grant lists: every
 * import the component sees is constructed below, per instance, from the
 * grant; the shim's process-wide defaults (preopen of /, the host
 * environment, process.exit, open network) are never handed to the guest.
 */
import { fstatSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { io as shimIo } from '@bytecodealliance/preview2-shim';
import type { LogLevel, LogRecord } from '../host-services.ts';
import { LOG_LEVELS, type CallMessage, type InitMessage, type SpareInit, type WorkerError, type WorkerInit, type WorkerMessage } from '../protocol.ts';
import { Capture, createCliImports, ToolExit } from './cli.ts';
import { FdRegistry } from './fd-table.ts';
import { linuxFdStrategy } from './fs-at.ts';
import { portableStrategy } from './fs-portable.ts';
import { hostPlatform } from './fs-platform.ts';
import { createFilesystemImports, type Preopen } from './fs.ts';
import { sameFile } from './fs-strategy.ts';
import { createMppImports } from './mpp.ts';
import { loadDevelopmentSource } from './development.ts';
import type { RedactionReport } from './io-extension.ts';
import { createHttpImports, createSocketImports } from './net.ts';
import { reportFsErrorsTo } from './fs-errors.ts';
import { RefusalLog } from './refusals.ts';
import { answerJspiProbeCheaply } from './jspi-probe.ts';
import { AheadRefused, CoreReuse } from './core-reuse.ts';

const MAX_OPEN_FDS = 256;
const MAX_LOG_MESSAGE = 8 * 1024;
const MAX_TOOL_ERROR_TEXT = 4 * 1024;
const MAX_TOOL_ERROR_DETAILS = 64 * 1024;

interface ToolHandler {
  call(tool: string, input: string): unknown;
}

answerJspiProbeCheaply();
const port = parentPort!;
const init = await initOf(workerData as WorkerInit | SpareInit);

/** This worker's sandbox: in workerData, or, for a spare started ahead (../tool-worker.ts), in its first message. */
function initOf(data: WorkerInit | SpareInit): Promise<WorkerInit> {
  if (!('spare' in data)) return Promise.resolve(data);
  return new Promise((resolve) => {
    port.once('message', (m: InitMessage) => resolve(m.init));
  });
}
const post = (m: WorkerMessage) => port.postMessage(m);

// Per-call log budget: text beyond it is dropped, with one notice.
let logBudget = init.logBudgetBytes;
let logTruncated = false;
function emitLog(record: LogRecord): void {
  if (logBudget <= 0) {
    if (!logTruncated) {
      logTruncated = true;
      post({ type: 'log', record: { level: 'warn', source: 'sandbox', message: 'log output of this call exceeded its budget; the rest was dropped' } });
    }
    return;
  }
  let message = record.message;
  if (message.length > MAX_LOG_MESSAGE) message = message.slice(0, MAX_LOG_MESSAGE) + '…';
  logBudget -= Buffer.byteLength(message, 'utf8');
  post({ type: 'log', record: { level: record.level, source: record.source, message } });
}

const stdoutCapture = new Capture(init.logBudgetBytes);
const stderrCapture = new Capture(init.logBudgetBytes);
function flushCaptures(): void {
  for (const [source, capture] of [['stdout', stdoutCapture], ['stderr', stderrCapture]] as const) {
    const got = capture.take();
    if (!got) continue;
    const suffix = got.dropped ? `\n[${got.dropped} more bytes dropped]` : '';
    emitLog({ level: source === 'stderr' ? 'warn' : 'info', source, message: got.text + suffix });
  }
}

function clip(s: unknown, max: number): string {
  const text = typeof s === 'string' ? s : String(s);
  return text.length > max ? text.slice(0, max) + '…' : text;
}

/** The memories of the instance serving the call. */
let memories: readonly WebAssembly.Memory[] = [];
const memoryCapBytes = Math.floor(init.grant.limits.memoryBytes / 65536) * 65536;
function memoryExhausted(): boolean {
  // A failed grow leaves the memory at its last successful size, up to one
  // large allocation short of the cap: count the last eighth (at least
  // 16 MiB) as "at the cap".
  const slack = Math.max(memoryCapBytes / 8, 16 * 1024 * 1024);
  return memories.some((m) => m.buffer.byteLength + slack >= memoryCapBytes);
}

/**
 * What StarlingMonkey writes to stderr when an async `call`'s promise is still
 * pending and nothing is left to run; it then traps or exits. Only the tool's
 * own failure can be reclassified by a tool printing it.
 */
const UNSETTLED_MARKER = 'event loop error, but no exception is pending';

function classify(e: unknown): WorkerError {
  if ((e instanceof ToolExit || e instanceof WebAssembly.RuntimeError) && stderrCapture.includes(UNSETTLED_MARKER)) {
    return { code: 'MPP_E_TOOL_UNSETTLED', message: "The tool's call returned a promise that never settled.", detail: { reason: 'unsettled' }, fatal: true };
  }
  if (e instanceof ToolExit) {
    return { code: 'MPP_E_TOOL_CRASHED', message: `The tool called exit(${e.status}) instead of returning.`, detail: { reason: 'exit', status: e.status }, fatal: true };
  }
  if (e !== null && typeof e === 'object' && !(e instanceof Error) && typeof (e as { code?: unknown }).code === 'string') {
    const te = e as { code: string; message?: unknown; details?: unknown };
    return {
      code: 'MPP_E_TOOL_ERROR',
      message: 'The tool returned an error for this call.',
      detail: {
        toolCode: clip(te.code, 128),
        toolMessage: clip(te.message ?? '', MAX_TOOL_ERROR_TEXT),
        ...(typeof te.details === 'string' ? { toolDetails: clip(te.details, MAX_TOOL_ERROR_DETAILS) } : {}),
      },
      fatal: false,
    };
  }
  if (memoryExhausted()) {
    return { code: 'MPP_E_TOOL_MEMORY', message: `The tool ran out of memory at its limit of ${memoryCapBytes} bytes.`, detail: { limitBytes: memoryCapBytes }, fatal: true };
  }
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { code: 'MPP_E_TOOL_CRASHED', message: 'The tool trapped.', detail: { reason: 'trap', trap: clip(text, 512) }, fatal: true };
}


/**
 * Every call gets a clean component instance: nothing a call leaves in the
 * tool's memory, globals, tables or open files reaches the next call (which
 * may come from another agent). The core instances are reset to their state
 * after the first instantiation where the component allows it (core-reuse.ts),
 * made anew otherwise; either happens right after the previous call, while
 * the worker is idle, so a call normally finds its instance ready.
 * Per worker, built once: imports with no per-instance state (clocks, env,
 * captured output, network policy, host services bridge).
 */
const fds = new FdRegistry(MAX_OPEN_FDS);
/** Why the host refused the running call's latest WASI request (mpp:tool/refusal). */
const refusals = new RefusalLog();
reportFsErrorsTo(refusals.recordFs);
/** The instance the next call will use; set at start-up and after every call. */
let ready: Promise<Ready> | undefined;

interface Ready {
  readonly handler: ToolHandler;
  /** Made by resetting kept instances (core-reuse.ts), not by instantiating anew. */
  readonly reset: boolean;
}

function sharedImports(): Record<string, unknown> {
  const grant = init.grant;
  const cli = createCliImports({ env: grant.env, stdout: stdoutCapture, stderr: stderrCapture, maxRandomBytes: 1024 * 1024 });
  const netCtx = {
    grants: grant.net,
    privacy: grant.privacy,
    extensionUrl: new URL(init.extensionUrl),
    denied: (reason: string) => {
      refusals.record('HTTP-request-denied', 'network-denied', reason);
      emitLog({ level: 'warn', source: 'sandbox', message: `network request refused: ${reason}` });
    },
  };
  const http = createHttpImports(netCtx);
  takeRedactions = http.takeRedactions;
  const sockets = createSocketImports();
  const mpp = createMppImports({
    port: init.hostPort,
    signal: new Int32Array(init.hostSignal),
    available: init.services,
    log: (level: LogLevel, message: string) => emitLog({ level: LOG_LEVELS.includes(level) ? level : 'info', source: 'tool', message }),
  });

  return {
    'mpp:tool/kv': mpp.kv,
    'mpp:tool/log': mpp.log,
    'mpp:tool/identity': mpp.identity,
    'mpp:tool/confirm': mpp.confirm,
    'mpp:tool/refusal': refusals.imports(),
    'wasi:cli/environment': cli.environment,
    'wasi:cli/exit': cli.exit,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:clocks/monotonic-clock': cli.clocks.monotonicClock,
    'wasi:clocks/wall-clock': cli.clocks.wallClock,
    'wasi:io/error': shimIo.error,
    'wasi:io/poll': shimIo.poll,
    'wasi:io/streams': shimIo.streams,
    'wasi:random/random': cli.random.random,
    'wasi:random/insecure': cli.random.insecure,
    'wasi:random/insecure-seed': cli.random.insecureSeed,
    'wasi:http/types': http.types,
    'wasi:http/outgoing-handler': http.outgoingHandler,
    'wasi:sockets/instance-network': sockets.instanceNetwork,
    'wasi:sockets/network': sockets.network,
    'wasi:sockets/ip-name-lookup': sockets.ipNameLookup,
    'wasi:sockets/tcp': sockets.tcp,
    'wasi:sockets/tcp-create-socket': sockets.tcpCreateSocket,
    'wasi:sockets/udp': sockets.udp,
    'wasi:sockets/udp-create-socket': sockets.udpCreateSocket,
  };
}

type Glue = {
    instantiate(
      getCoreModule: (name: string) => WebAssembly.Module,
      imports: Record<string, unknown>,
      instantiateCore: (m: WebAssembly.Module, i?: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
    ): Promise<Record<string, unknown>>;
};

let takeRedactions: () => RedactionReport | null = () => null;

/** Reports what the call's requests had redacted (counts only) and any request refused for it. */
function reportRedactions(): void {
  let report: RedactionReport | null;
  try {
    report = takeRedactions();
  } catch {
    emitLog({ level: 'error', source: 'sandbox', message: 'redaction counts of this call could not be collected' });
    return;
  }
  if (!report) return;
  for (const reason of report.refused) emitLog({ level: 'warn', source: 'sandbox', message: `network request refused: ${reason}` });
  if (Object.keys(report.counts).length > 0) post({ type: 'redaction', direction: 'http', counts: report.counts });
}

let shared: { imports: Record<string, unknown>; glue: Glue } | undefined;
const core = new CoreReuse(init.modules, init.state.resettable ? init.state.modules : null, {
  ...(init.state.resettable ? {} : { offReason: init.state.reason }),
  shared: { memories: init.snapshotMemories, offer: (memories) => post({ type: 'snapshot', memories }) },
  ahead: init.ahead === true,
});

const fsStrategy = init.fs.strategy === 'linux-fd' ? linuxFdStrategy : portableStrategy(hostPlatform(), init.fs.lockDir);

async function instantiateFresh(): Promise<Ready> {
  if (!shared) shared = { imports: sharedImports(), glue: (await import(init.glueUrl)) as Glue };
  const grant = init.grant;
  const preopens: Preopen[] = grant.fs.map((g, i) => {
    const root = fsStrategy.openRoot(g.hostPath, fds);
    // The folder granted, not whatever has its name now (see WorkerInit.fs.roots).
    if (!sameFile(fstatSync(root.fd, { bigint: true }), init.fs.roots[i]!)) {
      throw Object.assign(new Error(`the granted folder ${g.hostPath} was moved or replaced after this sandbox opened it; the call was refused (a new sandbox opens the folder at that path now)`), { mppCode: 'MPP_E_GRANT_INVALID' });
    }
    return { fd: root.fd, dir: root.dir, guestPath: g.guestPath, writable: g.write };
  });
  const fsImports = createFilesystemImports({ fds, strategy: fsStrategy }, preopens);
  const imports = { ...shared.imports, 'wasi:filesystem/types': fsImports.types, 'wasi:filesystem/preopens': fsImports.preopens };
  const getCoreModule = (name: string): WebAssembly.Module => {
    const m = init.modules[name];
    // Only modules the host compiled (and capped) may be instantiated.
    if (!m) throw new Error(`the glue asked for an unknown core module ${name}`);
    return m;
  };
  const made = await core.instantiate((instantiateCore) => shared!.glue.instantiate(getCoreModule, imports, instantiateCore));
  memories = made.memories;
  const exports = made.result;
  const h = (exports['mpp:tool/handler@0.1.0'] ?? exports.handler) as ToolHandler | undefined;
  if (!h || typeof h.call !== 'function') throw Object.assign(new Error('the component does not export mpp:tool/handler'), { mppCode: 'MPP_E_TOOL_INVALID' });
  if (init.developmentSource !== undefined) loadDevelopmentSource(h, init.developmentSource);
  return { handler: h, reset: made.reset };
}

/** Drops the instance that served a call (its files and memory) and prepares the next one. */
function retireAndPrepareNext(): void {
  fds.closeAll();
  memories = [];
  ready = instantiateFresh();
  // A failure surfaces on the next call; never as an unhandled rejection.
  ready.catch(() => {});
}


async function runCall(msg: CallMessage): Promise<void> {
  // Checked here, not on the host's main thread, where parsing a large input would stall
  // every other call; input that is not JSON never reaches the tool, nor uses up its instance.
  try {
    JSON.parse(msg.input);
  } catch {
    post({ type: 'failed', id: msg.id, error: { code: 'MPP_E_INPUT_INVALID', message: 'The input is not valid JSON text.', fatal: false } });
    return;
  }
  let instance: Ready;
  try {
    if (!ready) throw new Error('the worker has not started an instance');
    instance = await ready;
  } catch (e) {
    post({ type: 'failed', id: msg.id, error: instantiationError(e) });
    return;
  }
  // The time limit bounds the tool's work, not the wait for its instance (a loaded machine).
  post({ type: 'started', id: msg.id, instance: instance.reset ? 'reset' : 'new' });
  try {
    serve(instance.handler, msg);
  } finally {
    retireAndPrepareNext();
  }
}

function serve(handler: ToolHandler, msg: CallMessage): void {
  logBudget = init.logBudgetBytes;
  logTruncated = false;
  refusals.clear();
  let output: unknown;
  try {
    output = handler.call(msg.tool, msg.input);
  } catch (e) {
    const error = classify(e);
    flushCaptures();
    reportRedactions();
    post({ type: 'failed', id: msg.id, error });
    return;
  }
  flushCaptures();
  reportRedactions();
  const limit = init.grant.limits.maxOutputBytes;
  if (typeof output !== 'string') {
    // A promise (an async-lifted export) would keep running guest code after the call: the worker goes with it.
    post({ type: 'failed', id: msg.id, error: { code: 'MPP_E_OUTPUT_INVALID', message: 'The tool returned something other than a string.', fatal: true } });
    return;
  }
  // Length in UTF-16 units bounds UTF-8 bytes from below (x1) and above (x3):
  // skip the exact count when it cannot matter.
  const bytes = output.length * 3 <= limit ? output.length : Buffer.byteLength(output, 'utf8');
  if (bytes > limit) {
    post({ type: 'failed', id: msg.id, error: { code: 'MPP_E_OUTPUT_TOO_LARGE', message: `The tool output is ${bytes} bytes; the limit is ${limit}.`, detail: { bytes, limit }, fatal: false } });
    return;
  }
  try {
    JSON.parse(output);
  } catch {
    post({ type: 'failed', id: msg.id, error: { code: 'MPP_E_OUTPUT_INVALID', message: 'The tool output is not valid JSON text.', fatal: false } });
    return;
  }
  post({ type: 'result', id: msg.id, output });
}

function instantiationError(e: unknown): WorkerError {
  if (e instanceof AheadRefused) return { code: 'MPP_E_TOOL_INVALID', message: `The tool's sandbox was not started ahead of a call: ${clip(e.message, 512)}.`, fatal: true };
  const code = (e as { mppCode?: WorkerError['code'] }).mppCode ?? 'MPP_E_TOOL_INVALID';
  return { code, message: `The tool could not be instantiated: ${clip(e instanceof Error ? e.message : e, 512)}`, fatal: true };
}

port.on('message', (msg: CallMessage) => {
  if (msg?.type === 'call') void runCall(msg);
});

ready = instantiateFresh();
ready.then(
  () => post({ type: 'ready' }),
  (e: unknown) => post({ type: 'init-failed', error: instantiationError(e) }),
);
