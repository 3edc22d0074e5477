import { MppError } from '../errors.ts';
import type { ToolDefinition } from '../format/manifest.ts';
import { describeToolSchemaErrors, toolSchemaValidator } from '../schema.ts';
import { prepareComponent, runTool } from '../sandbox/index.ts';
import { sha256Hex } from '../hash.ts';
import type { SandboxPool } from './sandbox-pool.ts';
import type { GrantInput, Limits } from '../sandbox/grant.ts';
import type { HostServices } from '../sandbox/host-services.ts';
import { COMPONENT_ENTRY, DEVELOPMENT_SOURCE_ENTRY } from '../format/layout.ts';
import { developmentSourceOf } from './development.ts';
import { entrySha256 } from '../trust/digest.ts';
import { assertVerified, type ExaminedPackage, type VerifiedPackage } from '../trust/gatekeeper.ts';
import { parseJson } from '../format/strict-json.ts';

export interface Invocation {
  /** A package that passed the gatekeeper. */
  readonly pkg: VerifiedPackage;
  readonly tool: ToolDefinition;
  /** The input JSON text, already checked by the caller (checkInputSize, checkInput): governance checks it before anyone is asked to confirm. */
  readonly input: string;
  /** What the tool may reach, with every limit decided (runtime/policy). */
  readonly grant: GrantInput & { readonly limits: Limits };
  readonly services: HostServices;
  /** Transpiled-component cache (trusted code; never inside a grant). */
  readonly cacheDir: string;
  /** Keep sandboxes between calls (long-running hosts); absent: one sandbox for this call, stopped after it. */
  readonly pool?: SandboxPool;
  /** Ends the call by stopping its worker (ToolCall.signal). */
  readonly signal?: AbortSignal;
}

export { checkInputSize } from '../sandbox/index.ts';

export function findTool(pkg: ExaminedPackage, name: string): ToolDefinition {
  const tool = pkg.manifest.tools.find((t) => t.name === name);
  if (!tool) {
    throw new MppError('MPP_E_TOOL_UNKNOWN', `${pkg.manifest.name} has no tool "${name}"; it has ${pkg.manifest.tools.map((t) => t.name).join(', ')}.`, {
      hint: 'Run `mpp inspect` to list the tools of a package.',
    });
  }
  return tool;
}

/** Parses and validates input against the tool's input schema: the tool never sees input its schema refuses. */
export function checkInput(tool: ToolDefinition, input: string): unknown {
  let value: unknown;
  try {
    value = parseJson(input);
  } catch (e) {
    throw new MppError('MPP_E_INPUT_INVALID', `The input for ${tool.name} is not JSON: ${(e as Error).message}.`, { hint: 'Pass a JSON object, e.g. --input \'{"name":"Ada"}\'.', cause: e });
  }
  const validate = toolSchemaValidator(tool.inputSchema);
  if (!validate(value)) {
    throw new MppError('MPP_E_INPUT_INVALID', `The input for ${tool.name} does not match its input schema: ${describeToolSchemaErrors(validate.errors, 'input')}.`, {
      hint: 'Run `mpp inspect --json` to see the tool\'s inputSchema.',
      detail: { errors: validate.errors?.slice(0, 5).map((e) => ({ path: e.instancePath, message: e.message })) },
    });
  }
  return value;
}

/** A tool that breaks its own output contract is a bug in the tool; nothing it produced is passed on. */
export function checkOutput(tool: ToolDefinition, output: string): unknown {
  let value: unknown;
  try {
    value = parseJson(output);
  } catch (e) {
    throw new MppError('MPP_E_OUTPUT_INVALID', `${tool.name} returned output that MPP cannot read as JSON: ${(e as Error).message}.`, { hint: 'This is a bug in the tool: report it to its publisher.', cause: e });
  }
  const validate = toolSchemaValidator(tool.outputSchema);
  if (!validate(value)) {
    throw new MppError('MPP_E_OUTPUT_INVALID', `${tool.name} returned output that does not match its output schema: ${describeToolSchemaErrors(validate.errors, 'output')}.`, {
      hint: 'This is a bug in the tool: report it to its publisher.',
    });
  }
  return value;
}

/**
 * Transpiles (disk cache) and compiles (process cache) the component of a
 * verified package under `limits`, as its first call would: that call then
 * finds the modules compiled.
 */
export async function prepareToolComponent(pkg: VerifiedPackage, limits: Limits, cacheDir: string): Promise<void> {
  assertVerified(pkg);
  await prepareComponent(pkg.entries.component.data, { cacheDir, memoryBytes: limits.memoryBytes, digest: entrySha256(pkg.digest, COMPONENT_ENTRY) });
}

/**
 * One call of a tool whose input was checked: a fresh sandbox instance under
 * the grant (from a kept sandbox when `pool` is given) -> output checked. The
 * component is compiled once per process and its transpilation cached on
 * disk, so a fresh instance costs an instantiation.
 */
export async function invokeTool(inv: Invocation): Promise<unknown> {
  assertVerified(inv.pkg);
  const tool = inv.tool;
  const options = sandboxOptions(inv.pkg, inv.grant, inv.cacheDir);
  const call = inv.signal ? { signal: inv.signal } : {};
  if (inv.pool) {
    const key = poolKey(inv.pkg, options, inv.services.kv !== undefined);
    return checkOutput(tool, await inv.pool.call(key, options, inv.services, tool.name, inv.input, call));
  }
  return checkOutput(tool, await runTool({ ...options, services: inv.services, tool: tool.name, input: inv.input, ...call }));
}

/** Starts, ahead of the first call, the kept sandbox a call under exactly this grant would use (ToolHost.prepare); false when the pool has no room. */
export function warmTool(w: { readonly pkg: VerifiedPackage; readonly grant: Invocation['grant']; readonly kv: boolean; readonly cacheDir: string; readonly pool: SandboxPool }): Promise<boolean> {
  assertVerified(w.pkg);
  const options = sandboxOptions(w.pkg, w.grant, w.cacheDir);
  return w.pool.warm(poolKey(w.pkg, options, w.kv), options, w.kv);
}

function sandboxOptions(pkg: VerifiedPackage, grant: Invocation['grant'], cacheDir: string) {
  return {
    component: pkg.entries.component.data,
    componentDigest: entrySha256(pkg.digest, COMPONENT_ENTRY),
    grant,
    cacheDir,
    ...developmentSourceOf(pkg),
  };
}

/**
 * One kept sandbox per component and exact grant: a changed grant never reuses one. The
 * kv grant is not in `grant` (its store comes with the services), so its presence is keyed too.
 * Development packages share one engine component: their source is keyed as well.
 */
function poolKey(pkg: VerifiedPackage, options: ReturnType<typeof sandboxOptions>, kv: boolean): string {
  const source = pkg.entries.development ? entrySha256(pkg.digest, DEVELOPMENT_SOURCE_ENTRY) : null;
  return sha256Hex(JSON.stringify([options.componentDigest, options.grant, kv, ...(source ? [source] : [])]));
}
