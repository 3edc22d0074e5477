/**
 * A real VS Code (code-server) with the packaged extension installed from its
 * .vsix, driven through Debian's chromium by playwright-core. Everything the
 * editor writes lives in one temporary folder per run.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { ROOT } from '../helpers/cli.ts';
import { CHROMIUM, codeServerEntry, ensurePrerequisites } from './setup.ts';

const run = promisify(execFile);
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e');

export interface Editor {
  readonly page: Page;
  readonly dir: string;
  /** The folder open in the editor. */
  readonly workspace: string;
  /** MPP_HOME of the editor's extension host. */
  readonly mppHome: string;
  readonly log: () => string;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Packs an extension folder into a .vsix with @vscode/vsce (as scripts/package-extension.mjs does for MPP). */
export async function packExtension(folder: string, out: string): Promise<string> {
  await run(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], { cwd: folder });
  return out;
}

/** `vsix` and then `others` (e.g. a test extension that uses MPP's public API) are installed from their .vsix files; `env` adds to the editor's environment. */
export async function startEditor(vsix: string, opts: { settings?: Record<string, unknown>; others?: readonly string[]; env?: Record<string, string> } = {}): Promise<Editor> {
  await ensurePrerequisites((l) => process.stderr.write(`e2e: ${l}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'mpp-e2e-'));
  const paths = { home: join(dir, 'home'), tmp: join(dir, 'tmp'), data: join(dir, 'data'), extensions: join(dir, 'extensions'), workspace: join(dir, 'workspace'), mpp: join(dir, 'mpp-home') };
  for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
  mkdirSync(join(paths.data, 'User'), { recursive: true });
  writeFileSync(
    join(paths.data, 'User', 'settings.json'),
    JSON.stringify({ 'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'security.workspace.trust.enabled': false, 'chat.disableAIFeatures': true, ...opts.settings }),
  );
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: paths.home,
    TMPDIR: paths.tmp,
    XDG_CONFIG_HOME: join(paths.home, '.config'),
    XDG_DATA_HOME: join(paths.home, '.local', 'share'),
    XDG_CACHE_HOME: join(paths.home, '.cache'),
    MPP_HOME: paths.mpp,
    ...opts.env,
  };
  const base = [codeServerEntry(), '--config', config, '--user-data-dir', paths.data, '--extensions-dir', paths.extensions];
  // The packaged artifact itself, as a user installs it.
  await run(process.execPath, [...base, '--install-extension', vsix], { env });
  for (const other of opts.others ?? []) await run(process.execPath, [...base, '--install-extension', other], { env });

  const port = await freePort();
  let output = '';
  const server: ChildProcess = spawn(
    process.execPath,
    [...base, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', paths.workspace],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: false },
  );
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${output}`)), 60_000);
    const check = (): void => {
      if (output.includes('HTTP server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    server.stdout!.on('data', check);
    server.on('exit', (code) => reject(new Error(`code-server exited with ${code}:\n${output}`)));
  });

  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(join(dir, 'browser'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    // Every wait is a bound, not an expectation: a loaded 2-core machine may take long to draw a dialog.
    page.setDefaultTimeout(120_000);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(paths.workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.statusbar').waitFor({ timeout: 60_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    const ctx = context;
    return {
      page,
      dir,
      workspace: paths.workspace,
      mppHome: paths.mpp,
      log: () => output,
      async close() {
        await ctx.close().catch(() => {});
        server.kill();
        await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once('exit', r)));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await context?.close().catch(() => {});
    server.kill();
    throw e;
  }
}

/** Runs a command from the palette by its title (retried: the palette sometimes opens before the workbench takes keys). */
export async function runCommand(page: Page, title: string): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ timeout: 10_000 });
      await input.fill(`>${title}`);
      await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      // The palette must have let go before anything answers the command's own input: while it is still drawn,
      // its box would take the answer (seen on a loaded CI machine: the file path went to the palette, and the
      // command's file dialog, opened a moment later, waited unanswered). Hidden, or showing another input, is gone.
      await page.waitForFunction(
        () => {
          const box = document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input');
          return box === null || box.offsetParent === null || !box.value.startsWith('>');
        },
        undefined,
        { timeout: 30_000 },
      );
      return;
    } catch (e) {
      last = e;
      await page.keyboard.press('Escape');
    }
  }
  throw last;
}

/**
 * Answers VS Code's own file dialog (a quick input in the browser) with `path`. The dialog fills in its folder
 * and lists it after it is drawn; a path typed before that is overwritten, and Enter then opens the folder. So
 * the path is typed once the dialog shows its folder, and typed again while the dialog stays open (3 times).
 */
export async function answerFileDialog(page: Page, path: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (attempt > 0 && !(await input.isVisible())) return; // the last Enter was taken, later than waited for
      await input.waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value ?? '').endsWith('/'), undefined, { timeout: 30_000 });
      await input.fill(path);
      await page.keyboard.press('Enter');
      await input.waitFor({ state: 'hidden', timeout: 15_000 });
      return;
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** Answers an open quick input (a text, a pick) by typing and pressing Enter. */
export async function answerQuickInput(page: Page, text: string, pick?: string, pickTimeout = 60_000): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  if (!pick) {
    await input.waitFor({ timeout: 60_000 });
    await input.fill(text);
    await page.keyboard.press('Enter');
    return;
  }
  // A pick's filter box is sometimes drawn hidden for a while on a loaded machine: filter when it shows, else click the row.
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: pick }).first();
  const typed = await input
    .waitFor({ timeout: 10_000 })
    .then(() => input.fill(text))
    .then(() => true, () => false);
  await row.waitFor({ timeout: pickTimeout });
  if (typed) await page.keyboard.press('Enter');
  else await row.click();
}

/**
 * Runs a command that asks for a pick, and picks `pick` (filtering by `text`). A quick pick closes when the
 * workbench moves focus while it opens (seen on a loaded CI machine: the row stayed in the DOM, hidden); the
 * pick was then never made, so the command is run again, up to 3 times.
 */
export async function runCommandAndPick(page: Page, title: string, text: string, pick: string): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    await runCommand(page, title);
    try {
      await answerQuickInput(page, text, pick, 30_000);
      return;
    } catch (e) {
      last = e;
      await page.keyboard.press('Escape');
    }
  }
  throw last;
}

/** The content of the webview panel whose tab has `title`. */
export async function webview(page: Page, title: string): Promise<FrameLocator> {
  // Bounds, not expectations: a loaded machine may take long to open a panel.
  await page.locator('.tabs-container .tab', { hasText: title }).first().waitFor({ timeout: 180_000 });
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

/** Waits for a notification containing `text` and returns its full text. */
export async function notification(page: Page, text: string | RegExp, timeout = 180_000): Promise<string> {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).last();
  await toast.waitFor({ timeout });
  return (await toast.innerText()).trim();
}

export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
