/**
 * File editing in the workspace. `read-file` is a `read` tool; `replace-text`
 * is a `write` tool, so the host asks the human to confirm each call (with
 * the path and the texts shown) before it runs. Files are read and written
 * through the author SDK under a read-write grant of the workspace.
 */
import { defineTools, files } from 'mpp:sdk';
import { replaceAll } from './replace.ts';

/** Files larger than this are refused (`too-large`) rather than loaded whole. */
const MAX_BYTES = 2 * 1024 * 1024;

const inWorkspace = (path: string) => `/workspace/${path.replace(/^\/+/, '')}`;

export const handler = defineTools({
  'read-file'(input: { path: string }) {
    const path = inWorkspace(input.path);
    return { path, text: files.readText(path, { maxBytes: MAX_BYTES }) };
  },

  'replace-text'(input: { path: string; find: string; replace: string; expectedCount?: number }) {
    const path = inWorkspace(input.path);
    const edited = replaceAll(files.readText(path, { maxBytes: MAX_BYTES }), input.find, input.replace, input.expectedCount);
    files.write(path, edited.text);
    return { path, replaced: edited.replaced };
  },
});
