import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, parse } from 'node:path';
import { pathToFileURL } from 'node:url';

const COMPONENTIZE_JS = '@bytecodealliance/componentize-js';

interface ShimFilesystem {
  _addPreopen(virtualPath: string, hostPath: string): void;
  preopens: { getDirectories(): unknown[] };
}

/**
 * Builds a component with componentize-js (StarlingMonkey, SpiderMonkey
 * inside). Two quirks of componentize-js 0.23 are handled here:
 *  - its WIT parser is itself a component run through preview2-shim, which
 *    (>= 0.26.1) preopens nothing, so it cannot read the WIT folder. We preopen
 *    exactly that folder, read-only in practice, for the duration of the call
 *    and take it away again; never `/`, since the shim's preopens are
 *    process-wide.
 *  - it derives a path prefix from process.cwd() and breaks when the working
 *    directory is the filesystem root (it drops two characters of the path).
 */
export async function componentizeSpiderMonkey(source: string, witDir: string, worldName: string): Promise<Uint8Array> {
  const { componentize } = (await import(COMPONENTIZE_JS)) as typeof import('@bytecodealliance/componentize-js');
  const fs = await shimFilesystemOf(COMPONENTIZE_JS);
  const workDir = await mkdtemp(join(tmpdir(), 'mpp-build-'));
  const sourcePath = join(workDir, 'tool.js');
  await writeFile(sourcePath, source);
  return serialized(async () => {
    const restoreCwd = leaveFilesystemRoot(workDir);
    const removePreopen = addPreopen(fs, witDir);
    try {
      const { component } = await componentize({ sourcePath, witPath: witDir, worldName });
      return component;
    } finally {
      removePreopen();
      restoreCwd();
      await rm(workDir, { recursive: true, force: true });
    }
  });
}

/**
 * Read from its package.json (beside src/, which its `exports` hides):
 * importing componentize-js for its `version` export costs ~0.2 s, on every
 * build, even when the component then comes from the cache.
 */
export async function spiderMonkeyVersion(): Promise<string> {
  const pkgJson = new URL('../package.json', import.meta.resolve(COMPONENTIZE_JS));
  return (JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string }).version;
}

/**
 * The preview2-shim instance componentize-js itself loads: resolving from our
 * own location could give a different copy (a bundled one, or another
 * version), whose preopens the WIT parser would never see.
 */
async function shimFilesystemOf(pkg: string): Promise<ShimFilesystem> {
  const requireFromPkg = createRequire(import.meta.resolve(pkg));
  const shimPath = requireFromPkg.resolve('@bytecodealliance/preview2-shim/filesystem');
  return (await import(pathToFileURL(shimPath).href)) as ShimFilesystem;
}

function addPreopen(fs: ShimFilesystem, dir: string): () => void {
  fs._addPreopen(dir, dir);
  const live = fs.preopens.getDirectories();
  const entry = live[live.length - 1];
  return () => {
    const now = fs.preopens.getDirectories();
    const i = now.indexOf(entry);
    if (i >= 0) now.splice(i, 1);
  };
}

function leaveFilesystemRoot(dir: string): () => void {
  const cwd = process.cwd();
  if (parse(cwd).root !== cwd) return () => {};
  process.chdir(dir);
  return () => process.chdir(cwd);
}

/** One componentize-js run at a time: the preopen and cwd above are process-wide. */
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

