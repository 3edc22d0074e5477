/**
 * The extension in a real VS Code (code-server 4.117 = VS Code 1.117), from
 * its packaged .vsix, driven as a user drives it. Screenshots of every dialog
 * go to test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Manifest } from '../../runtime/format/manifest.ts';
import { initProject } from '../../runtime/build/init.ts';
import { editorManifest } from '../fixtures/tools/editor-manifest.ts';
import { mcpToolName } from '../../runtime/mcp/names.ts';
import { installPackage } from '../../runtime/store/packages.ts';
import { verifyPackage } from '../../runtime/trust/gatekeeper.ts';
import { generateKey, publicKeyToPem, type PrivateKey } from '../../runtime/trust/keys.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { mpp, ROOT } from '../helpers/cli.ts';
import { makePackage } from '../helpers/packages.ts';
import { servedRegistry, stop } from '../helpers/registry.ts';
import { answerFileDialog, answerQuickInput, notification, packExtension, runCommand, runCommandAndPick, screenshot, startEditor, webview, type Editor } from './editor.ts';

const run = promisify(execFile);

describe('the extension in VS Code (code-server)', { timeout: 900_000 }, () => {
  let editor: Editor;
  let packageFile: string;
  let component: Uint8Array;
  let key: PrivateKey;

  before(async () => {
    await run(process.execPath, [join(ROOT, 'scripts', 'package-extension.mjs')], { cwd: ROOT });
    const vsix = join(ROOT, 'dist', readdirSync(join(ROOT, 'dist')).find((f) => f.endsWith('.vsix'))!);
    const probe = await packExtension(join(ROOT, 'test', 'e2e', 'probe'), join(ROOT, 'dist', 'mpp-e2e-probe.vsix'));
    // The author loop builds with this checkout's CLI, named in the setting (never fetched).
    editor = await startEditor(vsix, { others: [probe], settings: { 'mpp.cliPath': join(ROOT, 'dist', 'cli.js') } });
    component = await fixtureComponent('editor');
    key = generateKey();
    packageFile = join(editor.workspace, 'editor.mpp');
    writeFileSync(packageFile, signPackage(makePackage(editorManifest(), {}, component), key));
  });

  let registry: Awaited<ReturnType<typeof servedRegistry>> | undefined;

  after(async () => {
    if (registry) await stop(registry.child);
    await editor?.close();
  });

  /** Waits for a file the probe extension writes into the workspace. */
  async function probeResult<T>(name: string): Promise<T> {
    const file = join(editor.workspace, name);
    for (let i = 0; i < 300 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    const value = JSON.parse(readFileSync(file, 'utf8')) as T;
    rmSync(file);
    return value;
  }

  it('installs a package, trusting its new publisher key in the trust dialog', async () => {
    const { page } = editor;
    await runCommand(page, 'MPP: Install Package from File…');
    await answerFileDialog(page, packageFile);
    const trust = await webview(page, 'MPP: Trust Publisher');
    await trust.getByText('Trust a new publisher key?').waitFor();
    await trust.getByText('E2E Publisher').waitFor();
    await screenshot(page, '01-trust-dialog');
    await trust.locator('vscode-button', { hasText: 'Trust this key' }).click();
    const done = await notification(page, 'e2e/editor@1.0.0 installed');
    assert.match(done, /signed by E2E Publisher/);
  });

  it('shows the package in the MPP view with its tools and undecided permissions', async () => {
    const { page } = editor;
    await page.locator('.activitybar .action-item a[aria-label^="MPP"]').click();
    const tree = page.locator('.pane-body .monaco-list');
    await tree.getByText('e2e/editor').waitFor();
    await tree.getByText('e2e/editor').click();
    await tree.getByText('greet').waitFor();
    const kv = tree.locator('.monaco-list-row', { hasText: 'Keep up to 64 KiB of its own data' });
    await kv.getByText('not decided').waitFor();
    await screenshot(page, '02-packages-view');
  });

  it('inspects the package: tools, signatures, files', async () => {
    const { page } = editor;
    await runCommandAndPick(page, 'MPP: Inspect Package…', 'e2e/editor', 'e2e/editor');
    const view = await webview(page, 'MPP: Inspect');
    await view.getByText('e2e/editor@1.0.0').waitFor();
    await view.getByText('wipe — destructive').waitFor();
    await view.getByText('trusted').first().waitFor();
    await screenshot(page, '03-inspector');
    await page.keyboard.press('Control+W');
  });

  /** Run Tool from the palette, the input typed into the tool form's JSON editor. */
  async function runTool(page: Editor['page'], id: string, input: string): Promise<void> {
    // The form of an earlier run has the same title: closed first, so the new one is the one found.
    await closeEditors(page);
    await runCommandAndPick(page, 'MPP: Run Tool…', id, id);
    const form = await webview(page, `MPP: Run ${id}`);
    await form.locator('vscode-button', { hasText: 'Edit as JSON' }).click();
    await form.locator('[data-field="raw-json"] textarea').fill(input);
    await form.locator('vscode-button', { hasText: 'Run' }).click();
  }

  it('asks consent before the first run: approve, and the tool runs and its result shows', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/greet', '{"name":"Ada"}');
    const consent = await webview(page, 'MPP: Permissions');
    await consent.getByText('Allow e2e/editor to run?').waitFor();
    await consent.locator('vscode-checkbox[label="Keep up to 64 KiB of its own data"]').waitFor();
    await consent.getByText('Why: Remembers names it greeted.').waitFor();
    await screenshot(page, '04-consent-dialog');
    await consent.locator('vscode-button', { hasText: 'Allow all' }).click();
    assert.match(await notification(page, 'e2e/editor/greet returned'), /Hello, Ada!/);
    await screenshot(page, '05-tool-result');
    // The grant holds: the tool that needs its storage runs, and the view shows the permission granted.
    await runTool(page, 'e2e/editor/remember', '{"name":"Ada"}');
    assert.match(await notification(page, 'e2e/editor/remember returned'), /"remembered":"Ada"/);
    const kv = page.locator('.pane-body .monaco-list .monaco-list-row', { hasText: 'Keep up to 64 KiB of its own data' });
    await kv.getByText('granted (this workspace)').waitFor();
  });

  it('asks to confirm a destructive tool: approve runs it', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/wipe', '{"path":"build"}');
    const confirm = await webview(page, 'MPP: Confirm');
    await confirm.getByText('Confirm: wipe').waitFor();
    await confirm.getByText('vscode-user (unverified: a name the client gave itself)').waitFor();
    await confirm.getByText('"path": "build"').waitFor();
    await screenshot(page, '06-confirm-dialog');
    await confirm.locator('vscode-button', { hasText: 'Approve' }).click();
    assert.match(await notification(page, 'e2e/editor/wipe returned'), /"wiped":"build"/);
  });

  it('asks to confirm a destructive tool: deny refuses it', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/wipe', '{"path":"src"}');
    const confirm = await webview(page, 'MPP: Confirm');
    await confirm.getByText('Confirm: wipe').waitFor();
    await confirm.locator('vscode-button', { hasText: 'Deny' }).click();
    assert.match(await notification(page, 'MPP_E_CONFIRMATION_DENIED'), /denied/);
  });

  it('revokes every permission: the next call that needs one is refused', async () => {
    const { page } = editor;
    await runCommandAndPick(page, 'MPP: Revoke All Permissions…', 'e2e/editor', 'e2e/editor');
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Revoke All' }).click();
    await notification(page, 'revoked every permission of e2e/editor');
    // Nothing left granted is no decision: the user decides again before the next call.
    const kv = page.locator('.pane-body .monaco-list .monaco-list-row', { hasText: 'Keep up to 64 KiB of its own data' });
    await kv.getByText('not decided').waitFor();
    await runTool(page, 'e2e/editor/remember', '{"name":"Bob"}');
    const consent = await webview(page, 'MPP: Permissions');
    await consent.getByText('Allow e2e/editor to run?').waitFor();
    // Closing the question is a dismissal: nothing recorded, the call refused with its code.
    await page.keyboard.press('Control+W');
    assert.match(await notification(page, 'MPP_E_CONSENT_REQUIRED'), /every permission revoked, and the question was dismissed/);
  });

  it('consent deny: the package is refused', async () => {
    const { page } = editor;
    await runCommandAndPick(page, 'MPP: Manage Permissions…', 'e2e/editor', 'e2e/editor');
    const consent = await webview(page, 'MPP: Permissions');
    await consent.getByText('Permissions of e2e/editor').waitFor();
    await screenshot(page, '07-manage-permissions');
    await consent.locator('vscode-button', { hasText: 'Deny' }).click();
    await notification(page, 'permissions of e2e/editor saved (denied');
    await runTool(page, 'e2e/editor/greet', '{"name":"Eve"}');
    assert.match(await notification(page, 'MPP_E_CONSENT_DENIED'), /You denied e2e\/editor/);
  });

  it('grants again from Manage Permissions', async () => {
    const { page } = editor;
    await runCommandAndPick(page, 'MPP: Manage Permissions…', 'e2e/editor', 'e2e/editor');
    const consent = await webview(page, 'MPP: Permissions');
    await consent.getByText('Permissions of e2e/editor').waitFor();
    await consent.locator('vscode-button', { hasText: 'Allow all' }).click();
    await notification(page, 'permissions of e2e/editor saved (1 granted');
    await runTool(page, 'e2e/editor/remember', '{"name":"Cy"}');
    assert.match(await notification(page, 'e2e/editor/remember returned'), /"remembered":"Cy"/);
  });

  it('stops a looping tool at its time limit while the editor stays responsive', async () => {
    const { page } = editor;
    await runTool(page, 'e2e/editor/loop', '{}');
    await page.locator('.statusbar', { hasText: 'MPP: 1 running' }).waitFor({ timeout: 10_000 });
    // The loop runs in a worker: the extension host still answers commands meanwhile.
    await runCommand(page, 'MPP: Show Version');
    await notification(page, 'MPP 0.1.0', 10_000);
    assert.ok(await page.locator('.statusbar', { hasText: 'MPP: 1 running' }).isVisible(), 'the loop is still running while the command answered');
    await screenshot(page, '08-loop-running');
    assert.match(await notification(page, 'MPP_E_TOOL_TIMEOUT', 30_000), /time limit|timed out|ran past/i);
  });

  it('vscode.lm.invokeTool, from another extension, returns a tool result', async () => {
    const { page } = editor;
    await runCommand(page, 'MPP Probe: Invoke MPP Tool through vscode.lm');
    const result = await probeResult<{ ok: boolean; tools: string[]; text?: string; error?: string }>('probe-lm.json');
    assert.deepEqual(result.tools.sort(), ['mpp_invoke_tool', 'mpp_list_tools']);
    assert.equal(result.ok, true, result.error);
    assert.deepEqual(JSON.parse(result.text!), { greeting: 'Hello, Lm!' });
  });

  it('an MCP client reaches the in-host MCP server with its token, and is refused without it', async () => {
    const { page } = editor;
    await runCommand(page, 'MPP Probe: Write MPP MCP Endpoint');
    const endpoint = await probeResult<{ url: string; headers: { Authorization: string } }>('probe-mcp.json');
    assert.match(endpoint.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
    const post = (headers: Record<string, string>) => fetch(endpoint.url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, body: initialize });
    assert.equal((await post({})).status, 401, 'no token');
    assert.equal((await post({ Authorization: `${endpoint.headers.Authorization}x` })).status, 401, 'a wrong token');
    const refused = new Client({ name: 'mpp-e2e-client', version: '1.0.0' });
    await assert.rejects(refused.connect(new StreamableHTTPClientTransport(new URL(endpoint.url))), (e: { code?: number }) => e.code === 401);

    const client = new Client({ name: 'mpp-e2e-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint.url), { requestInit: { headers: { ...endpoint.headers } } }));
    try {
      const { tools } = await client.listTools();
      const greet = mcpToolName('e2e/editor', 'greet');
      assert.ok(tools.some((t) => t.name === greet), `${greet} in ${tools.map((t) => t.name).join(', ')}`);
      const result = await client.callTool({ name: greet, arguments: { name: 'Mcp' } });
      assert.deepEqual(result.structuredContent, { greeting: 'Hello, Mcp!' });
      // The editor's own dialog guards MCP calls: the client cannot answer it.
      const wipe = client.callTool({ name: mcpToolName('e2e/editor', 'wipe'), arguments: { path: 'dist' } });
      const confirm = await webview(page, 'MPP: Confirm');
      await confirm.getByText('mpp-e2e-client (unverified: a name the client gave itself)').waitFor();
      await screenshot(page, '09-confirm-mcp-call');
      await confirm.locator('vscode-button', { hasText: 'Approve' }).click();
      assert.deepEqual((await wipe).structuredContent, { wiped: 'dist' });
    } finally {
      await client.close();
    }
  });

  it('shows the audit log as sentences, each raw record one key press away, activity per package, and a verified chain', async () => {
    const { page } = editor;
    await runCommand(page, 'MPP: Show Audit Log');
    const view = await webview(page, 'MPP: Audit Log');
    await view.getByText(/Chain verified: \d+ records intact/).waitFor();
    for (const sentence of [
      /^e2e\/editor 1\.0\.0 was installed, signed by E2E Publisher/,
      /^Publisher key [0-9a-f]{12}… \(E2E Publisher\) was trusted\.$/,
      /^You granted .* to e2e\/editor /,
      /^You revoked every capability of e2e\/editor/,
      /^mpp-e2e-client \(unverified\) called wipe of e2e\/editor 1\.0\.0: done in \d+ ms\.$/,
      /^vscode-lm \(unverified\) called /,
      /^You approved the confirmation\.$/,
    ]) {
      await view.locator('.sentence', { hasText: sentence }).first().waitFor();
    }
    // No envelope or digest fills the list: they are in the raw record, opened from the keyboard.
    assert.equal(await view.locator('.sentence', { hasText: /payloadType|"envelope"/ }).count(), 0);
    const summary = view.locator('li.record summary', { hasText: /\(attestation-issued\)/ }).first();
    await summary.focus();
    await page.keyboard.press('Enter');
    await view.locator('details[open] pre', { hasText: /"payloadType": "application\/vnd\.mpp\.attestation\.v1\+json"/ }).waitFor();
    await view.locator('svg[role="img"][aria-label^="e2e/editor: "]').waitFor();
    assert.match((await view.locator('svg[role="img"][aria-label^="e2e/editor: "]').getAttribute('aria-label')) ?? '', /^e2e\/editor: [1-9]\d* calls, \d+ denials, [1-9]\d* confirmations asked$/);
    await screenshot(page, '10-audit-log');
    await page.keyboard.press('Control+W');
  });

  async function closeEditors(page: Editor['page']): Promise<void> {
    await runCommand(page, 'View: Close All Editors');
    await page.locator('.tabs-container .tab').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
  }

  describe('the author loop: MPP: Build, Install and Run (Development)', () => {
    const dialogButton = (page: Editor['page'], text: string) => page.locator('.monaco-dialog-box .monaco-button', { hasText: text });

    before(() => {
      // The workspace becomes a tool project made by `mpp init` (the template, as an author starts).
      const project = join(editor.dir, 'devtool');
      initProject(project, 'e2e/devtool');
      cpSync(project, editor.workspace, { recursive: true });
    });

    it('builds with the mpp named in mpp.cliPath, asks to create and trust the author key, installs as development and runs from the schema form', async () => {
      const { page } = editor;
      await runCommand(page, 'MPP: Build, Install and Run (Development)');
      // No key yet: created only after the author agrees; then trusted for this package only.
      await dialogButton(page, 'Create Key').waitFor({ timeout: 300_000 });
      await screenshot(page, 'dev-1-create-key');
      await dialogButton(page, 'Create Key').click();
      await dialogButton(page, 'Trust for Development').waitFor({ timeout: 60_000 });
      assert.match(await page.locator('.monaco-dialog-box').innerText(), /development builds of e2e\/devtool only/);
      await dialogButton(page, 'Trust for Development').click();
      // The template has two tools: the author picks one.
      await answerQuickInput(page, 'greet', 'greet');

      const form = await webview(page, 'MPP: Run e2e/devtool/greet').catch(async (e: unknown) => {
        // What the editor showed instead (an error notification) is the diagnosis.
        await screenshot(page, 'dev-form-missing');
        throw new Error(`the tool form did not open; notifications: ${await page.locator('.notifications-toasts').innerText().catch(() => '')}`, { cause: e });
      });
      await form.getByText('development build').waitFor();
      // The form follows the input schema: a required text field, an enum with its default.
      const name = form.locator('vscode-textfield[data-field="name"] input');
      await name.waitFor();
      await form.locator('vscode-single-select[data-field="language"]').waitFor();
      await name.fill('Ada');
      await screenshot(page, 'dev-2-tool-form');
      await form.locator('vscode-button', { hasText: 'Run' }).click();
      // The template's tools ask for the workspace and a variable: consent applies as for any package.
      const consent = await webview(page, 'MPP: Permissions');
      await consent.getByText('Allow e2e/devtool to run?').waitFor({ timeout: 120_000 });
      await consent.locator('vscode-button', { hasText: 'Allow all' }).click();
      const result = await webview(page, 'MPP: Run e2e/devtool/greet');
      await result.locator('pre.output', { hasText: '"greeting": "Hello, Ada!"' }).waitFor({ timeout: 120_000 });
      await screenshot(page, 'dev-3-tool-result');

      // Marked as development in `mpp list`, the trust store scope and the audit log.
      const list = await mpp(['list'], { home: editor.mppHome });
      assert.match(list.stdout, /e2e\/devtool\s+0\.1\.0 \(development\)/);
      const trust = TrustStore.load(editor.mppHome).records.find((r) => r.development?.includes('e2e/devtool'));
      assert.equal(trust?.publisher, false, 'the author key is trusted for this development package only');
      const log = openAuditLog(editor.mppHome, { readOnly: true });
      try {
        const events = log.query().map((r) => r.event as unknown as Record<string, unknown>);
        assert.ok(events.some((e) => e.type === 'install' && e.package === 'e2e/devtool' && e.development === true));
        assert.ok(events.some((e) => e.type === 'trust' && (e.development as { package?: string } | undefined)?.package === 'e2e/devtool'));
      } finally {
        log.close();
      }
    });

    it('after a one-line edit, runs the edited tool without asking again, and the view marks the package', async () => {
      const { page } = editor;
      const tools = join(editor.workspace, 'src', 'tools.ts');
      writeFileSync(tools, readFileSync(tools, 'utf8').replace(/en: '[^']*'/, "en: 'Howdy'"));
      await closeEditors(page);
      await runCommand(page, 'MPP: Build, Install and Run (Development)');
      await answerQuickInput(page, 'greet', 'greet');
      const form = await webview(page, 'MPP: Run e2e/devtool/greet');
      const name = form.locator('vscode-textfield[data-field="name"] input');
      await name.waitFor({ timeout: 300_000 });
      await name.fill('Bo');
      await form.locator('vscode-button', { hasText: 'Run' }).click();
      await form.locator('pre.output', { hasText: '"greeting": "Howdy, Bo!"' }).waitFor({ timeout: 120_000 });
      assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'nothing was asked the second time');
      await page.keyboard.press('Control+W');
      // The MPP view stays open from the tests before: its activity bar icon would toggle it closed.
      const row = page.locator('.pane-body .monaco-list .monaco-list-row', { hasText: 'e2e/devtool' });
      if (!(await page.locator('.pane-body .monaco-list').getByText('e2e/editor').isVisible())) await page.locator('.activitybar .action-item a[aria-label^="MPP"]').click();
      await row.getByText('(development)').waitFor();
      await screenshot(page, 'dev-4-package-in-view');
    });

    after(async () => {
      // The tests after these count the packages installed from files: this one leaves as it came.
      const removed = await mpp(['uninstall', 'e2e/devtool', '--json'], { home: editor.mppHome });
      assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    });
  });

  describe('a real `mpp registry serve`, configured in the editor\'s MPP home with `mpp registry add`', () => {
    const registryKey = generateKey();
    let token: string;
    const registryDir = () => join(editor.dir, 'registry');

    /** Signs e2e/registry-tool@version with the registry publisher's key and publishes it with the token. */
    async function publish(version: string): Promise<void> {
      const file = join(editor.dir, `registry-tool-${version}.mpp`);
      const manifest = { ...editorManifest(), name: 'e2e/registry-tool', version, publisher: { name: 'Registry Publisher' } } as Manifest;
      writeFileSync(file, signPackage(makePackage(manifest, {}, component), registryKey));
      const published = await mpp(['publish', file, '--registry', 'local', '--token', token, '--json'], { home: editor.mppHome });
      assert.equal(published.code, 0, published.stdout + published.stderr);
    }

    it('without a configured registry, Install from Registry says how to configure one', async () => {
      const { page } = editor;
      await runCommand(page, 'MPP: Install from Registry…');
      assert.match(await notification(page, 'no package registry is configured'), /mpp registry add/);
    });

    it('installs by name from the registry, trusting the new publisher in the trust dialog', async () => {
      const { page } = editor;
      registry = await servedRegistry(registryDir());
      const created = await mpp(['registry', 'token', 'create', '--dir', registryDir(), '--json'], { home: editor.mppHome });
      token = (JSON.parse(created.stdout) as { token: string }).token;
      const added = await mpp(['registry', 'add', 'local', registry.url, '--key', join(registryDir(), 'registry-key.pub.pem'), '--json'], { home: editor.mppHome });
      assert.equal(added.code, 0, added.stdout + added.stderr);
      await publish('1.0.0');

      await runCommand(page, 'MPP: Install from Registry…');
      await answerQuickInput(page, 'e2e/registry-tool');
      const trust = await webview(page, 'MPP: Trust Publisher');
      await trust.getByText('Registry Publisher').waitFor();
      await screenshot(page, '12-registry-trust-dialog');
      await trust.locator('vscode-button', { hasText: 'Trust this key' }).click();
      assert.match(await notification(page, 'e2e/registry-tool@1.0.0 installed from registry "local"'), /signed by Registry Publisher/);
      const row = page.locator('.pane-body .monaco-list .monaco-list-row', { hasText: 'e2e/registry-tool' });
      await row.getByText('1.0.0').waitFor();
    });

    it('marks a newer published version as an update, and Update Packages installs it (never lower)', async () => {
      const { page } = editor;
      await publish('1.1.0');
      await runCommand(page, 'MPP: Refresh');
      const row = page.locator('.pane-body .monaco-list .monaco-list-row', { hasText: 'e2e/registry-tool' });
      await row.getByText('update available: 1.1.0').waitFor({ timeout: 30_000 });
      await row.locator('.codicon-arrow-circle-up').waitFor();
      // A package installed from a file is in no registry: no marker, no error.
      assert.doesNotMatch(await page.locator('.pane-body .monaco-list .monaco-list-row', { hasText: 'e2e/editor' }).first().innerText(), /update available/);
      await screenshot(page, '13-update-available');

      await runCommand(page, 'MPP: Update Packages');
      const done = await notification(page, 'updated e2e/registry-tool 1.0.0 → 1.1.0');
      assert.match(done, /1 not in any registry/);
      await row.getByText(/^1\.1\.0/).waitFor();
      assert.doesNotMatch(await row.innerText(), /update available/);
      await screenshot(page, '14-updated');

      // The view's context action updates that one package only.
      await publish('1.2.0');
      await runCommand(page, 'MPP: Refresh');
      await row.getByText('update available: 1.2.0').waitFor({ timeout: 30_000 });
      await row.click({ button: 'right' });
      const update = page.locator('.context-view .monaco-menu .action-item', { hasText: 'Update Packages' });
      await update.waitFor();
      // The menu ignores a click that comes right as it opens (the right-click's own release): hover first.
      await screenshot(page, '15-update-action');
      await update.hover();
      await update.click();
      assert.doesNotMatch(await notification(page, 'updated e2e/registry-tool 1.1.0 → 1.2.0'), /not in any registry/);
      await row.getByText(/^1\.2\.0/).waitFor();
      await screenshot(page, '16-updated-from-context-action');

      // Audited as the CLI audits installs: the source is the registry.
      const log = openAuditLog(editor.mppHome, { readOnly: true });
      try {
        const installs = log.query({ type: 'install', package: 'e2e/registry-tool' }).sort((a, b) => a.seq - b.seq).map((r) => r.event as unknown as { version: string; change: string; source: string });
        assert.deepEqual(installs.map((e) => [e.version, e.change, e.source]), [['1.0.0', 'installed', 'local'], ['1.1.0', 'upgraded', 'local'], ['1.2.0', 'upgraded', 'local']]);
      } finally {
        log.close();
      }
    });
  });

  it('lists 100 installed packages (time from command to view populated: printed, not asserted)', async () => {
    const { page } = editor;
    const trust = TrustStore.load(editor.mppHome);
    for (let i = 0; i < 99; i++) {
      const bytes = signPackage(makePackage({ ...editorManifest(), name: `bench/tool-${String(i).padStart(3, '0')}` } as Manifest, {}, component), key);
      await installPackage(editor.mppHome, bytes, { verified: verifyPackage(bytes, trust) });
    }
    const started = performance.now();
    await runCommand(page, 'MPP: Refresh');
    await page.locator('.pane-body .monaco-list').getByText('bench/tool-000').waitFor();
    const ms = performance.now() - started;
    console.log(`e2e figure: 100 packages installed, "MPP: Refresh" from the palette to the view populated: ${ms.toFixed(0)} ms (includes opening the palette)`);
    await screenshot(page, '11-hundred-packages');
  });
});

