import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serializeManifest, type Manifest } from '../format/manifest.ts';
import { COMPONENT_ENTRY, MANIFEST_ENTRY, README_ENTRY } from '../format/layout.ts';
import { writeArchive } from '../format/write.ts';
import { checkToolComponent } from '../format/world.ts';
import { bundleTool } from './bundle.ts';
import { prepareBuildWorld } from './build-world.ts';
import { componentCacheIn } from './cache.ts';
import { DEFAULT_ENGINE, componentizeTool, type ComponentizeResult, type Engine } from './componentize.ts';
import { locateWitDir } from './locate.ts';
import { readPrebuiltComponent } from './prebuilt.ts';
import { readProject, type Project } from './project.ts';

export interface BuildOptions {
  projectDir: string;
  engine?: Engine;
  onProgress?: (msg: string) => void;
  /** Reuse the component of an unchanged bundle from <projectDir>/.mpp/cache (default true): see cache.ts. */
  cache?: boolean;
  /** The WIT folder; defaults to MPP's own spec/wit. */
  witDir?: string;
  /**
   * A component built by any toolchain, packed as it is instead of building
   * src/index.ts (which then need not exist). It must target the tool world.
   */
  componentFile?: string;
}

export interface BuildResult {
  /** The unsigned .mpp archive. */
  archive: Uint8Array;
  manifest: Manifest;
  componentBytes: number;
  /** Milliseconds per stage: bundle, componentize, pack, total. */
  timings: Record<string, number>;
  /** The JS engine inside the component; absent for a prebuilt component. */
  engine?: Engine;
  /** True when the component came from the project's cache. */
  cached: boolean;
}

export const CACHE_DIR = join('.mpp', 'cache');

/** project -> bundle -> component (or a prebuilt one) -> world check -> archive. Every stage throws an MppError or hands data on. */
export async function buildPackage(opts: BuildOptions): Promise<BuildResult> {
  const engine = opts.engine ?? DEFAULT_ENGINE;
  const progress = opts.onProgress ?? (() => {});
  const timings: Record<string, number> = {};
  const start = performance.now();
  const lap = (stage: string, since: number) => (timings[stage] = Math.round(performance.now() - since));

  const project = readProject(opts.projectDir, { entry: opts.componentFile === undefined });
  if (opts.componentFile !== undefined) progress('reading the prebuilt component…');
  const { component, cached } =
    opts.componentFile !== undefined ? { component: readPrebuiltComponent(opts.componentFile), cached: false } : await jsComponent(project, engine, opts, progress, lap);
  // The gatekeeper's own check: a package this build writes is one every host accepts.
  checkToolComponent(component);

  progress('packing…');
  const t = performance.now();
  const entries = new Map<string, Uint8Array>([
    [MANIFEST_ENTRY, serializeManifest(project.manifest)],
    [COMPONENT_ENTRY, component],
  ]);
  if (project.readme) entries.set(README_ENTRY, project.readme);
  const archive = writeArchive(entries);
  lap('pack', t);
  lap('total', start);

  return { archive, manifest: project.manifest, componentBytes: component.byteLength, timings, ...(opts.componentFile === undefined ? { engine } : {}), cached };
}

/** src/index.ts -> bundle -> component, against the tool world narrowed to what the bundle imports. */
async function jsComponent(project: Project, engine: Engine, opts: BuildOptions, progress: (msg: string) => void, lap: (stage: string, since: number) => void): Promise<ComponentizeResult> {
  progress('bundling…');
  let t = performance.now();
  const bundle = await bundleTool(project.entryPath, project.dir, engine);
  lap('bundle', t);

  progress(`componentizing (${engine})…`);
  t = performance.now();
  const cache = opts.cache === false ? undefined : componentCacheIn(join(project.dir, CACHE_DIR));
  const witDir = opts.witDir ?? locateWitDir();
  const result = await componentizeTool(bundle.source, { engine, witDir, world: prepareBuildWorld(witDir, bundle.hostImports), cache });
  lap('componentize', t);
  return result;
}
