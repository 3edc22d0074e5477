import { defineTools } from 'mpp:sdk';
import { countWords, greet } from './tools.ts';

/** Every tool in mpp.manifest.json, by name; the SDK turns thrown ToolErrors into the call's `err`. */
export const handler = defineTools({
  greet,
  'count-words': countWords,
});
