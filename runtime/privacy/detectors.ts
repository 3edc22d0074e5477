/**
 * One table of detectors, each a pattern that finds candidates and a check
 * that accepts or rejects each one. Patterns are anchored on both sides by
 * look-arounds so they never match inside a longer token (a digit run, a
 * dotted version, an identifier); checks (checks.ts) reject what the pattern
 * cannot: checksums, issuer ranges, reserved values. spec/privacy.md lists
 * every rule; keep the two in step.
 *
 * All patterns are linear: no nested quantifiers over the same characters,
 * bounded repetition where a token has a known maximum length.
 */
import type { PiiClass } from '../format/manifest.ts';
import {
  codiceFiscaleValid,
  cpfValid,
  ibanLength,
  ibanValid,
  ipv4Reportable,
  ipv6Reportable,
  jwtHeaderValid,
  looksRandom,
  ninoPrefixValid,
  paymentCardValid,
  spanishIdValid,
  ssnValid,
} from './checks.ts';

/** A half-open range [start, end) of the scanned text to replace. */
export type Span = readonly [number, number];

export interface Detector {
  readonly cls: PiiClass;
  readonly id: string;
  /** A substring every match contains: the pattern is skipped when the text lacks it. */
  readonly needs?: string;
  /** Global pattern. */
  readonly re: RegExp;
  /** The span to redact for a match, or null to reject it. Default: the whole match. */
  readonly accept?: (m: RegExpExecArray) => Span | null;
}

const whole = (m: RegExpExecArray): Span => [m.index, m.index + m[0].length];

/** Span of capture group 1, for key=value forms where only the value is secret. */
function group1(m: RegExpExecArray): Span | null {
  const v = m[1];
  if (v === undefined) return null;
  const start = m.index + m[0].lastIndexOf(v);
  return [start, start + v.length];
}

// File extensions that follow `@` in asset names (`icon@2x.png`) and package specs.
const NOT_TLD = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'js', 'mjs', 'cjs', 'ts', 'mts', 'cts', 'tsx', 'jsx', 'css', 'scss', 'json', 'md', 'html', 'txt', 'map', 'wasm', 'zip', 'gz', 'tgz', 'tar', 'lock', 'yml', 'yaml', 'xml', 'pdf']);

function acceptEmail(m: RegExpExecArray): Span | null {
  const text = m[0];
  const at = text.indexOf('@');
  const local = text.slice(0, at);
  if (local.endsWith('.') || local.includes('..')) return null;
  const tld = text.slice(text.lastIndexOf('.') + 1).toLowerCase();
  return NOT_TLD.has(tld) ? null : whole(m);
}

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) n++;
  return n;
}

function acceptE164(m: RegExpExecArray): Span | null {
  const text = m[0];
  const n = digitCount(text);
  if (n < 8 || n > 15) return null;
  // One separator between digit groups; parentheses only around a leading group.
  if (/[ .-]{2}|\.\.|\(\)|\)\(/.test(text)) return null;
  if ((text.match(/\(/g)?.length ?? 0) !== (text.match(/\)/g)?.length ?? 0)) return null;
  return whole(m);
}

function acceptNationalPhone(m: RegExpExecArray): Span | null {
  const n = digitCount(m[0]);
  return n >= 10 && n <= 11 ? whole(m) : null;
}

/**
 * Card candidates: a run of 13-19 digits, optionally grouped by single spaces
 * or dashes (one kind per number). When the whole run fails, shorter runs
 * that drop trailing groups are tried (a card followed by a year).
 */
function acceptCard(m: RegExpExecArray): Span | null {
  const text = m[0];
  const seps = text.replace(/\d/g, '');
  if (seps.length > 0 && !/^( +|-+)$/.test(seps)) return null;
  if (seps.length === 0) return paymentCardValid(text) ? whole(m) : null;
  const groups = text.split(seps[0]!);
  for (let k = groups.length; k >= 1; k--) {
    const digits = groups.slice(0, k).join('');
    if (digits.length < 13) break;
    if (paymentCardValid(digits)) return [m.index, m.index + groups.slice(0, k).join(seps[0]!).length];
  }
  return null;
}

