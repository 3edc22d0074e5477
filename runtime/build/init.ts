import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PACKAGE_NAME_RE } from '../format/manifest.ts';
import { MppError } from '../errors.ts';
import { locateSdkEntry, locateTemplateDir } from './locate.ts';

/** The manifest schema's own name rule, so `init` and the reader never disagree. */

/**
 * Template files stored under another name: npm drops `.gitignore` from
 * published packages, so the template keeps it as `gitignore`.
 */
const RENAMES: Record<string, string> = { gitignore: '.gitignore' };

/**
 * Writes a new tool project into `dir` (created if missing, refused if not
 * empty) from cli/template, with `{{name}}`, `{{scope}}` and `{{shortName}}`
 * filled in (and `{{sdk}}`). Returns the files written, relative to `dir`, sorted.
 */
export function initProject(dir: string, name: string, opts: { templateDir?: string } = {}): string[] {
  if (!PACKAGE_NAME_RE.test(name)) {
    throw new MppError('MPP_E_USAGE', `"${name}" is not a valid package name.`, {
      hint: 'Use scope/name in lowercase, e.g. acme/hello: the scope is [a-z0-9][a-z0-9-]*, the name [a-z0-9][a-z0-9._-]*.',
      detail: { name },
    });
  }
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) {
      throw new MppError('MPP_E_PROJECT_INVALID', `${target} exists and is not a folder.`, { hint: 'Choose a new folder for the project.' });
    }
    if (readdirSync(target).length > 0) {
      throw new MppError('MPP_E_PROJECT_INVALID', `${target} is not empty.`, {
        hint: 'mpp init never overwrites files: choose a new or empty folder.',
        detail: { dir: target },
      });
    }
  }
  const [scope = '', shortName = ''] = name.split('/');
  // `sdk`: where this MPP's author SDK is, for the editor's types of `mpp:sdk` (tsconfig.json).
  const values: Record<string, string> = { name, scope, shortName, sdk: locateSdkEntry() };
  const templateDir = opts.templateDir ?? locateTemplateDir();
  const written: string[] = [];
  for (const from of listFiles(templateDir)) {
    const rel = relative(templateDir, from);
    const base = RENAMES[rel.split(/[\\/]/).pop()!];
    const out = join(target, base ? join(dirname(rel), base) : rel);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, fill(readFileSync(from, 'utf8'), values), { flag: 'wx' });
    written.push(relative(target, out));
  }
  return written.sort();
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (all, key: string) => values[key] ?? all);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' || e.name === '.mpp' ? [] : listFiles(path);
    return e.isFile() ? [path] : [];
  });
}
