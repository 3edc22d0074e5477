/**
 * The extension in a real VS Code (code-server 4.117 = VS Code 1.117), from
 * its packaged .vsix, driven as a user drives it. Screenshots of every dialog
 * go to test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Manifest } from '../../runtime/format/manifest.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { ROOT } from '../helpers/cli.ts';
import { makePackage } from '../helpers/packages.ts';
import { answerQuickInput, notification, runCommand, screenshot, startEditor, webview, type Editor } from './editor.ts';

const run = promisify(execFile);

const object = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

export function editorManifest(): Manifest {
  return {
    mpp: 1,
    name: 'e2e/editor',
    version: '1.0.0',
    description: 'Tools for the editor end-to-end tests.',
    publisher: { name: 'E2E Publisher' },
    tools: [
      { name: 'greet', description: 'Returns a greeting.', sensitivity: 'none', inputSchema: object({ name: { type: 'string' } }, ['name']), outputSchema: object({ greeting: { type: 'string' } }, ['greeting']) },
      { name: 'wipe', description: 'Pretends to delete a folder.', sensitivity: 'destructive', inputSchema: object({ path: { type: 'string' } }, ['path']), outputSchema: object({ wiped: { type: 'string' } }, ['wiped']) },
      { name: 'loop', description: 'Never returns.', sensitivity: 'none', inputSchema: { type: 'object' }, outputSchema: { type: 'object' } },
    ],
    permissions: { kv: { maxBytes: 65536, reason: 'Remembers names it greeted.' } },
    limits: { timeoutMs: 6000 },
  } as Manifest;
}

describe('the extension in VS Code (code-server)', { timeout: 600_000 }, () => {
  let editor: Editor;
  let packageFile: string;

  before(async () => {
    await run(process.execPath, [join(ROOT, 'scripts', 'package-extension.mjs')], { cwd: ROOT });
    const vsix = join(ROOT, 'dist', readdirSync(join(ROOT, 'dist')).find((f) => f.endsWith('.vsix'))!);
    editor = await startEditor(vsix);
    const component = await fixtureComponent('editor');
    packageFile = join(editor.workspace, 'editor.mpp');
    writeFileSync(packageFile, signPackage(makePackage(editorManifest(), {}, component), generateKey()));
  });

  after(async () => {
    await editor?.close();
  });

  it('installs a package, trusting its new publisher key in the trust dialog', async () => {
    const { page } = editor;
    await runCommand(page, 'MPP: Install Package from File…');
    await answerQuickInput(page, packageFile);
    const trust = await webview(page, 'MPP: Trust Publisher');
    await trust.getByText('Trust a new publisher key?').waitFor();
    await trust.getByText('E2E Publisher').waitFor();
    await screenshot(page, '01-trust-dialog');
    await trust.locator('vscode-button', { hasText: 'Trust this key' }).click();
    const done = await notification(page, 'e2e/editor@1.0.0 installed');
    assert.match(done, /signed by E2E Publisher/);
  });

  it('shows the package in the MPP view with its tools and permissions', async () => {
    const { page } = editor;
    await page.locator('.activitybar .action-item a[aria-label^="MPP"]').click();
    const tree = page.locator('.pane-body .monaco-list');
    await tree.getByText('e2e/editor').waitFor();
    await tree.getByText('e2e/editor').click();
    await tree.getByText('greet').waitFor();
    await tree.getByText('Keep up to 64 KiB of its own data').waitFor();
    await screenshot(page, '02-packages-view');
  });

  it('inspects the package: tools, signatures, files', async () => {
    const { page } = editor;
    await runCommand(page, 'MPP: Inspect Package…');
    await answerQuickInput(page, 'e2e/editor', 'e2e/editor');
    const view = await webview(page, 'MPP: Inspect');
    await view.getByText('e2e/editor@1.0.0').waitFor();
    await view.getByText('wipe — destructive').waitFor();
    await view.getByText('trusted').first().waitFor();
    await screenshot(page, '03-inspector');
    await page.keyboard.press('Control+W');
  });

  async function runTool(page: Editor['page'], id: string, input: string): Promise<void> {
    await runCommand(page, 'MPP: Run Tool…');
    await answerQuickInput(page, id, id);
    await answerQuickInput(page, input);
  }

  it('runs a tool in the sandbox and shows its result', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/greet', '{"name":"Ada"}');
    const result = await notification(page, 'e2e/editor/greet returned');
    assert.match(result, /Hello, Ada!/);
    await screenshot(page, '04-tool-result');
  });

  it('asks to confirm a destructive tool: approve runs it', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/wipe', '{"path":"build"}');
    const confirm = await webview(page, 'MPP: Confirm');
    await confirm.getByText('Confirm: wipe').waitFor();
    await confirm.getByText('unverified:user').waitFor();
    await confirm.getByText('"path": "build"').waitFor();
    await screenshot(page, '05-confirm-dialog');
    await confirm.locator('vscode-button', { hasText: 'Approve' }).click();
    assert.match(await notification(page, 'e2e/editor/wipe returned'), /"wiped":"build"/);
  });

  it('asks to confirm a destructive tool: deny refuses it', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/wipe', '{"path":"src"}');
    const confirm = await webview(page, 'MPP: Confirm');
    await confirm.getByText('Confirm: wipe').waitFor();
    // Deny holds the focus: Enter on the dialog denies.
    await confirm.locator('vscode-button', { hasText: 'Deny' }).click();
    assert.match(await notification(page, 'MPP_E_CONFIRMATION_DENIED'), /you denied it/);
  });

  it('stops a looping tool at its time limit while the editor stays responsive', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/loop', '{}');
    await page.locator('.statusbar', { hasText: 'MPP: 1 running' }).waitFor({ timeout: 10_000 });
    // The loop runs in a worker: the extension host still answers commands meanwhile.
    await runCommand(page, 'MPP: Show Version');
    await notification(page, 'MPP 0.1.0', 10_000);
    assert.ok(await page.locator('.statusbar', { hasText: 'MPP: 1 running' }).isVisible(), 'the loop is still running while the command answered');
    await screenshot(page, '06-loop-running');
    assert.match(await notification(page, 'MPP_E_TOOL_TIMEOUT', 30_000), /time limit|timed out|ran past/i);
  });

  it('shows the audit log with its events and a verified chain', async () => {
    const { page } = editor;
    await runCommand(page, 'MPP: Show Audit Log');
    const view = await webview(page, 'MPP: Audit Log');
    await view.getByText(/Chain verified: \d+ records intact/).waitFor();
    await view.locator('td', { hasText: 'install' }).first().waitFor();
    await view.locator('td', { hasText: 'trust' }).first().waitFor();
    await screenshot(page, '07-audit-log');
    await page.keyboard.press('Control+W');
  });
});
