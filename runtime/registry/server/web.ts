/**
 * The registry's web frontend: server-rendered HTML, no scripts, no external
 * assets, one inline style sheet allowed by a per-response nonce. Every value
 * from a package (attacker-controlled: names, descriptions, tool texts) goes
 * through `esc`. Landmarks, labelled controls and one h1 per page, so a
 * screen reader or keyboard user gets the same pages.
 */
import { randomBytes } from 'node:crypto';
import semver from 'semver';
import { describePermissions, describeSensitivity, formatBytes } from '../../format/describe.ts';
import type { Manifest } from '../../format/manifest.ts';
import type { Database } from '../../state/sqlite.ts';
import { fingerprint } from '../../trust/keys.ts';
import { allVersions, boundKeys } from './publish.ts';
import type { VersionRow } from './store.ts';
import { parseJson } from '../../format/strict-json.ts';

export interface WebPage {
  readonly status: number;
  readonly html: string;
  readonly nonce: string;
}

export interface SearchResult {
  name: string;
  version: string;
  description: string;
  publisher: { keyid: string; name: string };
  downloads: number;
}

const MAX_RESULTS = 100;

/** The newest unyanked version of each name matching `query` (name, description or publisher), most downloaded first. */
export function searchPackages(db: Database, query: string): SearchResult[] {
  const q = query.trim().toLowerCase().slice(0, 200);
  const out: SearchResult[] = [];
  for (const [name, versions] of byName(allVersions(db))) {
    const latest = versions.find((v) => v.yanked === 0);
    if (!latest) continue;
    if (q && ![name, latest.description, latest.publisher_name].some((s) => s.toLowerCase().includes(q))) continue;
    out.push({ name, version: latest.version, description: latest.description, publisher: { keyid: latest.publisher, name: latest.publisher_name }, downloads: sum(versions) });
  }
  return out.sort((a, b) => b.downloads - a.downloads || (a.name < b.name ? -1 : 1)).slice(0, MAX_RESULTS);
}

export function renderWeb(db: Database, path: string, params: URLSearchParams, registryFingerprint: string): WebPage | undefined {
  const nonce = randomBytes(16).toString('base64');
  const page = (status: number, title: string, body: string, query = ''): WebPage => ({ status, nonce, html: layout(nonce, title, body, query, registryFingerprint) });
  let m: RegExpExecArray | null;
  if (path === '/' || path === '/search') {
    const q = params.get('q') ?? '';
    return page(200, q ? `Search: ${q}` : 'MPP registry', searchPage(searchPackages(db, q), q), q);
  }
  if ((m = /^\/packages\/([a-z0-9][a-z0-9-]{0,38})\/([a-z0-9][a-z0-9._-]{0,99})$/.exec(path))) {
    const name = `${m[1]}/${m[2]}`;
    const versions = allVersions(db).filter((v) => v.name === name);
    if (versions.length === 0) return page(404, 'Not found', notFound(`No package is called ${name}.`));
    return page(200, name, packagePage(name, versions, boundKeys(db, name) ?? []));
  }
  if ((m = /^\/publishers\/([0-9a-f]{64})$/.exec(path))) {
    const keyid = m[1]!;
    const versions = allVersions(db).filter((v) => v.publisher === keyid);
    if (versions.length === 0) return page(404, 'Not found', notFound('No package on this registry is published with that key.'));
    return page(200, `Publisher ${fingerprint(keyid)}`, publisherPage(keyid, versions, db));
  }
  return undefined;
}

function searchPage(results: SearchResult[], q: string): string {
  const heading = q ? `Packages matching “${esc(q)}”` : 'All packages';
  const items = results.map((r) => `<li class="card">
      <h3><a href="/packages/${esc(r.name)}">${esc(r.name)}</a> <span class="ver">${esc(r.version)}</span></h3>
      <p>${esc(r.description)}</p>
      <p class="meta">by <a href="/publishers/${esc(r.publisher.keyid)}">${esc(r.publisher.name)}</a> · <span>${r.downloads} download${r.downloads === 1 ? '' : 's'}</span></p>
    </li>`).join('\n');
  return `<h1>MPP registry</h1>
  <p>Signed, sandboxed tools for AI agents. Every package here is verified on publish and again by every host that installs it.</p>
  <section aria-labelledby="results"><h2 id="results">${heading}</h2>
  ${results.length ? `<ul class="list">${items}</ul>` : '<p>No package matches.</p>'}
  </section>`;
}

