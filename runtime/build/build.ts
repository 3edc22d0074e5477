import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serializeManifest, type Manifest } from '../format/manifest.ts';
import { COMPONENT_ENTRY, MANIFEST_ENTRY, README_ENTRY } from '../format/layout.ts';
import { writeArchive } from '../format/write.ts';
import { bundleTool } from './bundle.ts';
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

  progress('bundling…');
  let t = performance.now();
  const source = await bundleTool(project.entryPath, project.dir, engine);
  lap('bundle', t);

  progress(`componentizing (${engine})…`);
  t = performance.now();
  const cache = opts.cache === false ? undefined : componentCacheIn(join(project.dir, CACHE_DIR));
  const { component, cached } = await componentizeTool(source, { engine, witDir: opts.witDir ?? locateWitDir(), cache });
  lap('componentize', t);

  progress('packing…');
  t = performance.now();
  const entries = new Map<string, Uint8Array>([
    [MANIFEST_ENTRY, serializeManifest(project.manifest)],
    [COMPONENT_ENTRY, component],
  ]);
  if (project.readme) entries.set(README_ENTRY, project.readme);
  const archive = writeArchive(entries);
  lap('pack', t);
  lap('total', start);

  return { archive, manifest: project.manifest, componentBytes: component.byteLength, timings, engine, cached };
}
