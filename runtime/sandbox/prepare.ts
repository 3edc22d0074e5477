/**
 * From component bytes to what a tool worker instantiates:
 *   digest -> transpile (cached on disk by digest) -> check imports
 *          -> cap memory -> compile (cached in this process).
 *
 * The disk cache holds generated JavaScript that tool workers import and run
 * with full Node authority, so the cache directory must be private to the
 * host (created 0700); anyone who can write it can run code in the host.
 */
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../hash.ts';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMppError, MppError } from '../errors.ts';
import { SUPPORTED_IMPORTS } from './protocol.ts';
import { memoryCapEdit } from './wasm-memory.ts';
import { applyEdits, sections, SECTION, WASM_PAGE_BYTES, type Section, type SectionEdit } from './wasm-sections.ts';
import { codeWritesTables } from './wasm-code.ts';
import { stateExportEdit, type ModuleState } from './wasm-state.ts';
import { parseJson } from '../format/strict-json.ts';
import { readComponent } from '../format/component.ts';

const CACHE_FORMAT = 2;
const GLUE_NAME = 'tool';

export interface Transpiled {
  readonly digest: string;
  readonly dir: string;
  readonly glueUrl: string;
  readonly imports: readonly string[];
  readonly coreModules: readonly string[];
  /** Core modules whose code may write a table (wasm-code.ts), found once when transpiled: the pass costs ~50 ms for a 12 MB engine. */
  readonly tableWriters: readonly string[];
}

export interface PreparedComponent extends Transpiled {
  /** Memory cap compiled into the modules, in 64 KiB pages. */
  readonly memoryPages: number;
  /** Compiled core modules by file name; can be posted to workers. */
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  /** Each module's state exports (worker/core-reuse.ts), or why the component's instances cannot be reset. */
  readonly state: ComponentState;
  /** Filled once, by the first worker that keeps instances: its memories' snapshot, handed to later workers. */
  readonly snapshot: { memories: readonly SharedArrayBuffer[] | undefined };
}

export type ComponentState =
  | { readonly resettable: true; readonly modules: Readonly<Record<string, ModuleState>> }
  | { readonly resettable: false; readonly reason: string };

interface Compiled {
  readonly modules: Record<string, WebAssembly.Module>;
  readonly state: ComponentState;
  readonly snapshot: PreparedComponent['snapshot'];
}

interface CacheMeta {
  format: number;
  transpiler: string;
  imports: string[];
  coreModules: string[];
  tableWriters: string[];
}

/**
 * In-process caches of transpiled and compiled components. Bounded: a
 * long-running host sees many packages over time, and compiled modules are
 * large; past MAX_REMEMBERED the least recently used is forgotten (sandboxes
 * already made keep theirs).
 */
const MAX_REMEMBERED = 16;
const transpiling = new Map<string, Promise<Transpiled>>();
const compiling = new Map<string, Promise<Compiled>>();

function recall<T>(map: Map<string, Promise<T>>, key: string): Promise<T> | undefined {
  const p = map.get(key);
  if (p) {
    // Most recently used last: Map iteration order is the order of forgetting.
    map.delete(key);
    map.set(key, p);
  }
  return p;
}

function remember<T>(map: Map<string, Promise<T>>, key: string, p: Promise<T>): void {
  map.set(key, p);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
  // A failure is not remembered: the next call tries again.
  p.catch(() => {
    if (map.get(key) === p) map.delete(key);
  });
}

/**
 * Forgets the component `digest` transpiled into `cacheDir` and compiled, at
 * every cap: a host whose last sandbox of it stopped gives its compiled code
 * back (the disk cache stays). Sandboxes still running keep their modules.
 */
export function forgetComponent(cacheDir: string, digest: string): void {
  transpiling.delete(`${cacheDir}\0${digest}`);
  const dir = `${join(cacheDir, digest)}\0`;
  for (const key of [...compiling.keys()]) if (key.startsWith(dir)) compiling.delete(key);
}

/** Set by esbuild (`define`) in bundles, where jco-transpile's package.json is not beside the code. */
declare const __MPP_JCO_TRANSPILE_VERSION__: string | undefined;

let transpilerId: Promise<string> | undefined;
/** Name and version of the transpiler: cached output from another version is redone. */
function transpilerVersion(): Promise<string> {
  transpilerId ??= (async () => {
    if (typeof __MPP_JCO_TRANSPILE_VERSION__ === 'string') return `jco-transpile@${__MPP_JCO_TRANSPILE_VERSION__}`;
    try {
      const entry = createRequire(import.meta.url).resolve('@bytecodealliance/jco-transpile');
      const pkg = parseJson(await readFile(join(entry, '..', '..', 'package.json'), 'utf8')) as { version?: string };
      return `jco-transpile@${pkg.version ?? 'unknown'}`;
    } catch {
      return 'jco-transpile@unknown';
    }
  })();
  return transpilerId;
}

