/**
 * Messages between the host (parent thread) and a tool worker. Every message
 * carries a `type`; the host validates what it receives before acting.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Grant } from './grant.ts';
import type { RedactionCounts } from '../privacy/redact.ts';
import type { LogLevel, LogRecord } from './host-services.ts';
import { TOOL_WORLD } from '../format/tool-world.ts';
import type { ComponentState } from './prepare.ts';
import type { FileId, FsStrategyName } from './worker/fs-strategy.ts';

export interface WorkerInit {
  /** file: URL of the transpiled glue module. */
  readonly glueUrl: string;
  /** Compiled, memory-capped core modules by file name. */
  readonly modules: Record<string, WebAssembly.Module>;
  /** Whether the modules' instances can be reset between calls, and where their state is (worker/core-reuse.ts). */
  readonly state: ComponentState;
  /** The snapshot bytes of the modules' memories, shared by the workers of this package once the first made them (worker/core-reuse.ts). */
  readonly snapshotMemories: readonly SharedArrayBuffer[] | undefined;
  readonly grant: Grant;
  /** Where the tool worker finds io-extension for the shim's IO worker. */
  readonly extensionUrl: string;
  readonly hostSignal: SharedArrayBuffer;
  readonly hostPort: MessagePort;
  readonly services: { kv: boolean; identity: boolean; confirm: boolean };
  /** Bytes of stdout/stderr/log text kept per call. */
  readonly logBudgetBytes: number;
  /**
   * How filesystem grants are walked (../fs-strategy.ts), the portable
   * strategy's lock, and each granted folder's identity when the sandbox was
   * made (index-aligned with grant.fs): a folder replaced since is refused.
   */
  readonly fs: { readonly strategy: FsStrategyName; readonly lockDir: string; readonly roots: readonly FileId[] };
  /** A development package's source, loaded into every fresh instance (worker/development.ts). */
  readonly developmentSource?: string;
  /** Started ahead of any call (SandboxOptions.ahead): the first instance may call nothing of the host while it is made. */
  readonly ahead?: true;
}

/** workerData of a spare worker (../tool-worker.ts): it waits for an InitMessage. */
export interface SpareInit {
  readonly spare: true;
}

/** The one message a spare gets before any call: the sandbox it now serves (hostPort transferred). */
export interface InitMessage {
  readonly type: 'init';
  readonly init: WorkerInit;
}

export interface CallMessage {
  readonly type: 'call';
  readonly id: number;
  readonly tool: string;
  readonly input: string;
}

/** An error the worker classified; the host turns it into an MppError. */
export interface WorkerError {
  readonly code:
    | 'MPP_E_TOOL_ERROR'
    | 'MPP_E_TOOL_CRASHED'
    | 'MPP_E_TOOL_UNSETTLED'
    | 'MPP_E_TOOL_MEMORY'
    | 'MPP_E_TOOL_INVALID'
    | 'MPP_E_TOOL_UNSUPPORTED_IMPORT'
    | 'MPP_E_OUTPUT_TOO_LARGE'
    | 'MPP_E_OUTPUT_INVALID'
    | 'MPP_E_INPUT_INVALID'
    | 'MPP_E_GRANT_INVALID';
  readonly message: string;
  readonly detail?: Record<string, unknown>;
  /** The instance can no longer be used; the host discards the worker. */
  readonly fatal: boolean;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-failed'; readonly error: WorkerError }
  /** The call's instance is ready and the tool is about to run: its time limit starts now. */
  | { readonly type: 'started'; readonly id: number; readonly instance: InstanceOrigin }
  | { readonly type: 'result'; readonly id: number; readonly output: string }
  | { readonly type: 'failed'; readonly id: number; readonly error: WorkerError }
  | { readonly type: 'log'; readonly record: LogRecord }
  /** Once, by the first worker of a package that keeps instances: its memories' snapshot for later workers. */
  | { readonly type: 'snapshot'; readonly memories: readonly SharedArrayBuffer[] }
  /** Sent before the call's result: what was redacted from its outbound HTTP. */
  | { readonly type: 'redaction'; readonly direction: 'http'; readonly counts: RedactionCounts };

/** How the instance serving a call was made: kept instances reset to their snapshot, or instantiated anew. */
export type InstanceOrigin = 'reset' | 'new';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Every interface the sandbox provides, by unversioned name (the key jco's
 * bindings use): exactly what the tool world lists (spec/wit/mpp.wit). A
 * component importing anything else is refused before it runs.
 */
export const SUPPORTED_IMPORTS: readonly string[] = TOOL_WORLD.imports.map((name) => name.slice(0, name.lastIndexOf('@')));
