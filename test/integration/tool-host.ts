import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';

/**
 * Test support: runs a built tool component in this process the way a host
 * would, with stub host interfaces and WASI from preview2-shim that has no
 * preopens, no environment and no network. Not the MPP runtime: only enough
 * to prove a component built by runtime/build really runs.
 */
export interface HostError { tag: 'not-available' | 'denied' | 'quota-exceeded' | 'invalid-argument' | 'internal'; val: string }
export interface StubHost {
  readonly logs: [level: string, message: string][];
  readonly kv: Map<string, Uint8Array>;
  /** Keys whose `set` the stub refuses with `denied`, to see how a tool gets a host error. */
  readonly deniedKeys: Set<string>;
}
export interface LoadedTool {
  call(tool: string, input: string): string;
  readonly host: StubHost;
  /** Milliseconds: transpileBytes, and compile + instantiate. */
  readonly timings: { transpile: number; instantiate: number };
  /** Compiles and instantiates the same transpiled component again (a warm start). */
  instantiateAgain(): Promise<LoadedTool>;
}

export async function loadTool(component: Uint8Array): Promise<LoadedTool> {
  const t0 = performance.now();
  const { files } = await transpileBytes(component, { name: 'tool', instantiation: 'async' });
  const transpile = performance.now() - t0;
  const glue = files['tool.js'];
  if (!glue) throw new Error(`transpile produced no tool.js (got ${Object.keys(files).join(', ')})`);
  // The glue imports nothing in async-instantiation mode, so it loads from memory.
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(glue).toString('base64')}`)) as {
    instantiate(getCoreModule: (path: string) => Promise<WebAssembly.Module>, imports: Record<string, unknown>): Promise<Record<string, unknown>>;
  };
  const compiled = new Map<string, Promise<WebAssembly.Module>>();
  const getCoreModule = (path: string) => {
    let m = compiled.get(path);
    if (!m) {
      const bytes = files[path];
      if (!bytes) throw new Error(`transpile produced no ${path}`);
      m = WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
      compiled.set(path, m);
    }
    return m;
  };
  const instantiate = async (): Promise<LoadedTool> => {
    const t1 = performance.now();
    const host: StubHost = { logs: [], kv: new Map(), deniedKeys: new Set() };
    const exports = await mod.instantiate(getCoreModule, { ...wasiImports(), ...stubImports(host) });
    const instantiateMs = performance.now() - t1;
    const handler = (exports.handler ?? exports['mpp:tool/handler@0.1.0']) as { call(tool: string, input: string): string };
    return {
      call: (tool, input) => handler.call(tool, input),
      host,
      timings: { transpile, instantiate: instantiateMs },
      instantiateAgain: instantiate,
    };
  };
  return instantiate();
}

function wasiImports(): Record<string, unknown> {
  const imports: Record<string, unknown> = new WASIShim({ sandbox: { preopens: {}, env: {}, args: [], enableNetwork: true } }).getImportObject();
  // The shim's exit ends the whole process; a tool must never be able to do that.
  imports['wasi:cli/exit'] = { exit: () => { throw new Error('tool called wasi:cli/exit'); }, exitWithCode: () => { throw new Error('tool called wasi:cli/exit'); } };
  return imports;
}

function hostError(tag: HostError['tag'], val: string): Error {
  // jco lowers a thrown error's `payload` into the import's `err` value.
  return Object.assign(new Error(`${tag}: ${val}`), { payload: { tag, val } satisfies HostError });
}

function stubImports(host: StubHost): Record<string, unknown> {
  return {
    'mpp:tool/kv': {
      get: (key: string) => host.kv.get(key),
      set: (key: string, value: Uint8Array) => {
        if (host.deniedKeys.has(key)) throw hostError('denied', `kv write to ${key} not granted`);
        host.kv.set(key, value);
      },
      delete: (key: string) => host.kv.delete(key),
      listKeys: (prefix: string, limit: number) => [...host.kv.keys()].filter((k) => k.startsWith(prefix)).sort().slice(0, limit),
    },
    'mpp:tool/log': { write: (level: string, message: string) => void host.logs.push([level, message]) },
    'mpp:tool/identity': { caller: () => ({ agentId: 'unverified:test', displayName: 'Test agent', verified: false }) },
    'mpp:tool/confirm': { request: () => 'denied' },
    'mpp:tool/refusal': { take: () => undefined },
  };
}
