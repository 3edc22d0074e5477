import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MppError } from '../errors.ts';

/**
 * Finds a folder shipped with MPP by walking up from this module: the same
 * code runs from source (runtime/build/locate.ts, two levels down) and from the
 * esbuild bundle (dist/cli.js, one level down), so a fixed `../..` would be
 * wrong in one of them. `marker` is a file inside the folder, so an unrelated
 * folder of the same name higher up is never taken.
 */
export function locatePackageFolder(folder: string, marker: string, from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    if (existsSync(join(dir, folder, marker))) return join(dir, folder);
    const parent = dirname(dir);
    if (parent === dir) {
      throw new MppError('MPP_E_INTERNAL', `MPP's ${folder} folder was not found above ${fileURLToPath(from)}.`, {
        hint: 'Reinstall MPP: the package is incomplete.',
        detail: { folder },
      });
    }
    dir = parent;
  }
}

/** The WIT package every tool component targets (spec/wit, holding mpp.wit). */
export function locateWitDir(from?: string): string {
  return locatePackageFolder(join('spec', 'wit'), 'mpp.wit', from);
}

/** What `mpp init` copies (cli/template). */
export function locateTemplateDir(from?: string): string {
  return locatePackageFolder(join('cli', 'template'), 'mpp.manifest.json', from);
}

/** The author SDK's entry (sdk/index.ts), what a tool's `import ... from 'mpp:sdk'` bundles. */
export function locateSdkEntry(from?: string): string {
  return join(locatePackageFolder('sdk', 'index.ts', from), 'index.ts');
}
