// Types only: esbuild itself is loaded when a build runs, not by every command.
import type { Message, Plugin } from 'esbuild';
import { MppError } from '../errors.ts';
import { locateSdkEntry } from './locate.ts';

/** The interfaces of the tool world: resolved by the component, never by the bundler (`mpp:sdk` is MPP's SDK, bundled). */
const HOST_IMPORTS = ['mpp:tool/*', 'wasi:*'];

export interface Bundle {
  readonly source: string;
  /** The world interfaces the source imports (`wasi:filesystem/preopens@0.2.12`...), sorted. */
  readonly hostImports: readonly string[];
}

/** Resolves `mpp:sdk` to MPP's own SDK, so a tool needs no npm dependency for it. */
function sdkPlugin(): Plugin {
  return {
    name: 'mpp-sdk',
    setup(b) {
      b.onResolve({ filter: /^mpp:sdk$/ }, () => ({ path: locateSdkEntry() }));
    },
  };
}

/**
 * Bundles the tool's entry into one ESM file for a JS engine that has no Node
 * built-ins and no module loader: platform neutral, everything inlined except
 * the world's imports. Output is deterministic for the same sources.
 */
export async function bundleTool(entryPath: string, projectDir: string, engine: string): Promise<Bundle> {
  return runBundler(entryPath, projectDir, 'esm', engine);
}

/**
 * The development variant (see dev-loader.ts): CommonJS, so the generic
 * engine can evaluate it with `require` standing for the world's imports, and
 * the list of those imports, which selects the engine component.
 */
export async function bundleDevelopmentTool(entryPath: string, projectDir: string, engine: string): Promise<Bundle> {
  return runBundler(entryPath, projectDir, 'cjs', engine);
}

async function runBundler(entryPath: string, projectDir: string, format: 'esm' | 'cjs', engine: string): Promise<Bundle> {
  let result;
  try {
    const { build } = await import('esbuild');
    result = await build({
      entryPoints: [entryPath],
      absWorkingDir: projectDir,
      bundle: true,
      write: false,
      format,
      platform: 'neutral',
      // Neutral resolves no package fields by default; npm dependencies of a tool need these.
      mainFields: ['module', 'main'],
      conditions: ['import', 'default'],
      target: 'es2022',
      external: HOST_IMPORTS,
      plugins: [sdkPlugin()],
      // The SDK adapts to the engine's bindings (sdk/engine.ts).
      define: { __MPP_ENGINE__: JSON.stringify(engine) },
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
      metafile: true,
    });
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors ?? [];
    throw new MppError('MPP_E_BUILD_FAILED', `Bundling ${entryPath} failed:\n${errors.map(formatMessage).join('\n') || String(e)}`, {
      hint: isNodeBuiltin(errors)
        ? "Tools run in a sandbox without Node built-ins (node:fs, node:path...): use the MPP author SDK instead (import { files, env } from 'mpp:sdk')."
        : 'Fix the error in the tool source and build again.',
      cause: e,
      detail: { stage: 'bundle', errors: errors.map(formatMessage) },
    });
  }
  const out = result.outputFiles[0];
  if (!out) throw new MppError('MPP_E_BUILD_FAILED', 'Bundling produced no output.', { detail: { stage: 'bundle' } });
  const imported = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  return { source: out.text, hostImports: [...new Set(imported)].sort() };
}

function formatMessage(m: Message): string {
  const where = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
  return `${where}${m.text}`;
}

function isNodeBuiltin(errors: Message[]): boolean {
  return errors.some((m) => /Could not resolve "(node:|fs|path|os|crypto|child_process|http|https|net)\b/.test(m.text));
}
