/// <reference path="./wit-types/tool.d.ts" />
/**
 * The MPP author SDK: what a tool imports as `mpp:sdk`. `mpp build` bundles
 * it from MPP's own copy (runtime/build/bundle.ts); it is built on the tool
 * world's imports (spec/wit), whose types are generated into wit-types/.
 *
 *   import { defineTools, files, env, kv, log, fetch, ToolError, ToolRefusal } from 'mpp:sdk';
 */
export * as files from './files.ts';
export * as env from './env.ts';
export { kv, log, identity, confirm, type Caller } from './host.ts';
export { fetch } from './net.ts';
export { ToolError, ToolRefusal, type RefusalCode } from './errors.ts';
export { defineTools, type Handler, type Tools } from './tools.ts';
export type { Entry, EntryType, Stat, ReadOptions, RangeOptions, WriteOptions, GrantedFolder } from './files.ts';
