/**
 * JSON for signed documents, where two parsers must never read different
 * values: UTF-8 only (no byte order mark, no invalid sequences), and no
 * duplicate object keys (JSON.parse silently keeps the last one, other parsers
 * the first). The duplicate scan runs after JSON.parse has accepted the text,
 * so it only has to find strings and braces in valid JSON; keys are compared
 * after unescaping ("a" and "\u0061" collide). Hand-written: JSON.parse has no
 * duplicate-key option, and a full second parser would be a dependency for 40 lines.
 */
export function parseStrictJson(bytes: Uint8Array): unknown {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new SyntaxError('it starts with a byte order mark');
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  const value: unknown = JSON.parse(text);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw new SyntaxError(`the key ${JSON.stringify(duplicate)} appears twice in one object`);
  return value;
}

function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      const keys = stack[stack.length - 1];
      if (text[k] === ':' && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = j;
    }
  }
  return undefined;
}
