/**
 * The tool form's page (dist/webview/tool-form.js): a form generated from the
 * tool's input schema (schema-form-model.ts), a raw JSON editor for what the
 * form cannot express, and the results of each run, formatted. Everything
 * shown is put in the page as text, never as HTML; a run is sent only from a
 * trusted user event.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { button, el } from './dom.ts';
import { formFor, parseNumber, problems, type Field } from './schema-form-model.ts';
import type { FormHostMessage, FormMessage, RunOutcome, ToolForm } from './tool-form-protocol.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Read {
  /** False: nothing entered (left out of the input). */
  readonly present: boolean;
  readonly value?: Json;
  readonly errors: readonly string[];
}
interface Control {
  readonly node: HTMLElement;
  read(): Read;
}
type Valued = HTMLElement & { value: string };
type Checked = HTMLElement & { checked: boolean };

declare function acquireVsCodeApi(): { postMessage(message: FormMessage): void };
const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;

function labelled(field: Field, control: HTMLElement, name?: string): HTMLElement {
  const box = el('div', undefined, 'field');
  const label = el('label', `${field.label}${field.required ? ' *' : ''}`, 'field-label');
  if (name) control.dataset.field = name;
  box.append(label, control);
  if (field.description) box.append(el('div', field.description, 'reason'));
  return box;
}

const absent: Read = { present: false, errors: [] };
const missing = (field: Field): Read => ({ present: false, errors: field.required ? [`${field.label}: required`] : [] });
const checked = (field: Field, value: Json): Read => ({ present: true, value, errors: problems(field, value) });

function control(field: Field, name?: string): Control {
  switch (field.kind) {
    case 'string': {
      const input = el('vscode-textfield') as Valued;
      if (typeof field.default === 'string') input.setAttribute('value', field.default);
      if (field.maxLength !== undefined) input.setAttribute('maxlength', String(field.maxLength));
      return {
        node: labelled(field, input, name),
        // An empty optional text is "not given"; an empty required one is sent and checked as "".
        read: () => (input.value === '' && !field.required ? absent : checked(field, input.value ?? '')),
      };
    }
    case 'number':
    case 'integer': {
      const input = el('vscode-textfield') as Valued;
      input.setAttribute('type', 'number');
      if (typeof field.default === 'number') input.setAttribute('value', String(field.default));
      return {
        node: labelled(field, input, name),
        read: () => {
          const n = parseNumber(input.value ?? '');
          if (n === undefined) return missing(field);
          if (Number.isNaN(n)) return { present: true, errors: [`${field.label}: must be a number`] };
          return checked(field, n);
        },
      };
    }
    case 'boolean': {
      const box = el('vscode-checkbox') as Checked;
      box.setAttribute('label', field.label);
      if (field.default === true) box.setAttribute('checked', '');
      const node = el('div', undefined, 'field');
      if (name) box.dataset.field = name;
      node.append(box);
      if (field.description) node.append(el('div', field.description, 'reason'));
      // Unticked and optional without a default: left out, so the tool's own default applies.
      return { node, read: () => (box.checked || field.required || field.default !== undefined ? checked(field, box.checked) : absent) };
    }
    case 'enum': {
      const select = el('vscode-single-select') as Valued;
      const none = !field.required && field.default === undefined;
      if (none) select.append(option('', '(not given)'));
      field.options.forEach((o, i) => select.append(option(String(i), typeof o === 'string' ? o : JSON.stringify(o))));
      const initial = field.default === undefined ? (none ? '' : '0') : String(field.options.findIndex((o) => JSON.stringify(o) === JSON.stringify(field.default)));
      select.setAttribute('value', initial);
      return {
        node: labelled(field, select, name),
        read: () => {
          const v = select.value ?? '';
          if (v === '') return missing(field);
          return checked(field, field.options[Number(v)] ?? null);
        },
      };
    }
    case 'object': {
      const set = el('fieldset', undefined, 'object');
      set.append(el('legend', `${field.label}${field.required ? ' *' : ''}`));
      if (field.description) set.append(el('div', field.description, 'reason'));
      const members = field.fields.map((f) => ({ name: f.name, c: control(f, name ? `${name}.${f.name}` : f.name) }));
      for (const m of members) set.append(m.c.node);
      return {
        node: set,
        read: () => {
          const value: { [k: string]: Json } = {};
          const errors: string[] = [];
          for (const m of members) {
            const r = m.c.read();
            errors.push(...r.errors);
            if (r.present && r.value !== undefined) value[m.name] = r.value;
          }
          // An optional object nobody filled in is left out, with whatever its members would require.
          if (!field.required && Object.keys(value).length === 0) return absent;
          return { present: true, value, errors };
        },
      };
    }
    case 'array': {
      const box = el('fieldset', undefined, 'array');
      box.append(el('legend', `${field.label}${field.required ? ' *' : ''}`));
      if (field.description) box.append(el('div', field.description, 'reason'));
      const list = el('div', undefined, 'items');
      const items: Control[] = [];
      const add = (): void => {
        const item = control({ ...field.item, label: `${field.label} ${items.length + 1}` });
        const line = el('div', undefined, 'item');
        const remove = el('vscode-button', 'Remove');
        remove.setAttribute('secondary', '');
        remove.addEventListener('click', () => {
          items.splice(items.indexOf(item), 1);
          line.remove();
        });
        line.append(item.node, remove);
        list.append(line);
        items.push(item);
      };
      const addButton = el('vscode-button', 'Add item');
      addButton.setAttribute('secondary', '');
      addButton.addEventListener('click', add);
      box.append(list, addButton);
      if (Array.isArray(field.default)) field.default.forEach(() => add());
      return {
        node: box,
        read: () => {
          const reads = items.map((i) => i.read());
          const errors = reads.flatMap((r) => r.errors);
          const value = reads.filter((r) => r.present && r.value !== undefined).map((r) => r.value!);
          if (value.length === 0 && !field.required) return { present: false, errors };
          return { present: true, value, errors: [...errors, ...problems(field, value)] };
        },
      };
    }
    case 'json': {
      const area = el('vscode-textarea') as Valued;
      area.setAttribute('rows', '4');
      if (field.default !== undefined) area.setAttribute('value', JSON.stringify(field.default, null, 2));
      const node = labelled({ ...field, description: `${field.description ? `${field.description} ` : ''}(JSON: ${field.reason})` }, area, name);
      return {
        node,
        read: () => {
          if ((area.value ?? '').trim() === '') return missing(field);
          try {
            return { present: true, value: JSON.parse(area.value) as Json, errors: [] };
          } catch {
            return { present: true, errors: [`${field.label}: not valid JSON`] };
          }
        },
      };
    }
  }
}

