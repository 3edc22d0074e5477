import * as vscode from 'vscode';
import pkg from '../package.json' with { type: 'json' };

/**
 * The editor shell over runtime/. For now it only proves the bundle loads in
 * an extension host; the views, dialogs and agent tools come with issue 6.
 */
export function activate(context: vscode.ExtensionContext): { version: string } {
  context.subscriptions.push(
    vscode.commands.registerCommand('mpp.showVersion', () => vscode.window.showInformationMessage(`MPP ${pkg.version}`)),
  );
  return { version: pkg.version };
}

export function deactivate(): void {}
