import { MppError } from '../errors.ts';

const MAX_NAME_BYTES = 255;
// C0 and C1 controls and DEL: they hide or reorder text in terminals and UIs.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Refuses entry names that could escape an extraction folder or mean two
 * different things to two readers: absolute, `..`/`.` segments, backslashes,
 * drive letters, control characters, non-NFC, empty segments or directories.
 */
export function checkEntryName(name: string): void {
  const refuse = (why: string): never => {
    throw new MppError('MPP_E_UNSAFE_ARCHIVE', `Entry name ${JSON.stringify(name)} is refused: ${why}.`, {
      hint: 'Rebuild the package with `mpp build`; archives from other tools may use names MPP does not accept.',
      detail: { entry: name, reason: why },
    });
  };
  if (name.length === 0) refuse('it is empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) refuse(`it is longer than ${MAX_NAME_BYTES} bytes`);
  if (CONTROL_RE.test(name)) refuse('it contains a control character');
  if (name.includes('\\')) refuse('it contains a backslash');
  if (name.includes(':')) refuse('it contains a colon (drive letter or stream name)');
  if (name.startsWith('/')) refuse('it is an absolute path');
  if (name.endsWith('/')) refuse('it is a directory entry');
  if (name.normalize('NFC') !== name) refuse('it is not in Unicode NFC form');
  for (const segment of name.split('/')) {
    if (segment === '') refuse('it has an empty path segment');
    if (segment === '.' || segment === '..') refuse('it has a "." or ".." segment');
  }
}

/** Case-folded form used to detect names that collide on case-insensitive file systems. */
export function foldName(name: string): string {
  return name.normalize('NFC').toLowerCase();
}