async function readCache(dir: string): Promise<CacheMeta | null> {
  try {
    const meta = parseJson(await readFile(join(dir, 'meta.json'), 'utf8')) as CacheMeta;
    if (meta.format !== CACHE_FORMAT || meta.transpiler !== (await transpilerVersion())) return null;
    if (!Array.isArray(meta.imports) || !Array.isArray(meta.coreModules) || !Array.isArray(meta.tableWriters)) return null;
    // The glue is loaded by the worker, where a missing file would look like a broken tool.
    await access(join(dir, `${GLUE_NAME}.js`));
    await access(join(dir, 'package.json'));
    return meta;
  } catch {
    return null;
  }
}

async function transpileInto(bytes: Uint8Array, cacheDir: string, digest: string): Promise<CacheMeta> {
  // Loaded only on a cache miss: it pulls in a native minifier and ~1 s of setup.
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  let result: Awaited<ReturnType<typeof transpileBytes>>;
  try {
    result = await transpileBytes(bytes, { name: GLUE_NAME, instantiation: 'async', emitTypescriptDeclarations: false });
  } catch (cause) {
    throw new MppError('MPP_E_TOOL_INVALID', 'The tool is not a WebAssembly component jco can transpile.', { cause });
  }
  const meta: CacheMeta = {
    format: CACHE_FORMAT,
    transpiler: await transpilerVersion(),
    imports: [...result.imports],
    coreModules: Object.keys(result.files).filter((n) => n.endsWith('.wasm')).sort(),
    tableWriters: Object.entries(result.files)
      .filter(([n, data]) => n.endsWith('.wasm') && mayWriteTables(data))
      .map(([n]) => n)
      .sort(),
  };
  const tmp = join(cacheDir, `.${digest}.${randomBytes(6).toString('hex')}`);
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    for (const [name, data] of Object.entries(result.files)) {
      if (!name.endsWith('.js') && !name.endsWith('.wasm')) continue;
      if (name.includes('/') || name.startsWith('.')) continue;
      await writeDurably(join(tmp, name), data);
    }
    // The glue is an ES module: without this, a package.json with "type": "commonjs" in any
    // folder above the MPP home (what `npm init -y` writes in ~) makes Node load it as CommonJS.
    await writeDurably(join(tmp, 'package.json'), '{ "type": "module" }\n');
    // meta.json last: a cache entry counts only once everything it lists is on disk.
    await writeDurably(join(tmp, 'meta.json'), JSON.stringify(meta));
    await rename(tmp, join(cacheDir, digest)).catch(async (e: NodeJS.ErrnoException) => {
      // Another process filled the slot first; theirs is equivalent.
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return meta;
}

/** Whether the module's code may write a table; a module this cannot read counts as one that may. */
function mayWriteTables(module: Uint8Array): boolean {
  try {
    return codeWritesTables(module, sections(module).find((s) => s.id === SECTION.code));
  } catch {
    return true;
  }
}

/** Written and fsync'd before the folder is renamed into place, so a power loss cannot leave a truncated module behind a valid meta.json. */
async function writeDurably(path: string, data: Uint8Array | string): Promise<void> {
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Moves a cache entry aside (one atomic step) and deletes it; absent: nothing to move. */
async function discardEntry(cacheDir: string, digest: string): Promise<void> {
  // Moved first, so a good copy another process renames into place meanwhile
  // is never the one deleted. The aside name is a staging name, which the
  // store's reclaim sweeps.
  const aside = join(cacheDir, `.${digest}.${randomBytes(6).toString('hex')}`);
  if (await rename(join(cacheDir, digest), aside).then(() => true, () => false)) await rm(aside, { recursive: true, force: true });
}

function checkBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) {
    throw new MppError('MPP_E_TOOL_INVALID', `Expected component bytes, got ${bytes instanceof Uint8Array ? bytes.length + ' bytes' : typeof bytes}.`);
  }
}

/**
 * The transpiled component from the cache, or transpiled now. `damaged` is a
 * result whose files turned out unreadable: unless another call already
 * replaced it, the entry is transpiled again whatever its meta.json says.
 */
function loadTranspiled(bytes: Uint8Array, cacheDir: string, digest: string, damaged?: Promise<Transpiled>): Promise<Transpiled> {
  const key = `${cacheDir}\0${digest}`;
  const known = recall(transpiling, key);
  if (known && known !== damaged) return known;
  const p = (async () => {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const dir = join(cacheDir, digest);
    let meta = damaged ? null : await readCache(dir);
    if (!meta) {
      // Partial, damaged or from another transpiler version.
      await discardEntry(cacheDir, digest);
      meta = await transpileInto(bytes, cacheDir, digest);
    }
    const unsupported = meta.imports.filter((i) => !SUPPORTED_IMPORTS.includes(i));
    if (unsupported.length > 0) {
      throw new MppError('MPP_E_TOOL_UNSUPPORTED_IMPORT', `The tool imports ${unsupported.join(', ')}, which this host does not provide.`, {
        detail: { imports: unsupported },
      });
    }
    return Object.freeze({
      digest,
      dir,
      glueUrl: pathToFileURL(join(dir, `${GLUE_NAME}.js`)).href,
      imports: Object.freeze(meta.imports),
      coreModules: Object.freeze(meta.coreModules),
      tableWriters: Object.freeze(meta.tableWriters),
    });
  })();
  remember(transpiling, key, p);
  return p;
}

/**
 * Transpiles (or finds in the cache) the component. `knownDigest` is the
 * SHA-256 of exactly these bytes when the caller already has it (the
 * gatekeeper computed it for the package digest): a 12 MB component is then
 * not hashed a second time on every load.
 */
export async function transpileComponent(bytes: Uint8Array, cacheDir: string, knownDigest?: string): Promise<Transpiled> {
  checkBytes(bytes);
  return loadTranspiled(bytes, cacheDir, knownDigest ?? sha256Hex(bytes));
}

/**
 * Reads, caps, exposes state (when every module allows it) and compiles the
 * core modules; cached per transpiled entry and cap. Both rewrites are made
 * in one copy of each module.
 */
function compileModules(t: Transpiled, memoryPages: number): Promise<Compiled> {
  const key = `${t.dir}\0${memoryPages}`;
  let p = recall(compiling, key);
  if (!p) {
    p = (async () => {
      const read: Record<string, { raw: Buffer; all: Section[]; cap?: SectionEdit }> = {};
      for (const name of t.coreModules) {
        let raw: Buffer;
        try {
          raw = await readFile(join(t.dir, name));
        } catch (cause) {
          throw new MppError('MPP_E_TOOL_INVALID', `Core module ${name} of the tool cannot be read from the cache.`, { cause });
        }
        const all = malformedAsInvalid(name, () => sections(raw));
        const { edit } = memoryCapEdit(raw, all, memoryPages);
        read[name] = { raw, all, ...(edit ? { cap: edit } : {}) };
      }
      const state = exposeState(read, t.tableWriters);
      const modules: Record<string, WebAssembly.Module> = {};
      for (const name of t.coreModules) {
        const { raw, cap } = read[name]!;
        const edits = [cap, state.exports[name]].filter((e): e is SectionEdit => e !== undefined);
        try {
          modules[name] = await WebAssembly.compile(applyEdits(raw, edits) as Uint8Array<ArrayBuffer>);
        } catch (cause) {
          throw new MppError('MPP_E_TOOL_INVALID', `Core module ${name} of the tool does not compile.`, { cause });
        }
      }
      return { modules, state: state.state, snapshot: { memories: undefined } };
    })();
    remember(compiling, key, p);
  }
  return p;
}

function malformedAsInvalid<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (cause) {
    throw new MppError('MPP_E_TOOL_INVALID', `Core module ${name} of the tool is malformed: ${(cause as Error).message}.`, { cause });
  }
}