function packagePage(name: string, versions: VersionRow[], keys: string[]): string {
  const latest = versions.find((v) => v.yanked === 0) ?? versions[0]!;
  const manifest = parseJson(latest.manifest) as Manifest;
  const permissions = describePermissions(manifest);
  const signatures = parseJson(latest.signatures) as { keyid: string; role: string }[];
  const tools = manifest.tools.map((t) => `<li><h3><code>${esc(t.name)}</code>${t.title ? ` — ${esc(t.title)}` : ''}</h3><p>${esc(t.description)}</p><p class="meta">Sensitivity: ${esc(t.sensitivity)} (${esc(describeSensitivity(t))})</p></li>`).join('');
  const perms = permissions.length
    ? `<ul>${permissions.map((p) => `<li>${esc(p.text)}${p.reason ? ` <span class="meta">— “${esc(p.reason)}”</span>` : ''}</li>`).join('')}</ul>`
    : '<p>This package asks for no permissions: it computes only on the input it is given.</p>';
  const rows = versions.map((v) => `<tr><th scope="row">${esc(v.version)}</th><td>${esc(v.published_at.slice(0, 10))}</td><td>${v.yanked ? 'yanked' : 'available'}</td><td>${formatBytes(v.size)}</td><td>${v.downloads}</td><td><code>${esc(v.sha256.slice(0, 16))}…</code></td></tr>`).join('');
  return `<h1>${esc(name)} <span class="ver">${esc(latest.version)}</span></h1>
  <p class="lead">${esc(manifest.description)}</p>
  <section aria-labelledby="install"><h2 id="install">Install</h2>
    <pre><code>mpp install ${esc(name)}</code></pre>
    <p class="meta">${sum(versions)} downloads in total${manifest.license ? ` · license ${esc(manifest.license)}` : ''}${manifest.homepage ? ` · homepage ${esc(manifest.homepage)}` : ''}</p>
  </section>
  <section aria-labelledby="tools"><h2 id="tools">Tools</h2><ul class="list">${tools}</ul></section>
  <section aria-labelledby="permissions"><h2 id="permissions">Permissions</h2>${perms}
    <p class="meta">Nothing is granted until you allow it on your machine.</p></section>
  <section aria-labelledby="publisher"><h2 id="publisher">Publisher</h2>
    <p>${esc(latest.publisher_name)} (as the package states), key <a href="/publishers/${esc(latest.publisher)}"><code>${esc(fingerprint(latest.publisher))}</code></a></p>
    ${keys.length > 1 ? `<p>Key history (rotated, oldest first): ${keys.map((k) => `<code>${esc(fingerprint(k))}</code>`).join(' → ')}</p>` : ''}
  </section>
  <section aria-labelledby="signatures"><h2 id="signatures">Signatures of ${esc(latest.version)}</h2>
    <ul>${signatures.map((s) => `<li>${esc(s.role)}: <code>${esc(s.keyid)}</code></li>`).join('')}</ul>
    <p class="meta">Package digest <code>sha256:${esc(latest.digest)}</code></p></section>
  <section aria-labelledby="versions"><h2 id="versions">Versions</h2>
    <table><caption>Every published version; yanked ones stay listed but are never installed by range.</caption>
    <thead><tr><th scope="col">Version</th><th scope="col">Published</th><th scope="col">State</th><th scope="col">Size</th><th scope="col">Downloads</th><th scope="col">File SHA-256</th></tr></thead>
    <tbody>${rows}</tbody></table></section>`;
}

