/**
 * The sandbox host: runs one tool call of a WebAssembly component in a worker
 * thread, under a capability grant, and returns its output JSON text or a
 * coded MppError.
 *
 *   const sandbox = await createSandbox({ component, grant, cacheDir, services });
 *   const output = await sandbox.call('search', '{"q":"x"}');
 *   await sandbox.dispose();
 */
import { ToolSandbox, type CallOptions, type SandboxOptions } from './host.ts';

export { ToolSandbox, checkInputSize, workerEntryUrl, ioExtensionUrl, prewarmToolWorker, type CallOptions, type SandboxOptions } from './host.ts';
export { parseGrant, DEFAULT_LIMITS, type Grant, type GrantInput, type FsGrant, type NetGrant, type Limits, type PrivacyGrant } from './grant.ts';
export {
  HostServiceError,
  type HostServices,
  type KvService,
  type IdentityService,
  type ConfirmService,
  type Caller,
  type LogRecord,
  type LogLevel,
} from './host-services.ts';
export { forgetComponent, prepareComponent, transpileComponent, type PreparedComponent } from './prepare.ts';
export { chooseFsStrategy, FS_STRATEGY_ENV, type FsStrategyName } from './fs-strategy.ts';

/** Validates the grant, prepares the component and starts an instance. */
export function createSandbox(opts: SandboxOptions): Promise<ToolSandbox> {
  return ToolSandbox.create(opts);
}

/** One call in a fresh instance, disposed afterwards. */
export async function runTool(opts: SandboxOptions & CallOptions & { tool: string; input: string }): Promise<string> {
  const sandbox = await ToolSandbox.create(opts);
  try {
    return await sandbox.call(opts.tool, opts.input, opts.signal ? { signal: opts.signal } : {});
  } finally {
    await sandbox.dispose();
  }
}
