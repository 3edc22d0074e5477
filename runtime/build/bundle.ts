// Types only: esbuild itself is loaded when a build runs, not by every command.
import type { Message } from 'esbuild';
import { MppError } from '../errors.ts';

/** The host interfaces of the world: resolved by the component, never by the bundler. */
const HOST_IMPORTS = ['mpp:tool/*'];

/**
 * Bundles the tool's entry into one ESM file for a JS engine that has no Node
 * built-ins and no module loader: platform neutral, everything inlined except
 * the world's imports. Output is deterministic for the same sources.
 */
export async function bundleTool(entryPath: string, projectDir: string): Promise<string> {
  return (await runBundler(entryPath, projectDir, 'esm')).text;
}

/**
 * The development variant (see dev-loader.ts): CommonJS, so the generic
 * engine can evaluate it with `require` standing for the world's imports, and
 * the list of those imports, which selects the engine component.
 */
export async function bundleDevelopmentTool(entryPath: string, projectDir: string): Promise<{ source: string; imports: string[] }> {
  const { text, imports } = await runBundler(entryPath, projectDir, 'cjs');
  return { source: text, imports };
}

async function runBundler(entryPath: string, projectDir: string, format: 'esm' | 'cjs'): Promise<{ text: string; imports: string[] }> {
  let result;
  try {
    const { build } = await import('esbuild');
    result = await build({
      entryPoints: [entryPath],
      absWorkingDir: projectDir,
      bundle: true,
      write: false,
      format,
      metafile: true,
      platform: 'neutral',
      // Neutral resolves no package fields by default; npm dependencies of a tool need these.
      mainFields: ['module', 'main'],
      conditions: ['import', 'default'],
      target: 'es2022',
      external: HOST_IMPORTS,
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
    });
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors ?? [];
    throw new MppError('MPP_E_BUILD_FAILED', `Bundling ${entryPath} failed:\n${errors.map(formatMessage).join('\n') || String(e)}`, {
      hint: isNodeBuiltin(errors)
        ? 'Tools run in a sandbox without Node built-ins (node:fs, node:path...): use the host interfaces of the mpp:tool world instead.'
        : 'Fix the error in the tool source and build again.',
      cause: e,
      detail: { stage: 'bundle', errors: errors.map(formatMessage) },
    });
  }
  const out = result.outputFiles[0];
  if (!out) throw new MppError('MPP_E_BUILD_FAILED', 'Bundling produced no output.', { detail: { stage: 'bundle' } });
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  return { text: out.text, imports: [...new Set(imports)].sort() };
}

function formatMessage(m: Message): string {
  const where = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
  return `${where}${m.text}`;
}

function isNodeBuiltin(errors: Message[]): boolean {
  return errors.some((m) => /Could not resolve "(node:|fs|path|os|crypto|child_process|http|https|net)\b/.test(m.text));
}
