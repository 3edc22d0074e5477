import { readFileSync, statSync } from 'node:fs';
import { MppError } from '../runtime/errors.ts';

/** Reads a file the user named, turning a failure into a coded error; `missingHint` says what to do when it does not exist. */
export function readUserFile(path: string, what: string, missingHint = 'Check the path.'): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MppError('MPP_E_IO', `Cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}.`, {
      hint: code === 'ENOENT' ? missingHint : 'Check the file permissions.',
      cause: e,
    });
  }
}

/** Whether `path` names an existing regular file (a package argument may also be a name). */
export function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
