/**
 * MPP tools for the editor's agents (`contributes.languageModelTools`): one
 * tool lists the installed MPP tools, one runs one of them. Calls go through
 * the same governed path as the command palette, so the consent and
 * confirmation dialogs guard them.
 */
import * as vscode from 'vscode';
import { isMppError } from '../runtime/errors.ts';
import { listInstalled } from '../runtime/store/packages.ts';
import type { ToolCalls } from './calls.ts';

interface InvokeInput {
  tool: string;
  input: Record<string, unknown>;
}

const text = (value: unknown): vscode.LanguageModelToolResult => new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(JSON.stringify(value))]);

/** `scope/name/tool` -> package and tool (package names hold exactly one slash). */
export function splitToolId(id: string): { packageName: string; tool: string } | undefined {
  const m = /^([^/]+\/[^/]+)\/([^/]+)$/.exec(id);
  return m ? { packageName: m[1]!, tool: m[2]! } : undefined;
}

export function registerLanguageModelTools(calls: ToolCalls, home: () => string): vscode.Disposable[] {
  return [
    vscode.lm.registerTool<Record<string, never>>('mpp_list_tools', {
      prepareInvocation: () => ({ invocationMessage: 'Listing installed MPP tools' }),
      invoke: () =>
        text(
          listInstalled(home()).flatMap((r) =>
            r.manifest.tools.map((t) => ({ id: `${r.name}/${t.name}`, description: t.description, sensitivity: t.sensitivity, inputSchema: t.inputSchema })),
          ),
        ),
    }),
    vscode.lm.registerTool<InvokeInput>('mpp_invoke_tool', {
      prepareInvocation: (options) => ({ invocationMessage: `Running MPP tool ${options.input.tool}` }),
      invoke: async (options) => {
        const id = splitToolId(options.input.tool);
        if (!id) throw new Error(`"${options.input.tool}" is not an MPP tool id (scope/package/tool); call mpp_list_tools first.`);
        try {
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
