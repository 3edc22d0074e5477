import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MppError } from '../errors.ts';
import { TOOL_WORLD } from '../format/tool-world.ts';

const MPP_PREFIX = 'mpp:tool/';

export interface BuildWorld {
  /** A folder holding spec/wit and the build world, for the engine. */
  readonly witDir: string;
  readonly worldName: string;
}

/**
 * The WIT a JS tool is componentized against: spec/wit plus a world that is
 * the tool world narrowed to every mpp:tool interface and the WASI interfaces
 * the bundle itself imports. The engines link every import of the world they
 * are given (and QuickJS's snapshot step cannot link wasi:http 0.2.12), so a
 * component built against the whole tool world would import all of it; this
 * way it imports what its code uses, plus what the engine itself needs.
 * A source import outside the tool world fails the build, naming it.
 *
 * One folder per process and source folder, each world in its own file named
 * by its content: componentize-js's WIT reader runs on WASI and sees only the
 * folders preopened when it first starts in a process, so the folder's path
 * must stay the same from one build to the next.
 */
export function prepareBuildWorld(witDir: string, hostImports: readonly string[]): BuildWorld {
  const wasi: string[] = [];
  for (const name of hostImports) {
    if (!TOOL_WORLD.imports.includes(name)) {
      const offered = TOOL_WORLD.imports.find((w) => w.split('@')[0] === name.split('@')[0]);
      throw new MppError('MPP_E_BUILD_FAILED', `The tool imports "${name}", which the mpp:tool world does not offer.`, {
        hint: offered ? `Import "${offered}" (the version the world pins).` : 'A tool may import only the interfaces of the tool world (spec/wit/mpp.wit).',
        detail: { stage: 'bundle', import: name },
      });
    }
    if (!name.startsWith(MPP_PREFIX)) wasi.push(name);
  }
  const local = (n: string) => n.slice(MPP_PREFIX.length, n.indexOf('@'));
  const lines = [
    ...TOOL_WORLD.imports.filter((n) => n.startsWith(MPP_PREFIX)).map((n) => `    import ${local(n)};`),
    ...wasi.map((n) => `    import ${n};`),
    ...TOOL_WORLD.exports.map((n) => `    export ${local(n)};`),
  ].join('\n');
  const worldName = `build-h${createHash('sha256').update(lines).digest('hex').slice(0, 16)}`;
  const dir = sharedDir(witDir);
  const file = join(dir, `${worldName}.wit`);
  if (!existsSync(file)) {
    const version = TOOL_WORLD.exports[0]!.split('@')[1];
    const staging = `${file}.${process.pid}.tmp`;
    writeFileSync(staging, `package mpp:tool@${version};\n\nworld ${worldName} {\n${lines}\n}\n`);
    renameSync(staging, file);
  }
  return { witDir: dir, worldName };
}

const shared = new Map<string, string>();

function sharedDir(witDir: string): string {
  let dir = shared.get(witDir);
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'mpp-wit-'));
    cpSync(witDir, dir, { recursive: true, filter: (src) => src.endsWith('.wit') || statSync(src).isDirectory() });
    const made = dir;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    shared.set(witDir, dir);
  }
  return dir;
}