function publisherPage(keyid: string, versions: VersionRow[], db: Database): string {
  const claimed = [...new Set(versions.map((v) => v.publisher_name))];
  const names = [...byName(versions).keys()];
  const items = names.map((n) => {
    const latest = searchPackages(db, n).find((r) => r.name === n);
    return `<li class="card"><h3><a href="/packages/${esc(n)}">${esc(n)}</a>${latest ? ` <span class="ver">${esc(latest.version)}</span>` : ''}</h3>${latest ? `<p>${esc(latest.description)}</p>` : '<p>Every version is yanked.</p>'}</li>`;
  }).join('');
  return `<h1>Publisher <code>${esc(fingerprint(keyid))}</code></h1>
  <section aria-labelledby="key"><h2 id="key">Key</h2>
    <p>Ed25519 key id <code class="wrap">${esc(keyid)}</code></p>
    <p>Names it publishes under (stated by its packages, not checked by the registry): ${claimed.map((c) => esc(c)).join(', ')}</p>
    <p class="meta">Compare the fingerprint with one the publisher gave you before trusting this key.</p></section>
  <section aria-labelledby="packages"><h2 id="packages">Packages</h2><ul class="list">${items}</ul></section>`;
}

function notFound(text: string): string {
  return `<h1>Not found</h1><p>${esc(text)}</p><p><a href="/">Search the registry</a></p>`;
}

function layout(nonce: string, title: string, body: string, query: string, registryFingerprint: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · MPP registry</title>
<style nonce="${nonce}">${CSS}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <nav aria-label="Site"><a class="brand" href="/">MPP registry</a></nav>
  <form role="search" action="/search" method="get">
    <label for="q">Search packages</label>
    <input id="q" name="q" type="search" value="${esc(query)}" maxlength="200">
    <button type="submit">Search</button>
  </form>
</header>
<main id="main" tabindex="-1">
${body}
</main>
<footer><p>Index signed by registry key <code>${esc(registryFingerprint)}</code>.</p></footer>
</body>
</html>
`;
}

// Colours meet WCAG AA contrast (text at least 4.5:1 on its background); focus is always visible.
const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 "DejaVu Sans",system-ui,sans-serif;color:#1b1f24;background:#fff}
a{color:#0645ad}
a:focus,button:focus,input:focus,main:focus{outline:3px solid #b35900;outline-offset:2px}
.skip{position:absolute;left:-999px}
.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px}
header{display:flex;flex-wrap:wrap;gap:16px;align-items:center;justify-content:space-between;padding:12px 24px;background:#1b2a41;color:#fff}
header a.brand{color:#fff;font-weight:bold;font-size:1.2em;text-decoration:none}
header label{margin-right:8px}
input{font:inherit;padding:4px 8px;border:1px solid #5a6472;border-radius:4px;min-width:16em}
button{font:inherit;padding:4px 12px;border:0;border-radius:4px;background:#f3b33d;color:#1b1f24;cursor:pointer}
main{max-width:960px;margin:0 auto;padding:16px 24px}
footer{max-width:960px;margin:0 auto;padding:8px 24px;color:#4a5360;font-size:.9em}
.ver{font-weight:normal;color:#4a5360;font-size:.8em}
.lead{font-size:1.1em}
.meta{color:#4a5360;font-size:.9em}
.list{list-style:none;padding:0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 16px;margin:8px 0}
.card h3{margin:4px 0}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px 12px;border-radius:6px;overflow-x:auto}
code.wrap{word-break:break-all}
table{border-collapse:collapse;width:100%}
caption{text-align:left;color:#4a5360;padding:4px 0}
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left}
`;

/** HTML-escapes text for element content and quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function byName(rows: VersionRow[]): Map<string, VersionRow[]> {
  const out = new Map<string, VersionRow[]>();
  for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), r]);
  for (const list of out.values()) list.sort((a, b) => semver.rcompare(a.version, b.version));
  return out;
}

function sum(rows: VersionRow[]): number {
  return rows.reduce((n, v) => n + v.downloads, 0);
}