/**
 * The organisation policy in the editor (in this file, after the suite above: editor tests
 * share the packaged .vsix and code-server's install, so they run one after the other).
 * The MPP view shows that a policy is active and what it restricts, a capability it forbids
 * is shown as blocked, and the editor's governed path (its in-host MCP server) refuses by
 * policy with the code and the rule, applied at the next call.
 */
describe('the organisation policy in VS Code (code-server)', { timeout: 600_000 }, () => {
  let editor: Editor;
  let org: string;
  const setPolicy = (rules: object) => writeFileSync(join(org, 'org-policy.json'), JSON.stringify({ mppOrgPolicy: 1, name: 'Acme', ...rules }));

  before(async () => {
    await run(process.execPath, [join(ROOT, 'scripts', 'package-extension.mjs')], { cwd: ROOT });
    const vsix = join(ROOT, 'dist', readdirSync(join(ROOT, 'dist')).find((f) => f.endsWith('.vsix') && f.startsWith('mpp-0'))!);
    const probe = await packExtension(join(ROOT, 'test', 'e2e', 'probe'), join(ROOT, 'dist', 'mpp-e2e-probe.vsix'));
    org = mkdtempSync(join(tmpdir(), 'mpp-org-policy-'));
    setPolicy({ capabilities: { kv: false } });
    editor = await startEditor(vsix, { others: [probe], env: { MPP_ORG_POLICY_ADD: org } });
    const key = generateKey();
    const file = join(editor.dir, 'editor.mpp');
    writeFileSync(file, signPackage(makePackage(editorManifest(), {}, await fixtureComponent('editor')), key));
    writeFileSync(join(editor.dir, 'pub.pem'), publicKeyToPem(key.publicKey));
    const opts = { home: editor.mppHome, env: { MPP_ORG_POLICY_ADD: org } };
    assert.equal((await mpp(['trust', 'add', join(editor.dir, 'pub.pem'), '--name', 'E2E Publisher'], opts)).code, 0);
    assert.equal((await mpp(['install', file], opts)).code, 0);
    assert.equal((await mpp(['grant', 'e2e/editor', '--all', '--global'], opts)).code, 0);
  });

  after(async () => {
    await editor?.close();
    rmSync(org, { recursive: true, force: true });
  });

  it('shows the active policy at the top of the MPP view, and a forbidden capability as blocked', async () => {
    const { page } = editor;
    await page.locator('.activitybar .action-item a[aria-label^="MPP"]').click();
    const tree = page.locator('.pane-body .monaco-list');
    await tree.getByText('Organisation policy active').waitFor();
    await tree.getByText('No key-value storage').waitFor();
    await tree.getByText('e2e/editor').click();
    const kv = tree.locator('.monaco-list-row', { hasText: 'Keep up to 64 KiB of its own data' });
    await kv.getByText(/blocked by your organisation's policy/).waitFor();
    await screenshot(page, 'org-policy-view');
  });

  it("refuses calls of the editor's MCP server by policy, with the code and the rule, from the next call on", async () => {
    const { page } = editor;
    await runCommand(page, 'MPP Probe: Write MPP MCP Endpoint');
    const endpointFile = join(editor.workspace, 'probe-mcp.json');
    for (let i = 0; i < 300 && !existsSync(endpointFile); i++) await new Promise((r) => setTimeout(r, 100));
    const endpoint = JSON.parse(readFileSync(endpointFile, 'utf8')) as { url: string; headers: Record<string, string> };
    const client = new Client({ name: 'org-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint.url), { requestInit: { headers: endpoint.headers } }));
    try {
      const greet = () => client.callTool({ name: mcpToolName('e2e/editor', 'greet'), arguments: { name: 'Org' } }) as Promise<{ isError?: boolean; content: { text: string }[]; structuredContent?: unknown }>;
      assert.deepEqual((await greet()).structuredContent, { greeting: 'Hello, Org!' });
      setPolicy({ packages: { block: [{ name: 'e2e/editor', reason: 'withdrawn' }] } });
      const refused = await greet();
      assert.equal(refused.isError, true);
      assert.match(refused.content[0]!.text, /^MPP_E_POLICY_PACKAGE_BLOCKED.*withdrawn.*packages\.block\[0\]/s);
      const rules: [object, RegExp][] = [
        [{ verifiedAgentAtOrAbove: 'none' }, /^MPP_E_POLICY_AGENT_UNVERIFIED/],
        [{ publishers: { allow: ['0'.repeat(64)] } }, /^MPP_E_POLICY_PUBLISHER_BLOCKED.*publishers\.allow/s],
        [{ auditForwarding: { required: true, target: 'syslog-tls://127.0.0.1:9', maxBacklog: 1 } }, /^MPP_E_AUDIT_FORWARD_BACKLOG/],
      ];
      for (const [rules_, refusal] of rules) {
        setPolicy(rules_);
        assert.match((await greet()).content[0]!.text, refusal);
      }
      setPolicy({});
      assert.deepEqual((await greet()).structuredContent, { greeting: 'Hello, Org!' });
    } finally {
      await client.close();
    }
  });
});
