/**
 * The dialogs' page, bundled by esbuild into dist/webview/dialog.js with the
 * @vscode-elements/elements components it uses. Everything shown comes from
 * the extension's `show` message and is put in the page as text (never as
 * HTML). An answer is sent only from a trusted user event (a real click or
 * key press in this page), at most once.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { Answer, AuditDialog, ConfirmDialog, ConsentDialog, Dialog, HostMessage, InspectDialog, TrustDialog, WebviewMessage } from './protocol.ts';

declare function acquireVsCodeApi(): { postMessage(message: WebviewMessage): void };
const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;
let answered = false;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K];
function el(tag: string, text?: string, cls?: string): HTMLElement;
function el(tag: string, text?: string, cls?: string): HTMLElement {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function row(label: string, value: string): HTMLElement {
  const r = el('div', undefined, 'row');
  r.append(el('span', label, 'label'), el('span', value, 'value'));
  return r;
}

function pre(text: string): HTMLElement {
  return el('pre', text);
}

function answer(ev: Event, message: Answer): void {
  // Script in the page cannot make trusted events: only the user's own click or key press answers.
  if (!ev.isTrusted || answered) return;
  answered = true;
  for (const b of document.querySelectorAll('vscode-button')) b.setAttribute('disabled', '');
  vscode.postMessage(message);
}

function button(text: string, secondary: boolean, onPress: (ev: Event) => void): HTMLElement {
  const b = el('vscode-button', text);
  if (secondary) b.setAttribute('secondary', '');
  b.addEventListener('click', onPress);
  return b;
}

function actions(...buttons: HTMLElement[]): HTMLElement {
  const bar = el('div', undefined, 'actions');
  bar.append(...buttons);
  return bar;
}

const HEADINGS: Record<ConsentDialog['reason'], (name: string) => string> = {
  'first-run': (name) => `Allow ${name} to run?`,
  widened: (name) => `${name} now asks for more`,
  manage: (name) => `Permissions of ${name}`,
};

function consent(d: ConsentDialog): void {
  root.append(
    el('h1', HEADINGS[d.reason](d.packageName)),
    row('Package', `${d.packageName}@${d.version}`),
    row('Publisher', `${d.publisher} (${d.fingerprint})`),
  );
  if (d.current) root.append(row('Now', d.current));
  const boxes: { id: string; box: HTMLElement }[] = [];
  if (d.permissions.length === 0) {
    root.append(el('p', 'This package asks for no access to your files, network, environment or storage: it only computes.'));
  } else {
    root.append(el('p', 'It asks to:'));
    const list = el('div', undefined, 'permissions');
    for (const p of d.permissions) {
      const item = el('div', undefined, 'permission');
      const box = el('vscode-checkbox');
      box.setAttribute('label', p.state === 'new' && d.reason === 'widened' ? `${p.text} (new)` : p.text);
      box.dataset.id = p.id;
      // Pre-checked: what was granted before; on a first run, what the package asks (the user unticks).
      if (p.grantable && (p.state === 'granted' || (d.reason === 'first-run' && p.state !== 'declined'))) box.setAttribute('checked', '');
      if (!p.grantable) box.setAttribute('disabled', '');
      item.append(box);
      if (p.reason) item.append(el('div', `Why: ${p.reason}`, 'reason'));
      if (p.blockedBy) item.append(el('div', `Blocked by your organisation's policy (rule ${p.blockedBy}): it can never be granted on this machine.`, 'reason blocked'));
      else if (!p.grantable) item.append(el('div', 'Cannot be granted here: the host is a wildcard. Grant concrete hosts with `mpp run --allow-net`.', 'reason'));
      list.append(item);
      if (p.grantable) boxes.push({ id: p.id, box });
    }
    root.append(list);
  }
  const scope = el('vscode-radio-group');
  scope.setAttribute('aria-label', 'Remember for');
  for (const [value, label] of [
    ['workspace', 'This workspace'],
    ['global', 'All workspaces'],
  ] as const) {
    const r = el('vscode-radio');
    r.setAttribute('label', label);
    r.setAttribute('name', 'scope');
    r.setAttribute('value', value);
    if (value === 'workspace' ? d.workspaceOpen : !d.workspaceOpen) r.setAttribute('checked', '');
    if (value === 'workspace' && !d.workspaceOpen) r.setAttribute('disabled', '');
    scope.append(r);
  }
  root.append(el('h2', 'Remember for'), scope);
  const chosenScope = (): 'global' | 'workspace' => ((scope.querySelector('vscode-radio[checked]') as HTMLElement | null)?.getAttribute('value') === 'global' ? 'global' : d.workspaceOpen ? 'workspace' : 'global');
  const checked = (b: HTMLElement): boolean => (b as HTMLElement & { checked?: boolean }).checked === true;
  root.append(
    actions(
      button(d.permissions.length === 0 ? 'Allow' : d.reason === 'manage' ? 'Save selected' : 'Allow selected', false, (ev) => answer(ev, { type: 'answer', kind: 'consent', decision: 'grant', ids: boxes.filter((b) => checked(b.box)).map((b) => b.id), scope: chosenScope() })),
      button('Allow all', true, (ev) => answer(ev, { type: 'answer', kind: 'consent', decision: 'grant', ids: boxes.map((b) => b.id), scope: chosenScope() })),
      button('Deny', true, (ev) => answer(ev, { type: 'answer', kind: 'consent', decision: 'deny' })),
    ),
  );
}

function confirmDialog(d: ConfirmDialog): void {
  root.append(
    el('h1', `Confirm: ${d.tool}`),
    row('Package', d.packageName),
    row('Operation', d.operation),
    row('Sensitivity', d.sensitivity),
    row('Asked by', d.agent),
    el('h2', 'Arguments'),
    pre(d.args),
  );
  const countdown = el('p', '', 'countdown');
  let left = d.timeoutSeconds;
  const tick = (): void => {
    countdown.textContent = `Denied automatically in ${left} s unless you approve.`;
    left = Math.max(0, left - 1);
  };
  tick();
  setInterval(tick, 1000);
  const deny = button('Deny', false, (ev) => answer(ev, { type: 'answer', kind: 'confirm', decision: 'deny' }));
  root.append(countdown, actions(button('Approve', true, (ev) => answer(ev, { type: 'answer', kind: 'confirm', decision: 'approve' })), deny));
  // The safe answer has the focus: Enter on an unread dialog denies.
  deny.focus();
}

function trust(d: TrustDialog): void {
  root.append(
    el('h1', 'Trust a new publisher key?'),
    el('p', `${d.packageName}@${d.version} is signed by a key this computer has never trusted.`),
    row('Publisher (as the package claims)', d.claimedName),
    row('Fingerprint', d.fingerprint),
    row('Key id', d.keyid),
    el('p', 'Compare the fingerprint with one the publisher gave you through another channel. Trusting it lets every package signed by this key install.', 'reason'),
  );
  const deny = button('Deny', false, (ev) => answer(ev, { type: 'answer', kind: 'trust', decision: 'deny' }));
  root.append(actions(button('Trust this key', true, (ev) => answer(ev, { type: 'answer', kind: 'trust', decision: 'approve' })), deny));
  deny.focus();
}

function section(title: string, open: boolean, ...content: HTMLElement[]): HTMLElement {
  const c = el('vscode-collapsible');
  c.setAttribute('title', title);
  if (open) c.setAttribute('open', '');
  const body = el('div', undefined, 'section');
  body.append(...content);
  c.append(body);
  return c;
}

/** `nowrap`: columns of short words, kept whole; the others (hashes, JSON) wrap anywhere. */
function table(head: string[], rows: string[][], nowrap: number[] = []): HTMLElement {
  const t = el('table');
  const tr = el('tr');
  for (const h of head) tr.append(el('th', h));
  t.append(tr);
  for (const r of rows) {
    const line = el('tr');
    r.forEach((cell, i) => line.append(el('td', cell, nowrap.includes(i) ? 'nowrap' : undefined)));
    t.append(line);
  }
  return t;
}

