/**
 * MPP tools for the editor's agents (`contributes.languageModelTools`): one
 * tool lists the installed MPP tools, one runs one of them. Calls go through
 * the same governed path as the command palette, so the consent and
 * confirmation dialogs guard them.
 */
import * as vscode from 'vscode';
import { isMppError } from '../runtime/errors.ts';
import type { ToolCalls } from './calls.ts';
import { installedTools, toolTarget } from './listing.ts';

interface InvokeInput {
  tool: string;
  input: Record<string, unknown>;
}

const text = (value: unknown): vscode.LanguageModelToolResult => new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(JSON.stringify(value))]);

export function registerLanguageModelTools(calls: ToolCalls, home: () => string): vscode.Disposable[] {
  return [
    vscode.lm.registerTool<Record<string, never>>('mpp_list_tools', {
      prepareInvocation: () => ({ invocationMessage: 'Listing installed MPP tools' }),
      invoke: () => text(installedTools(home())),
    }),
    vscode.lm.registerTool<InvokeInput>('mpp_invoke_tool', {
      prepareInvocation: (options) => ({ invocationMessage: `Running MPP tool ${options.input.tool}` }),
      invoke: async (options) => {
        try {
          const id = toolTarget(options.input.tool, 'Call mpp_list_tools first and use one of the ids it returns.');
          // The editor's model names itself nowhere we could verify: recorded as unverified:vscode-lm.
          const result = await calls.call({ ...id, input: JSON.stringify(options.input.input ?? {}), caller: { label: 'vscode-lm' } });
          return text(result.output);
        } catch (e) {
          // The model reads what was refused and what the user can do, not a stack.
          throw isMppError(e) ? new Error(`${e.code}: ${e.message} What to do: ${e.hint}`) : e;
        }
      },
    }),
  ];
}
