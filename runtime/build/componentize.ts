import { MppError } from '../errors.ts';
import type { BuildWorld } from './build-world.ts';
import { componentKey, type ComponentCache } from './cache.ts';
import { componentizeQuickJs, quickJsVersion } from './quickjs.ts';
import { componentizeSpiderMonkey, spiderMonkeyVersion } from './spidermonkey.ts';

export const ENGINES = ['spidermonkey', 'quickjs'] as const;
export type Engine = (typeof ENGINES)[number];
/** SpiderMonkey: the full Web API set (fetch, crypto, TextEncoder, timers) and async `call`; see bench/engines.ts. */
export const DEFAULT_ENGINE: Engine = 'spidermonkey';
export const WORLD_NAME = 'tool';

export interface ComponentizeResult {
  readonly component: Uint8Array;
  readonly cached: boolean;
}

/**
 * Turns a bundled tool into a component for the mpp:tool world, reusing a
 * cached one when nothing changed. `witDir` is the WIT the component is keyed by; `world`, when given, the
 * folder and world the engine builds against (build-world.ts), else `witDir`'s
 * own world `tool`.
 */
export async function componentizeTool(source: string, opts: { engine: Engine; witDir: string; world?: BuildWorld; cache?: ComponentCache }): Promise<ComponentizeResult> {
  const { engine, cache } = opts;
  const { witDir: engineWitDir, worldName } = opts.world ?? { witDir: opts.witDir, worldName: WORLD_NAME };
  const witDir = opts.witDir;
  const engineVersion = engine === 'quickjs' ? await quickJsVersion() : await spiderMonkeyVersion();
  const key = cache ? componentKey({ engine, engineVersion, witDir, worldName, source }) : undefined;
  const hit = key ? cache?.get(key) : undefined;
  if (hit) return { component: hit, cached: true };
  let component: Uint8Array;
  try {
    component = engine === 'quickjs' ? await componentizeQuickJs(source, engineWitDir, worldName) : await componentizeSpiderMonkey(source, engineWitDir, worldName);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new MppError('MPP_E_BUILD_FAILED', `Componentizing with ${engine} failed:\n${why.trim()}`, {
      hint: 'Check that src/index.ts exports `handler` with a `call(tool, input)` method and imports only interfaces of the tool world (spec/wit/mpp.wit); top-level code runs at build time.',
      cause: e,
      detail: { stage: 'componentize', engine },
    });
  }
  if (key) cache?.put(key, component);
  return { component, cached: false };
}

export function isEngine(value: unknown): value is Engine {
  return (ENGINES as readonly unknown[]).includes(value);
}