function inspect(d: InspectDialog): void {
  root.append(el('h1', `${d.packageName}@${d.version}`), row('Publisher', d.publisher), row('Digest', `sha256:${d.digest}`));
  root.append(
    section('Tools', true, ...d.tools.map((t) => section(`${t.name} — ${t.sensitivity}`, false, el('p', t.description), el('h3', 'Input schema'), pre(t.inputSchema), el('h3', 'Output schema'), pre(t.outputSchema)))),
    section('Permissions', true, d.permissions.length === 0 ? el('p', 'None: it only computes.') : table(['Capability', 'Meaning', 'Reason'], d.permissions.map((p) => [p.id, p.text, p.reason ?? '']))),
    section('Signatures', true, table(['Role', 'Key fingerprint', 'Key id', 'Trust'], d.signatures.map((s) => [s.role, s.fingerprint, s.keyid, s.trusted]), [0, 3])),
    section('Files', false, table(['Path', 'Bytes', 'SHA-256'], d.files.map((f) => [f.path, String(f.size), f.sha256]), [0, 1])),
    section('Manifest', false, pre(d.manifest)),
  );
}

function audit(d: AuditDialog): void {
  root.append(el('h1', 'MPP audit log'));
  const chain = el('p', d.chain.text, d.chain.ok ? 'chain-ok' : 'chain-broken');
  chain.setAttribute('role', 'status');
  const filter = el('vscode-textfield');
  filter.setAttribute('placeholder', 'Filter: type, package, agent or any text');
  filter.setAttribute('aria-label', 'Filter');
  const exportButton = button('Export…', true, (ev) => {
    if (ev.isTrusted) vscode.postMessage({ type: 'export' });
  });
  const bar = el('div', undefined, 'actions');
  bar.append(filter, exportButton);
  // One record per tbody: its fields on one line, its details full width below (a narrow column would squeeze them).
  const t = el('table', undefined, 'audit');
  const head = el('tr');
  for (const h of ['#', 'Time (UTC)', 'Event', 'Package', 'Agent']) head.append(el('th', h));
  t.append(head);
  const records = d.records.map((r) => {
    const body = el('tbody');
    const line = el('tr');
    for (const cell of [String(r.seq), r.time, r.type, r.package, r.agent]) line.append(el('td', cell, 'nowrap'));
    const detail = el('tr', undefined, 'detail');
    const cell = el('td', r.detail);
    cell.colSpan = 5;
    detail.append(cell);
    body.append(line, detail);
    t.append(body);
    return body;
  });
  const count = el('p', `${records.length} events`, 'reason');
  filter.addEventListener('input', () => {
    const q = ((filter as HTMLElement & { value?: string }).value ?? '').toLowerCase();
    let shown = 0;
    for (const body of records) {
      const hit = q === '' || (body.textContent ?? '').toLowerCase().includes(q);
      body.hidden = !hit;
      if (hit) shown++;
    }
    count.textContent = `${shown} of ${records.length} events`;
  });
  root.append(chain, bar, count, t);
}

const RENDER: { [K in Dialog['kind']]: (d: Extract<Dialog, { kind: K }>) => void } = { consent, confirm: confirmDialog, trust, inspect, audit };

window.addEventListener('message', (ev: MessageEvent<HostMessage>) => {
  const m = ev.data;
  if (m?.type !== 'show' || root.childElementCount > 0) return;
  (RENDER[m.dialog.kind] as (d: Dialog) => void)(m.dialog);
});
vscode.postMessage({ type: 'ready' });
