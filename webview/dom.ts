/** The few DOM helpers the webview pages share: content is only ever set as text, never as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K];
export function el(tag: string, text?: string, cls?: string): HTMLElement;
export function el(tag: string, text?: string, cls?: string): HTMLElement {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

export function button(text: string, secondary: boolean, onPress: (ev: Event) => void): HTMLElement {
  const b = el('vscode-button', text);
  if (secondary) b.setAttribute('secondary', '');
  b.addEventListener('click', onPress);
  return b;
}
