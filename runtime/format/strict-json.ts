/**
 * The one nesting bound for every JSON text MPP reads (manifests, tool inputs
 * and outputs, registry documents, policy, credentials, grants, audit lines):
 * arrays and objects inside each other at most this deep. Far above what a
 * real document needs, far below what would exhaust a stack in a recursive
 * walker (schema compilation, redaction, canonical JSON, printing). Stated in
 * spec/manifest.md §1 ("Nesting").
 */
export const MAX_JSON_DEPTH = 256;

/** A JSON text nested deeper than MAX_JSON_DEPTH; readers turn it into their own coded refusal. */
export class JsonTooDeepError extends SyntaxError {
  constructor() {
    super(`it nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep, the limit for JSON in MPP`);
  }
}

/**
 * JSON.parse with the nesting bound: for any JSON text MPP reads. Throws
 * SyntaxError (JsonTooDeepError beyond the bound). The bound is checked after
 * JSON.parse (which is iterative in V8, so deep text cannot crash it) has
 * accepted the text, so the scan only has to find strings and brackets in valid JSON.
 */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  checkDepth(text);
  return value;
}

/**
 * JSON.stringify for values MPP did not parse itself (an MCP client's
 * arguments arrive as objects): a value too deep for JSON.stringify's
 * recursion is JsonTooDeepError, not a RangeError; a text it does produce is
 * then held to the bound by whoever parses it.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (e instanceof RangeError) throw new JsonTooDeepError();
    throw e;
  }
}

/**
 * JSON for signed documents, where two parsers must never read different
 * values: UTF-8 only (no byte order mark, no invalid sequences), and no
 * duplicate object keys (JSON.parse silently keeps the last one, other parsers
 * the first), within the nesting bound. Keys are compared after unescaping
 * ("a" and "\u0061" collide). Hand-written: JSON.parse has no duplicate-key
 * option, and a full second parser would be a dependency for 40 lines.
 */
export function parseStrictJson(bytes: Uint8Array): unknown {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new SyntaxError('it starts with a byte order mark');
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  const value: unknown = JSON.parse(text);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw new SyntaxError(`the key ${JSON.stringify(duplicate)} appears twice in one object`);
  return value;
}

/** The end of the string literal starting at `i` (the index of its closing quote), in valid JSON. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
  return j;
}

function checkDepth(text: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') {
      if (stack.length === MAX_JSON_DEPTH) throw new JsonTooDeepError();
      stack.push(c === '{' ? new Set() : null);
    } else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      const j = stringEnd(text, i);
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
