import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MppError } from '../errors.ts';
import { serializeManifest, type Manifest } from '../format/manifest.ts';
import { COMPONENT_ENTRY, MANIFEST_ENTRY, README_ENTRY } from '../format/layout.ts';
import { writeArchive } from '../format/write.ts';
import { checkToolComponent } from '../format/world.ts';
import { bundleDevelopmentTool, bundleTool } from './bundle.ts';
import { prepareBuildWorld } from './build-world.ts';
import { DEVELOPMENT_SOURCE_ENTRY } from '../format/development.ts';
import { developmentLoaderSource } from './dev-loader.ts';
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
  /** The JS engine inside the component; absent for a prebuilt component. */
  engine?: Engine;
  /** True when the component came from the project's cache. */
  cached: boolean;
  development: boolean;
}

export const CACHE_DIR = join('.mpp', 'cache');

/** project -> bundle -> component (or a prebuilt one) -> world check -> archive. Every stage throws an MppError or hands data on. */
export async function buildPackage(opts: BuildOptions): Promise<BuildResult> {
  const engine = opts.engine ?? DEFAULT_ENGINE;
  const progress = opts.onProgress ?? (() => {});
  const timings: Record<string, number> = {};
  const start = performance.now();
  const lap = (stage: string, since: number) => (timings[stage] = Math.round(performance.now() - since));

  if (opts.componentFile !== undefined && opts.development) throw new MppError('MPP_E_USAGE', 'A prebuilt component cannot be a development build.', { hint: 'Leave out --dev, or --component.' });
  const project = readProject(opts.projectDir, { entry: opts.componentFile === undefined });
  if (opts.componentFile !== undefined) progress('reading the prebuilt component…');
  const development = opts.development === true;
  const built =
    opts.componentFile !== undefined ? { component: readPrebuiltComponent(opts.componentFile), cached: false, developmentSource: undefined } : await jsComponent(project, engine, development, opts, progress, lap);
  const { component, cached } = built;
  // The gatekeeper's own check: a package this build writes is one every host accepts.
  checkToolComponent(component);

  progress('packing…');
  const t = performance.now();
  const entries = new Map<string, Uint8Array>([
    [MANIFEST_ENTRY, serializeManifest(project.manifest)],
    [COMPONENT_ENTRY, component],
  ]);
  if (project.readme) entries.set(README_ENTRY, project.readme);
  if (built.developmentSource !== undefined) entries.set(DEVELOPMENT_SOURCE_ENTRY, new TextEncoder().encode(built.developmentSource));
  const archive = writeArchive(entries);
  lap('pack', t);
  lap('total', start);

  return { archive, manifest: project.manifest, componentBytes: component.byteLength, timings, ...(opts.componentFile === undefined ? { engine } : {}), cached, development };
}

/**
 * src/index.ts -> bundle -> component, against the tool world narrowed to what
 * the bundle imports. A development build packs a generic engine component
 * (cached by those imports) and returns the bundled source beside it.
 */
async function jsComponent(
  project: Project,
  engine: Engine,
  development: boolean,
  opts: BuildOptions,
  progress: (msg: string) => void,
  lap: (stage: string, since: number) => void,
): Promise<ComponentizeResult & { developmentSource: string | undefined }> {
  progress('bundling…');
  let t = performance.now();
  const bundle = development ? await bundleDevelopmentTool(project.entryPath, project.dir, engine) : await bundleTool(project.entryPath, project.dir, engine);
  lap('bundle', t);

  progress(development ? `engine component (${engine}, built once per set of imports)…` : `componentizing (${engine})…`);
  t = performance.now();
  // Development engines apart: release builds must not evict the one component every development build shares.
  const cacheDir = development ? join(project.dir, CACHE_DIR, 'development') : join(project.dir, CACHE_DIR);
  const cache = opts.cache === false ? undefined : componentCacheIn(cacheDir);
  const witDir = opts.witDir ?? locateWitDir();
  const componentSource = development ? developmentLoaderSource(bundle.hostImports) : bundle.source;
  const result = await componentizeTool(componentSource, { engine, witDir, world: prepareBuildWorld(witDir, bundle.hostImports), cache });
  lap('componentize', t);
  return { ...result, developmentSource: development ? bundle.source : undefined };
}
