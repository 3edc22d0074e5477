import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serializeManifest, type Manifest } from '../format/manifest.ts';
import { COMPONENT_ENTRY, MANIFEST_ENTRY, README_ENTRY } from '../format/layout.ts';
import { writeArchive } from '../format/write.ts';
import { bundleDevelopmentTool, bundleTool } from './bundle.ts';
import { DEVELOPMENT_SOURCE_ENTRY } from '../format/development.ts';
import { developmentLoaderSource } from './dev-loader.ts';
import { componentCacheIn } from './cache.ts';
import { DEFAULT_ENGINE, componentizeTool, type Engine } from './componentize.ts';
import { locateWitDir } from './locate.ts';
import { readProject } from './project.ts';

export interface BuildOptions {
  projectDir: string;
  engine?: Engine;
  onProgress?: (msg: string) => void;
  /** Reuse the component of an unchanged bundle from <projectDir>/.mpp/cache (default true): see cache.ts. */
  cache?: boolean;
  /** The WIT folder; defaults to MPP's own spec/wit. */
  witDir?: string;
  /**
   * A development build (spec/format.md): the engine is not pre-initialised
   * with the tool; a generic engine component, cached by the imports the tool
   * uses, is packed with the bundled source, which the engine evaluates when
   * an instance starts. Fast to rebuild; never signed with `mpp sign`, never
   * published.
   */
  development?: boolean;
}

export interface BuildResult {
  /** The unsigned .mpp archive. */
  archive: Uint8Array;
  manifest: Manifest;
  componentBytes: number;
  /** Milliseconds per stage: bundle, componentize, pack, total. */
  timings: Record<string, number>;
  engine: Engine;
  /** True when the component came from the project's cache. */
  cached: boolean;
  development: boolean;
}

export const CACHE_DIR = join('.mpp', 'cache');

/** project -> bundle -> component -> archive. Every stage throws an MppError or hands data on. */
export async function buildPackage(opts: BuildOptions): Promise<BuildResult> {
  const engine = opts.engine ?? DEFAULT_ENGINE;
  const progress = opts.onProgress ?? (() => {});
  const timings: Record<string, number> = {};
  const start = performance.now();
  const lap = (stage: string, since: number) => (timings[stage] = Math.round(performance.now() - since));

  const project = readProject(opts.projectDir);

  const development = opts.development === true;
  progress('bundling…');
  let t = performance.now();
  const bundled = development ? await bundleDevelopmentTool(project.entryPath, project.dir) : { source: await bundleTool(project.entryPath, project.dir), imports: [] };
  lap('bundle', t);

  progress(development ? `engine component (${engine}, built once per set of imports)…` : `componentizing (${engine})…`);
  t = performance.now();
  // Development engines apart: release builds must not evict the one component every development build shares.
  const cacheDir = development ? join(project.dir, CACHE_DIR, 'development') : join(project.dir, CACHE_DIR);
  const cache = opts.cache === false ? undefined : componentCacheIn(cacheDir);
  const componentSource = development ? developmentLoaderSource(bundled.imports) : bundled.source;
  const { component, cached } = await componentizeTool(componentSource, { engine, witDir: opts.witDir ?? locateWitDir(), cache });
  lap('componentize', t);

  progress('packing…');
  t = performance.now();
  const entries = new Map<string, Uint8Array>([
    [MANIFEST_ENTRY, serializeManifest(project.manifest)],
    [COMPONENT_ENTRY, component],
  ]);
  if (project.readme) entries.set(README_ENTRY, project.readme);
  if (development) entries.set(DEVELOPMENT_SOURCE_ENTRY, new TextEncoder().encode(bundled.source));
  const archive = writeArchive(entries);
  lap('pack', t);
  lap('total', start);

  return { archive, manifest: project.manifest, componentBytes: component.byteLength, timings, engine, cached, development };
}
