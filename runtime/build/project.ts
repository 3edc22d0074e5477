import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MppError, isMppError } from '../errors.ts';
import { parseManifest, type Manifest } from '../format/manifest.ts';

export const MANIFEST_SOURCE = 'mpp.manifest.json';
export const ENTRY_SOURCE = join('src', 'index.ts');
export const README_SOURCE = 'README.md';

/** A tool project on disk, read and checked before anything is built. */
export interface Project {
  readonly dir: string;
  readonly manifest: Manifest;
  /** src/index.ts; not required when a prebuilt component is packed. */
  readonly entryPath: string;
  readonly readme: Uint8Array | undefined;
}

export function readProject(projectDir: string, opts: { entry?: boolean } = {}): Project {
  const dir = resolve(projectDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw projectInvalid(`${dir} is not a folder.`, 'Pass the folder of a tool project (one made by `mpp init`).');
  }
  const manifestPath = join(dir, MANIFEST_SOURCE);
  if (!existsSync(manifestPath)) {
    throw projectInvalid(`${dir} has no ${MANIFEST_SOURCE}.`, 'Run `mpp build` in a tool project, or create one with `mpp init <name>`.', { file: MANIFEST_SOURCE });
  }
  const manifest = parseManifestSource(readFileSync(manifestPath));
  const entryPath = join(dir, ENTRY_SOURCE);
  if (opts.entry !== false && !existsSync(entryPath)) {
    throw projectInvalid(`${dir} has no ${ENTRY_SOURCE}.`, 'The tool code starts in src/index.ts, which exports `handler`.', { file: ENTRY_SOURCE });
  }
  const readmePath = join(dir, README_SOURCE);
  const readme = existsSync(readmePath) ? new Uint8Array(readFileSync(readmePath)) : undefined;
  return Object.freeze({ dir, manifest, entryPath, readme });
}

/** The manifest source is the manifest as it will be packed: the reader's own rules apply. */
function parseManifestSource(bytes: Uint8Array): Manifest {
  try {
    return parseManifest(bytes);
  } catch (e) {
    if (!isMppError(e)) throw e;
    throw projectInvalid(`${MANIFEST_SOURCE}: ${e.message}`, e.hint ?? 'Fix mpp.manifest.json (see spec/manifest.md).', { file: MANIFEST_SOURCE, reason: e.code }, e);
  }
}

function projectInvalid(message: string, hint: string, detail?: Record<string, unknown>, cause?: unknown): MppError {
  return new MppError('MPP_E_PROJECT_INVALID', message, { hint, detail, cause });
}
