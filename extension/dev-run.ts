/**
 * MPP: Build, Install and Run — the author loop from the palette. The CLI
 * builds (the editor does not ship the componentizer); the rest is the same
 * runtime flow `mpp dev` runs (runtime/dev/install.ts): signed with the
 * author's key, that key trusted for this package only, after the author
 * agreed in a modal dialog, then installed and audited as a development
 * package. The tool then runs from the tool form like any installed tool.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { withAuditLog } from '../runtime/audit/trail.ts';
import { installDevelopmentArchive, type DevelopmentConsent, type DevelopmentInstalled } from '../runtime/dev/install.ts';
import { MppError } from '../runtime/errors.ts';
import { MANIFEST_SOURCE } from '../runtime/build/project.ts';
import { runCliJson, type CliCommand } from './cli.ts';

/** The workspace folder holding the tool project (mpp.manifest.json); asks when there are several. */
export async function pickProject(): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath).filter((p) => existsSync(join(p, MANIFEST_SOURCE)));
  if (folders.length === 0) {
    throw new MppError('MPP_E_PROJECT_INVALID', `No folder of this workspace holds ${MANIFEST_SOURCE}.`, { hint: 'Open a tool project (create one with `mpp init scope/name`).' });
  }
  if (folders.length === 1) return folders[0];
  return (await vscode.window.showQuickPick(folders, { title: 'Build which MPP tool project?' })) ?? undefined;
}

/** The author answers in modal dialogs; closing one is a no. */
export const editorDevelopmentConsent: DevelopmentConsent = {
  async createKey(path) {
    const answer = await vscode.window.showWarningMessage(
      `There is no signing key at ${path}. Create one for your development builds?`,
      { modal: true, detail: 'Development builds are signed with your own key. It stays on this computer; `mpp keygen` makes the same key.' },
      'Create Key',
    );
    return answer === 'Create Key';
  },
  async trustKey(req) {
    const answer = await vscode.window.showWarningMessage(
      `Trust your key ${req.fingerprint} for development builds of ${req.packageName}?`,
      { modal: true, detail: `It is accepted for development builds of ${req.packageName} only, never for anything else it signs. Key id ${req.keyid}.` },
      'Trust for Development',
    );
    return answer === 'Trust for Development';
  },
};

/** `mpp build --dev` through the CLI, then the development install in this host. */
export async function buildAndInstallDevelopment(cli: CliCommand, home: string, projectDir: string, progress: (m: string) => void): Promise<DevelopmentInstalled> {
  progress('building (development)…');
  const built = await runCliJson(cli, ['build', '--dev', projectDir], { cwd: projectDir, env: { ...process.env, MPP_HOME: home } });
  if (typeof built.file !== 'string' || built.development !== true) throw new MppError('MPP_E_CLI_FAILED', '`mpp build --dev` did not report a development package: the mpp command line is older than this extension.', { hint: 'Update the MPP command line.' });
  const archive = new Uint8Array(await readFile(built.file));
  return withAuditLog(home, (audit) => installDevelopmentArchive(home, archive, { consent: editorDevelopmentConsent, audit, file: built.file as string, onProgress: progress }));
}