/** IBAN candidates are cut to their country's length before the checksum. */
function acceptIban(m: RegExpExecArray): Span | null {
  const text = m[0];
  const len = ibanLength(text.slice(0, 2));
  if (len === undefined) return null;
  let count = 0;
  let end = 0;
  for (let i = 0; i < text.length && count < len; i++) {
    if (text[i] !== ' ') {
      count++;
      end = i + 1;
    }
  }
  if (count < len) return null;
  // The IBAN must end at a token boundary (not mid-word).
  const after = text[end];
  if (after !== undefined && after !== ' ') return null;
  return ibanValid(text.slice(0, end).replace(/ /g, '')) ? [m.index, m.index + end] : null;
}

function acceptIpv6(m: RegExpExecArray): Span | null {
  const text = m[0].replace(/\.+$/, '');
  if (text.length > 45 || !ipv6Reportable(text)) return null;
  return [m.index, m.index + text.length];
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

export const DETECTORS: readonly Detector[] = [
  // --- secret ---
  {
    cls: 'secret',
    id: 'pem-private-key',
    needs: 'PRIVATE KEY',
    // An unterminated block (truncated output) is redacted to the end of the text: fail closed.
    re: /-----BEGIN ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  {
    cls: 'secret',
    id: 'jwt',
    needs: 'eyJ',
    re: /(?<![\w-])(eyJ[A-Za-z0-9_-]{6,})\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?![\w-])/g,
    accept: (m) => (jwtHeaderValid(m[1]!) ? whole(m) : null),
  },
  { cls: 'secret', id: 'aws-access-key-id', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/g },
  {
    cls: 'secret',
    id: 'aws-secret-access-key',
    re: /(?:aws_?secret_?access_?key|secret_?access_?key)["']?\s{0,3}[:=]\s{0,3}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    accept: group1,
  },
  { cls: 'secret', id: 'github-token', re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g },
  { cls: 'secret', id: 'github-fine-grained-pat', needs: 'github_pat_', re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,244}(?![A-Za-z0-9_])/g },
  { cls: 'secret', id: 'gitlab-token', needs: 'gl', re: /(?<![\w-])gl(?:pat|dt|rt|ptt|cbt|soat)-[A-Za-z0-9_-]{20,64}(?![\w-])/g },
  { cls: 'secret', id: 'slack-token', needs: 'xox', re: /(?<![\w-])xox[abprse]-[A-Za-z0-9-]{10,250}(?![\w-])/g },
  { cls: 'secret', id: 'slack-webhook', needs: 'hooks.slack.com', re: /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9_/-]{8,200}/g },
  { cls: 'secret', id: 'google-api-key', needs: 'AIza', re: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g },
  { cls: 'secret', id: 'stripe-key', re: /(?<![\w])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}(?![\w])/g },
  { cls: 'secret', id: 'stripe-webhook-secret', needs: 'whsec_', re: /(?<![\w])whsec_[A-Za-z0-9+/=]{24,}(?![\w])/g },
  { cls: 'secret', id: 'npm-token', needs: 'npm_', re: /(?<![\w])npm_[A-Za-z0-9]{36}(?![\w])/g },
  { cls: 'secret', id: 'anthropic-key', needs: 'sk-ant-', re: /(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,200}(?![\w-])/g },
  {
    cls: 'secret',
    id: 'openai-key',
    needs: 'sk-',
    re: /(?<![\w-])sk-(?:proj-|svcacct-|admin-)?([A-Za-z0-9_-]{20,200})(?![\w-])/g,
    accept: (m) => (looksRandom(m[1]!) ? whole(m) : null),
  },
  { cls: 'secret', id: 'huggingface-token', needs: 'hf_', re: /(?<![\w])hf_[A-Za-z0-9]{34}(?![\w])/g, accept: (m) => (looksRandom(m[0].slice(3)) ? whole(m) : null) },
  { cls: 'secret', id: 'sendgrid-key', needs: 'SG.', re: /(?<![\w.])SG\.[\w-]{22}\.[\w-]{43}(?![\w-])/g },
  { cls: 'secret', id: 'azure-account-key', needs: 'Key=', re: /(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{20,}={0,2})/g, accept: group1 },
  { cls: 'secret', id: 'azure-sas-signature', needs: 'sig=', re: /[?&]sig=([A-Za-z0-9%+/]{20,}(?:%3D|=){0,2})/g, accept: group1 },
  {
    cls: 'secret',
    id: 'url-password',
    needs: '://',
    re: /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s:/?#@'"<>]{1,128}:([^\s/?#@'"<>]{1,256})@/gi,
    // Placeholders in documentation (`${PASS}`, `<password>`, `****`) are not secrets.
    accept: (m) => (/^(?:[$<{%]|\*+$)/.test(m[1]!) ? null : group1(m)),
  },

  // --- payment-card ---
  { cls: 'payment-card', id: 'card-number', re: /(?<![\w.+-])\d(?:[ -]?\d){12,22}(?![\w]|[.-]\d)/g, accept: acceptCard },

  // --- iban ---
  { cls: 'iban', id: 'iban', re: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,40}/g, accept: acceptIban },

  // --- national-id ---
  { cls: 'national-id', id: 'us-ssn', re: /(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])/g, accept: (m) => (ssnValid(m[1]!, m[2]!, m[3]!) ? whole(m) : null) },
  {
    cls: 'national-id',
    id: 'uk-nino',
    re: /(?<![A-Za-z0-9])([A-Z]{2}) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/g,
    accept: (m) => (ninoPrefixValid(m[1]!) ? whole(m) : null),
  },
  {
    cls: 'national-id',
    id: 'es-dni-nie',
    re: /(?<![A-Za-z0-9])([XYZ]\d{7}|\d{8})-?([A-Z])(?![A-Za-z0-9])/g,
    accept: (m) => (spanishIdValid(m[1]! + m[2]!) ? whole(m) : null),
  },
  {
    cls: 'national-id',
    id: 'br-cpf',
    re: /(?<![\w.-])(\d{3})\.(\d{3})\.(\d{3})-(\d{2})(?![\w-]|\.\d)/g,
    accept: (m) => (cpfValid(m[1]! + m[2]! + m[3]! + m[4]!) ? whole(m) : null),
  },
  {
    cls: 'national-id',
    id: 'it-codice-fiscale',
    re: /(?<![A-Za-z0-9])[A-Z]{6}\d{2}[ABCDEHLMPRST]\d{2}[A-Z]\d{3}[A-Z](?![A-Za-z0-9])/g,
    accept: (m) => (codiceFiscaleValid(m[0]) ? whole(m) : null),
  },

  // --- email ---
  {
    cls: 'email',
    id: 'email',
    needs: '@',
    re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
    accept: acceptEmail,
  },

  // --- phone ---
  { cls: 'phone', id: 'e164', needs: '+', re: /(?<![\w+])\+[1-9][\d ().-]{6,20}\d(?![\d])/g, accept: acceptE164 },
  {
    cls: 'phone',
    id: 'nanp',
    // (555) 234-5678, 555-234-5678, 555.234.5678, optionally with a leading 1-.
    re: /(?<![\w.+-])(?:1[-. ])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}([-.]))[2-9]\d{2}[-.]\d{4}(?![\w-]|\.\d)/g,
    accept: (m) => (m[1] === undefined || m[0].charAt(m[0].length - 5) === m[1] ? whole(m) : null),
  },
  { cls: 'phone', id: 'fr-national', re: /(?<![\w.+-])0[1-9]([ .])\d{2}(?:\1\d{2}){3}(?![\w-]|\.\d)/g },
  { cls: 'phone', id: 'uk-national', re: /(?<![\w.+-])0\d{2,4} \d{3,4} ?\d{3,4}(?![\w-]|[ .]\d)/g, accept: acceptNationalPhone },

  // --- ip-address ---
  {
    cls: 'ip-address',
    id: 'ipv4',
    needs: '.',
    re: new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?![\\w]|\\.\\d)`, 'g'),
    accept: (m) => (ipv4Reportable(m[0]) ? whole(m) : null),
  },
  { cls: 'ip-address', id: 'ipv6', needs: ':', re: /(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?![\w:])/g, accept: acceptIpv6 },
];
