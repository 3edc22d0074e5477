/// <reference path="./mpp-tool-types.d.ts" />
declare module 'mpp:tool/handler@0.1.0' {
  export function call(tool: string, input: string): string;
  export type ToolError = import('mpp:tool/types@0.1.0').ToolError;
}
