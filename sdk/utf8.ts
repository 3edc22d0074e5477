/**
 * UTF-8 text <-> bytes. SpiderMonkey has TextEncoder/TextDecoder; the QuickJS
 * engine has neither, so the SDK carries a small codec for it (invalid
 * sequences decode to U+FFFD, as TextDecoder does).
 */
export function encodeUtf8(text: string): Uint8Array {
  return typeof TextEncoder === 'function' ? new TextEncoder().encode(text) : utf8Encode(text);
}

export function decodeUtf8(bytes: Uint8Array): string {
  return typeof TextDecoder === 'function' ? new TextDecoder().decode(bytes) : utf8Decode(bytes);
}

/** The codec itself (exported for its test against TextEncoder/TextDecoder). */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    let c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

export function utf8Decode(bytes: Uint8Array): string {
  // The WHATWG decoder: each maximal invalid prefix becomes one U+FFFD.
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (need === 0) {
      out += '\ufffd';
      i++;
      continue;
    }
    // The second byte's range excludes overlong forms, surrogates and code points above U+10FFFF.
    const lower = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const upper = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    let c = b & (0x3f >> need);
    let j = 1;
    for (; j <= need; j++) {
      const next = bytes[i + j];
      const lo = j === 1 ? lower : 0x80;
      const hi = j === 1 ? upper : 0xbf;
      if (next === undefined || next < lo || next > hi) break;
      c = (c << 6) | (next & 0x3f);
    }
    if (j <= need) {
      out += '\ufffd';
      i += j;
      continue;
    }
    out += String.fromCodePoint(c);
    i += need + 1;
  }
  return out;
}
