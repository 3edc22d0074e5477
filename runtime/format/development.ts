/**
 * Development builds (spec/format.md, "Development packages"): a generic
 * engine component, the same for every build with the same imports, plus the
 * tool's bundled JavaScript in its own entry, evaluated by the engine when an
 * instance starts. The entry is the marker: a package holding it is a
 * development package, whichever host reads it.
 */
export const DEVELOPMENT_SOURCE_ENTRY = 'tool.dev.js';

/**
 * The tool name the host calls once per fresh instance of a development
 * package, with the source as input. Manifest tool names match
 * ^[a-z][a-z0-9_-]*$, so no caller can ever reach it: it has a colon.
 */
export const DEVELOPMENT_LOAD_TOOL = 'mpp:load-development-source';
