/** The authoring build: `mpp init` and `mpp build`, pure Node. */
export { buildPackage, CACHE_DIR, type BuildOptions, type BuildResult } from './build.ts';
export { DEFAULT_ENGINE, ENGINES, isEngine, type Engine } from './componentize.ts';
export { initProject } from './init.ts';
export { locateTemplateDir, locateWitDir } from './locate.ts';
