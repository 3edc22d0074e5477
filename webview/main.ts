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
import { button, el } from './dom.ts';
import type { Answer, AuditDialog, ConfirmDialog, ConsentDialog, Dialog, HostMessage, InspectDialog, TrustDialog, WebviewMessage } from './protocol.ts';

declare function acquireVsCodeApi(): { postMessage(message: WebviewMessage): void };
const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;
let answered = false;

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
  filter.setAttribute('placeholder', 'Filter: package, agent, tool or any word');
  filter.setAttribute('aria-label', 'Filter');
  const exportButton = button('Export…', true, (ev) => {
    if (ev.isTrusted) vscode.postMessage({ type: 'export' });
  });
  const bar = el('div', undefined, 'actions');
  bar.append(filter, exportButton);
  // Each record a sentence; the record itself (every field, whole) one click away in a native, keyboard-usable disclosure.
  const list = el('ol', undefined, 'audit');
  list.setAttribute('aria-label', 'Audit records, newest first');
  const items = d.records.map((r) => {
    const item = el('li', undefined, `record ${r.outcome}`);
    const line = el('div', undefined, 'record-line');
    line.append(el('span', OUTCOME_MARK[r.outcome], 'mark'), el('time', `${r.time} UTC`, 'when'), el('span', r.sentence, 'sentence'));
    const raw = el('details');
    raw.append(el('summary', `Raw record #${r.seq} (${r.type})`), pre(r.raw));
    item.append(line, raw);
    list.append(item);
    return item;
  });
  const count = el('p', `${items.length} events`, 'reason');
  count.setAttribute('aria-live', 'polite');
  filter.addEventListener('input', () => {
    const q = ((filter as HTMLElement & { value?: string }).value ?? '').toLowerCase();
    let shown = 0;
    for (const item of items) {
      const hit = q === '' || (item.textContent ?? '').toLowerCase().includes(q);
      item.hidden = !hit;
      if (hit) shown++;
    }
    count.textContent = `${shown} of ${items.length} events`;
  });
  root.append(chain, section('Activity per package', true, activityChart(d.activity)), bar, count, list);
}

const OUTCOME_MARK: Record<AuditDialog['records'][number]['outcome'], string> = { ok: '✓', refused: '✕', asked: '?', info: '•' };
const SERIES = [
  ['calls', 'calls'],
  ['denials', 'denials'],
  ['confirmations', 'confirmations asked'],
] as const;
const SVG = 'http://www.w3.org/2000/svg';

/** Small multiples: per package, one group of three bars (calls, denials, confirmations) per UTC day, to one scale. */
function activityChart(a: AuditDialog['activity']): HTMLElement {
  const box = el('div', undefined, 'activity');
  if (a.packages.length === 0) {
    box.append(el('p', 'No calls, denials or confirmations recorded yet.', 'reason'));
    return box;
  }
  const legend = el('p', undefined, 'legend');
  for (const [key, label] of SERIES) legend.append(el('span', label, `key key-${key}`));
  box.append(legend, el('p', `${a.days[0]} to ${a.days.at(-1)} (UTC days)`, 'reason'));
  const max = Math.max(1, ...a.packages.flatMap((p) => [...p.calls, ...p.denials, ...p.confirmations]));
  const dayWidth = 16;
  const height = 48;
  for (const p of a.packages) {
    const total = (xs: readonly number[]) => xs.reduce((n, x) => n + x, 0);
    const summary = `${p.name}: ${total(p.calls)} calls, ${total(p.denials)} denials, ${total(p.confirmations)} confirmations asked`;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', summary);
    svg.setAttribute('width', String(a.days.length * dayWidth));
    svg.setAttribute('height', String(height));
    svg.setAttribute('class', 'chart');
    a.days.forEach((day, i) => {
      SERIES.forEach(([key, label], j) => {
        const n = p[key][i]!;
        if (n === 0) return;
        const h = Math.max(2, Math.round((n / max) * (height - 2)));
        const rect = document.createElementNS(SVG, 'rect');
        rect.setAttribute('x', String(i * dayWidth + j * 5));
        rect.setAttribute('y', String(height - h));
        rect.setAttribute('width', '4');
        rect.setAttribute('height', String(h));
        rect.setAttribute('class', `bar-${key}`);
        const title = document.createElementNS(SVG, 'title');
        title.textContent = `${day}: ${n} ${label}`;
        rect.append(title);
        svg.append(rect);
      });
    });
    const rowBox = el('div', undefined, 'chart-row');
    rowBox.append(el('span', p.name, 'chart-name'), svg, el('span', summary.slice(p.name.length + 2), 'reason'));
    box.append(rowBox);
  }
  return box;
}

const RENDER: { [K in Dialog['kind']]: (d: Extract<Dialog, { kind: K }>) => void } = { consent, confirm: confirmDialog, trust, inspect, audit };

window.addEventListener('message', (ev: MessageEvent<HostMessage>) => {
  const m = ev.data;
  if (m?.type !== 'show' || root.childElementCount > 0) return;
  (RENDER[m.dialog.kind] as (d: Dialog) => void)(m.dialog);
});
vscode.postMessage({ type: 'ready' });
