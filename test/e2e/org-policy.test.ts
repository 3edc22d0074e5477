/**
 * The organisation policy in a real VS Code (code-server): the MPP view shows
 * that a policy is active and what it restricts, a capability it forbids is
 * shown as blocked, and the editor's governed path (its in-host MCP server)
 * refuses by policy with the code and the rule, applied at the next call.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mcpToolName } from '../../runtime/mcp/names.ts';
import { generateKey, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { editorManifest } from '../fixtures/tools/editor-manifest.ts';
import { mpp, ROOT } from '../helpers/cli.ts';
import { makePackage } from '../helpers/packages.ts';
import { packExtension, runCommand, screenshot, startEditor, type Editor } from './editor.ts';

const run = promisify(execFile);

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
