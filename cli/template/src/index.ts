/**
 * The package's tools, wired to the host with the MPP author SDK. `mpp build`
 * bundles `mpp:sdk` from MPP itself: no npm dependency needed.
 */
import { defineTools, env, files, ToolError } from 'mpp:sdk';
import { greeting, textStats, type Language } from './tools.ts';

/** Every tool in mpp.manifest.json, by name. Add yours here. */
export const handler = defineTools({
  /** Greets `name`, or the user named by the granted variable GREET_NAME. */
  greet(input: { name?: string; language?: Language }) {
    const name = input.name?.trim() || env.get('GREET_NAME');
    if (!name) throw new ToolError('invalid-input', 'give a name, or grant the GREET_NAME variable');
    return { greeting: greeting(name, input.language) };
  },

  /** Reads a file of the workspace (granted read-only) and counts its lines and words. */
  'file-stats'(input: { path: string }) {
    const path = `/workspace/${input.path.replace(/^\/+/, '')}`;
    // A refusal (not granted, not found, too large...) reaches the agent with its code.
    const text = files.readText(path, { maxBytes: 4 * 1024 * 1024 });
    return { path, ...textStats(text) };
  },
});