function option(value: string, text: string): HTMLElement {
  const o = el('vscode-option', text);
  o.setAttribute('value', value);
  return o;
}

let runButton: HTMLElement | undefined;
let resultBox: HTMLElement | undefined;

function show(f: ToolForm): void {
  const title = el('h1', `${f.packageName}/${f.tool}`);
  root.append(title);
  if (f.development) {
    const badge = el('vscode-badge', 'development build');
    root.append(badge);
  }
  root.append(el('p', f.description), el('div', `${f.title} · ${f.packageName}@${f.version} · ${f.sensitivity}`, 'reason'));

  const form = control(formFor(f.inputSchema));
  const formBox = el('div', undefined, 'form');
  formBox.append(form.node);
  const raw = el('vscode-textarea') as Valued;
  raw.setAttribute('rows', '10');
  raw.setAttribute('aria-label', 'Input as JSON');
  raw.dataset.field = 'raw-json';
  const rawBox = el('div', undefined, 'raw');
  rawBox.append(el('label', 'Input as JSON', 'field-label'), raw);
  rawBox.hidden = true;
  const errors = el('ul', undefined, 'errors');
  errors.setAttribute('role', 'alert');

  const toggle = button('Edit as JSON', true, () => {
    const toJson = rawBox.hidden;
    if (toJson) {
      const r = form.read();
      raw.value = JSON.stringify(r.present && r.value !== undefined ? r.value : {}, null, 2);
    }
    rawBox.hidden = !toJson;
    formBox.hidden = toJson;
    toggle.textContent = toJson ? 'Edit in the form' : 'Edit as JSON';
  });

  const collect = (): { input?: string; errors: string[] } => {
    if (!rawBox.hidden) {
      try {
        return { input: JSON.stringify(JSON.parse(raw.value ?? '')), errors: [] };
      } catch {
        return { errors: ['Input as JSON: not valid JSON'] };
      }
    }
    const r = form.read();
    if (r.errors.length > 0) return { errors: [...r.errors] };
    return { input: JSON.stringify(r.present && r.value !== undefined ? r.value : {}), errors: [] };
  };

  runButton = button('Run', false, (ev) => {
    // Script in the page cannot make trusted events: only the user's own click runs the tool.
    if (!ev.isTrusted || runButton?.hasAttribute('disabled')) return;
    const got = collect();
    errors.replaceChildren(...got.errors.map((e) => el('li', e)));
    if (got.input === undefined) return;
    runButton!.setAttribute('disabled', '');
    resultBox!.replaceChildren(el('p', 'Running…', 'reason'));
    vscode.postMessage({ type: 'run', input: got.input });
  });
  const bar = el('div', undefined, 'actions');
  bar.append(runButton, toggle);
  resultBox = el('div', undefined, 'result');
  resultBox.setAttribute('aria-live', 'polite');
  root.append(formBox, rawBox, errors, bar, el('h2', 'Result'), resultBox);
}

function result(outcome: RunOutcome): void {
  runButton?.removeAttribute('disabled');
  if (!resultBox) return;
  if (outcome.ok) {
    resultBox.replaceChildren(el('div', `Returned in ${Math.round(outcome.durationMs)} ms`, 'reason'), el('pre', outcome.output, 'output'));
    return;
  }
  const parts = [el('div', `${outcome.code}`, 'error-code'), el('p', outcome.message, 'error-message')];
  if (outcome.hint) parts.push(el('p', outcome.hint, 'reason'));
  resultBox.replaceChildren(...parts);
}

window.addEventListener('message', (ev: MessageEvent<FormHostMessage>) => {
  const m = ev.data;
  if (m?.type === 'show' && root.childElementCount === 0) show(m.form);
  else if (m?.type === 'result') result(m.outcome);
});
vscode.postMessage({ type: 'ready' });
