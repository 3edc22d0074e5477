import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parseJson } from '../format/strict-json.ts';
import { dropFuncExport } from './drop-export.ts';

const COMPONENTIZE_QJS = 'componentize-qjs';

interface QjsModule {
  componentize(opts: { witPath: string; jsSource: string; world?: string; sync?: boolean }): Promise<{ component: Uint8Array }>;
}

/**
 * Builds a component with componentize-qjs (QuickJS), the backend jco uses
 * for `--backend qjs`. `sync` selects the runtime without component-model
 * async, the only one Node 22 hosts can run (the async one needs JSPI). No
 * jsPath: the bundle is self-contained, and leaving the path out keeps the
 * project's location out of the component. The engine's own `init` export
 * is taken out (drop-export.ts): the tool world exports only the handler.
 */
export async function componentizeQuickJs(source: string, witDir: string, worldName: string): Promise<Uint8Array> {
  const mod = (await import(COMPONENTIZE_QJS)) as QjsModule & { default?: QjsModule };
  const qjs = typeof mod.componentize === 'function' ? mod : mod.default!;
  const { component } = await qjs.componentize({ witPath: witDir, jsSource: source, world: worldName, sync: true });
  return dropFuncExport(new Uint8Array(component.buffer, component.byteOffset, component.byteLength), 'init');
}

export async function quickJsVersion(): Promise<string> {
  const pkgJson = createRequire(import.meta.url).resolve(`${COMPONENTIZE_QJS}/package.json`);
  return (parseJson(await readFile(pkgJson, 'utf8')) as { version: string }).version;
}