/** Each module's state export edit, or (no module rewritten) why one of them cannot be reset: reuse is all or nothing. */
function exposeState(read: Readonly<Record<string, { raw: Buffer; all: Section[] }>>, tableWriters: readonly string[]): { exports: Record<string, SectionEdit | undefined>; state: ComponentState } {
  const exports: Record<string, SectionEdit | undefined> = {};
  const states: Record<string, ModuleState> = {};
  for (const [name, { raw, all }] of Object.entries(read)) {
    const r = malformedAsInvalid(name, () => stateExportEdit(raw, all, { codeWritesTables: tableWriters.includes(name) }));
    if (!r.state) return { exports: {}, state: { resettable: false, reason: `${name}: ${r.reason}` } };
    exports[name] = r.edit;
    states[name] = r.state;
  }
  return { exports, state: { resettable: true, modules: states } };
}

/**
 * Transpiles, caps memory at `memoryBytes` and compiles; both steps cached.
 * A cached entry whose modules cannot be read or compiled was damaged on disk
 * (they compiled when it was written): it is transpiled once more, and only a
 * failure of that fresh output is the tool's.
 */
export async function prepareComponent(bytes: Uint8Array, opts: { cacheDir: string; memoryBytes: number; digest?: string }): Promise<PreparedComponent> {
  checkBytes(bytes);
  // The gatekeeper checked a package's component already; this holds the sandbox API to the same (synchronous only) for any bytes.
  try {
    readComponent(bytes);
  } catch (cause) {
    if (!isMppError(cause)) throw cause;
    throw new MppError('MPP_E_TOOL_INVALID', cause.message, { ...(cause.hint ? { hint: cause.hint } : {}), cause });
  }
  const digest = opts.digest ?? sha256Hex(bytes);
  const memoryPages = Math.min(65536, Math.floor(opts.memoryBytes / WASM_PAGE_BYTES));
  const loading = loadTranspiled(bytes, opts.cacheDir, digest);
  let t = await loading;
  let compiled: Compiled;
  try {
    compiled = await compileModules(t, memoryPages);
  } catch (e) {
    if (!isMppError(e) || e.code !== 'MPP_E_TOOL_INVALID') throw e;
    t = await loadTranspiled(bytes, opts.cacheDir, digest, loading);
    compiled = await compileModules(t, memoryPages);
  }
  return Object.freeze({ ...t, memoryPages, modules: compiled.modules, state: compiled.state, snapshot: compiled.snapshot });
}
