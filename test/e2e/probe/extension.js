// The e2e probe: another extension, as an agent extension would be. It calls
// MPP only through public APIs and writes the outcome into the workspace.
const vscode = require('vscode');
const { renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

// Written aside and renamed: the test reads the file as soon as it exists, and must never find it half written.
function write(name, value) {
  const file = join(vscode.workspace.workspaceFolders[0].uri.fsPath, name);
  writeFileSync(`${file}.partial`, JSON.stringify(value));
  renameSync(`${file}.partial`, file);
}

exports.activate = (context) => {
  context.subscriptions.push(
    vscode.commands.registerCommand('mppProbe.invokeTool', async () => {
      const tools = vscode.lm.tools.filter((t) => t.name.startsWith('mpp_')).map((t) => t.name);
      try {
        const result = await vscode.lm.invokeTool('mpp_invoke_tool', { input: { tool: 'e2e/editor/greet', input: { name: 'Lm' } }, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token);
        const text = result.content.filter((p) => p instanceof vscode.LanguageModelTextPart).map((p) => p.value).join('');
        write('probe-lm.json', { ok: true, tools, text });
      } catch (e) {
        write('probe-lm.json', { ok: false, tools, error: String(e && e.message ? e.message : e) });
      }
    }),
    vscode.commands.registerCommand('mppProbe.mcpEndpoint', async () => {
      const api = await vscode.extensions.getExtension('mpp-dev.mpp').activate();
      write('probe-mcp.json', await api.mcpServer());
    }),
  );
};
