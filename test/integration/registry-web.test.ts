/**
 * The registry's web frontend in a real browser: Debian's chromium driven by
 * playwright-core. Checks the content of the search, package and publisher
 * pages, escaping of hostile package texts, that the CSP blocks nothing the
 * pages need, landmarks, labels, headings, keyboard use and text contrast.
 * Screenshots go to test-artifacts/registry-web/ for a human to look at.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { publishPackage } from '../../runtime/registry/client/publish.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { ROOT, tempDir } from '../helpers/cli.ts';
import { baseManifest, makePackage } from '../helpers/packages.ts';
import { inProcessRegistry, useRegistry } from '../helpers/registry.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts', 'registry-web');

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium', 'fonts-dejavu-core'], { stdio: 'inherit', env });
}

/** WCAG contrast of every text element's colour against the nearest opaque background behind it. */
function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const lum = (rgb: number[]) => {
      const [r, g, b] = rgb.map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = parse(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.9)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== '');
      if (!own || (el as HTMLElement).offsetParent === null) continue;
      const a = lum(parse(getComputedStyle(el).color).slice(0, 3));
      const b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) bad.push(`${el.tagName} "${el.textContent!.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return bad;
  });
}

describe('registry web frontend in chromium', () => {
  const dir = tempDir({ after }, 'web');
  const publisher = generateKey();
  let browser: Browser;
  let page: Page;
  let url: string;
  const consoleErrors: string[] = [];
  const cleanups: (() => unknown)[] = [];

  before(async () => {
    ensureChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
    const reg = await inProcessRegistry({ after: (fn) => cleanups.push(fn) }, join(dir, 'registry'));
    url = reg.url;
    const entry = await useRegistry(join(dir, 'home'), reg.dir, reg.url);
    const manifest = baseManifest({
      name: 'acme/files',
      version: '1.2.0',
      description: 'Searches and summarises files in your workspace.',
      publisher: { name: 'Acme Tools' },
      permissions: {
        filesystem: [{ path: '${workspace}/docs', access: 'read', reason: 'to read the documents you ask about' }],
        network: [{ scheme: 'https', host: 'api.example.com', methods: ['GET'] }],
        kv: { maxBytes: 1048576 },
      },
    });
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) await publishPackage(entry, signPackage(makePackage({ ...manifest, version }), publisher), reg.token);
    // Hostile texts: must show as text, never run.
    await publishPackage(entry, signPackage(makePackage(baseManifest({ name: 'acme/evil', description: '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>' })), publisher), reg.token);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('dialog', (d) => void d.dismiss());
  });
  after(async () => {
    await browser?.close();
    for (const fn of cleanups) await fn();
  });

  it('search page: landmarks, a labelled search box, keyboard search, results', async () => {
    await page.goto(`${url}/`);
    for (const role of ['banner', 'navigation', 'main', 'contentinfo', 'search'] as const) assert.equal(await page.getByRole(role).count(), 1, `one ${role} landmark`);
    assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);
    // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    const box = page.getByRole('searchbox', { name: 'Search packages' });
    await box.focus();
    await page.keyboard.type('files');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\?q=files/);
    const results = page.getByRole('main').getByRole('listitem');
    assert.equal(await results.count(), 1);
    assert.match(await results.first().innerText(), /acme\/files[\s\S]*1\.2\.0[\s\S]*Searches and summarises files/);
    await page.screenshot({ path: join(ARTIFACTS, 'search.png'), fullPage: true });
    assert.deepEqual(await lowContrast(page), []);
  });

  it('package page: versions, publisher key, tools, permissions in plain words, signatures, install command, downloads', async () => {
    await page.goto(`${url}/packages/acme/files`);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'acme/files 1.2.0');
    const sections = await page.getByRole('heading', { level: 2 }).allInnerTexts();
    assert.deepEqual(sections, ['Install', 'Tools', 'Permissions', 'Publisher', 'Signatures of 1.2.0', 'Versions']);
    const text = await page.getByRole('main').innerText();
    assert.match(text, /mpp install acme\/files/);
    assert.match(text, /Read files in docs in your workspace folder/);
    assert.match(text, /Send GET requests to https:\/\/api\.example\.com/);
    assert.match(text, /Keep up to 1 MiB of its own data/);
    assert.match(text, new RegExp(`author: ${publisher.publicKey.keyid}`));
    assert.match(text, /0 downloads in total/);
    assert.equal(await page.getByRole('table').getByRole('row').count(), 4, 'a header row and three versions');
    await page.screenshot({ path: join(ARTIFACTS, 'package.png'), fullPage: true });
    assert.deepEqual(await lowContrast(page), []);
    // The publisher link is reachable and works from the keyboard.
    await page.getByRole('link', { name: /ed25519:/ }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/publishers\/[0-9a-f]{64}$/);
  });

  it('publisher page: key and packages', async () => {
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /^Publisher ed25519:/);
    const text = await page.getByRole('main').innerText();
    assert.ok(text.includes(publisher.publicKey.keyid));
    assert.match(text, /acme\/files/);
    assert.match(text, /acme\/evil/);
    await page.screenshot({ path: join(ARTIFACTS, 'publisher.png'), fullPage: true });
  });

  it('hostile package texts are shown as text and never run; the CSP blocks nothing the pages use', async () => {
    await page.goto(`${url}/packages/acme/evil`);
    assert.notEqual(await page.title(), 'pwned');
    assert.match(await page.getByRole('main').innerText(), /<script>document\.title="pwned"<\/script>/);
    assert.equal(await page.locator('main img, main script').count(), 0);
    assert.deepEqual(consoleErrors, []);
  });
});
