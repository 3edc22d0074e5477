/**
 * Generates the TypeScript types of the tool world (spec/wit, world `tool`)
 * as a guest sees them, into sdk/wit-types/: the author SDK is typed from the
 * WIT, never from a hand-copied declaration. `node scripts/sdk-types.ts`
 * rewrites the folder; test/unit/build/sdk-types.test.ts fails when it is
 * out of date.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WIT_DIR = join(ROOT, 'spec', 'wit');
export const TYPES_DIR = join(ROOT, 'sdk', 'wit-types');

/** Path (relative to TYPES_DIR) -> text, as jco generates them. */
export async function generateSdkTypes(): Promise<Map<string, string>> {
  // jco's WIT reader is a component run through preview2-shim, which
  // preopens nothing: give it exactly the WIT folder (this is a build script,
  // no tool runs in this process).
  const { _setPreopens } = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as { _setPreopens(p: Record<string, string>): void };
  _setPreopens({ [WIT_DIR]: WIT_DIR });
  const { generateGuestTypes } = await import('@bytecodealliance/jco-transpile');
  const files = await generateGuestTypes(WIT_DIR, { worldName: 'tool' });
  const out = new Map<string, string>();
  for (const [path, bytes] of Object.entries(files)) out.set(path, new TextDecoder().decode(bytes as Uint8Array));
  return out;
}

/** Every file under TYPES_DIR, relative, with its text. */
export function listTypeFiles(dir = TYPES_DIR, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTypeFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await generateSdkTypes();
  rmSync(TYPES_DIR, { recursive: true, force: true });
  for (const [path, text] of files) {
    mkdirSync(dirname(join(TYPES_DIR, path)), { recursive: true });
    writeFileSync(join(TYPES_DIR, path), text);
  }
  console.log(`wrote ${files.size} files to ${TYPES_DIR}`);
}
