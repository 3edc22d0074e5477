/**
 * Checksums and structural rules that turn a pattern match into a detection.
 * A regular expression alone finds too much in ordinary code (hashes, ids,
 * version strings); every detector that can be validated is validated here.
 * Pure functions over the matched text, no I/O.
 */
import { isIP } from 'node:net';
import { parseJson } from '../format/strict-json.ts';

/** Luhn (mod 10) over a string of decimal digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Issuer ranges (IIN prefixes) and lengths of the card schemes in use. A
 * Luhn-valid digit run outside every range is not reported: one random run
 * in ten passes Luhn, far fewer also start like a card.
 */
const CARD_RANGES: readonly { from: number; to: number; digits: number; lengths: readonly number[] }[] = [
  { from: 4, to: 4, digits: 1, lengths: [13, 16, 19] }, // Visa
  { from: 51, to: 55, digits: 2, lengths: [16] }, // Mastercard
  { from: 2221, to: 2720, digits: 4, lengths: [16] }, // Mastercard 2-series
  { from: 34, to: 34, digits: 2, lengths: [15] }, // American Express
  { from: 37, to: 37, digits: 2, lengths: [15] },
  { from: 6011, to: 6011, digits: 4, lengths: [16, 17, 18, 19] }, // Discover
  { from: 644, to: 649, digits: 3, lengths: [16, 17, 18, 19] },
  { from: 65, to: 65, digits: 2, lengths: [16, 17, 18, 19] },
  { from: 300, to: 305, digits: 3, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { from: 36, to: 36, digits: 2, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 38, to: 39, digits: 2, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 3528, to: 3589, digits: 4, lengths: [16, 17, 18, 19] }, // JCB
  { from: 62, to: 62, digits: 2, lengths: [16, 17, 18, 19] }, // UnionPay
  { from: 5018, to: 5018, digits: 4, lengths: [13, 14, 15, 16, 17, 18, 19] }, // Maestro
  { from: 5020, to: 5020, digits: 4, lengths: [13, 14, 15, 16, 17, 18, 19] },
  { from: 5038, to: 5038, digits: 4, lengths: [13, 14, 15, 16, 17, 18, 19] },
  { from: 5893, to: 5893, digits: 4, lengths: [13, 14, 15, 16, 17, 18, 19] },
  { from: 6304, to: 6304, digits: 4, lengths: [13, 14, 15, 16, 17, 18, 19] },
  { from: 6759, to: 6759, digits: 4, lengths: [13, 14, 15, 16, 17, 18, 19] },
  { from: 6761, to: 6763, digits: 4, lengths: [13, 14, 15, 16, 17, 18, 19] },
  { from: 2200, to: 2204, digits: 4, lengths: [16, 17, 18, 19] }, // Mir
];

/** 13-19 digits, Luhn-valid, in a known issuer range with that range's length. */
export function paymentCardValid(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits) || /^(\d)\1+$/.test(digits)) return false;
  const inRange = CARD_RANGES.some((r) => {
    const prefix = Number(digits.slice(0, r.digits));
    return prefix >= r.from && prefix <= r.to && r.lengths.includes(digits.length);
  });
  return inRange && luhnValid(digits);
}

/** IBAN length per country (ISO 13616 registry, SWIFT release 2024). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

/** The registered length of IBANs of a country, or undefined. */
export function ibanLength(country: string): number | undefined {
  return Object.hasOwn(IBAN_LENGTHS, country) ? IBAN_LENGTHS[country] : undefined;
}

/** ISO 13616 / ISO 7064 mod 97-10 over a compact upper-case IBAN of its country's length. */
export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban) || ibanLength(iban.slice(0, 2)) !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    // Letters count as two digits (A = 10 ... Z = 35).
    rem = code >= 65 ? (rem * 100 + code - 55) % 97 : (rem * 10 + code - 48) % 97;
  }
  return rem === 1;
}

/**
 * US Social Security Number, written AAA-GG-SSSS: area not 000, 666 or
 * 900-999, group not 00, serial not 0000 (SSA structural rules; there is no
 * check digit).
 */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

const NINO_BAD_PREFIX = new Set(['BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ']);

/** UK National Insurance number prefix rules (HMRC): letters D, F, I, Q, U, V never; O not second; some pairs never allocated. */
export function ninoPrefixValid(prefix: string): boolean {
  return /^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]$/.test(prefix) && !NINO_BAD_PREFIX.has(prefix);
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): the letter is the number mod 23. */
export function spanishIdValid(id: string): boolean {
  const first = id[0]!;
  const numeric = (first === 'X' ? '0' : first === 'Y' ? '1' : first === 'Z' ? '2' : first) + id.slice(1, 8);
  if (!/^\d{8}$/.test(numeric)) return false;
  return DNI_LETTERS[Number(numeric) % 23] === id[8];
}

/** Brazilian CPF, 11 digits with two mod-11 check digits; all-equal digits are invalid. */
export function cpfValid(digits: string): boolean {
  if (!/^\d{11}$/.test(digits) || /^(\d)\1{10}$/.test(digits)) return false;
  const check = (len: number): number => {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += Number(digits[i]) * (len + 1 - i);
    const r = (sum * 10) % 11;
    return r === 10 ? 0 : r;
  };
  return check(9) === Number(digits[9]) && check(10) === Number(digits[10]);
}

// Italian codice fiscale check character: odd positions (1st, 3rd...) map through this table.
const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

/** Italian codice fiscale (16 characters): the last letter is a weighted sum mod 26. */
export function codiceFiscaleValid(cf: string): boolean {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const c = cf.charCodeAt(i);
    const v = c <= 57 ? c - 48 : c - 65; // digits count as the letter at the same index
    sum += i % 2 === 0 ? CF_ODD[v]! : v;
  }
  return String.fromCharCode(65 + (sum % 26)) === cf[15];
}

/**
 * An IPv4 address worth redacting: the unspecified address, loopback and the
 * all-ones netmasks identify nobody and are everywhere in code and docs.
 */
export function ipv4Reportable(ip: string): boolean {
  return ip !== '0.0.0.0' && !ip.startsWith('127.') && !ip.startsWith('255.255.');
}

/** A syntactically valid IPv6 address other than `::` and `::1`, with at least one digit. */
export function ipv6Reportable(ip: string): boolean {
  if (isIP(ip) !== 6) return false;
  const lower = ip.toLowerCase();
  return lower !== '::' && lower !== '::1' && /\d/.test(ip);
}

/** True when a base64url segment decodes to a JSON object with a string `alg` (a JWS/JWT header). */
export function jwtHeaderValid(segment: string): boolean {
  try {
    const header = parseJson(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/** At least one digit and one letter: random tokens have both, words and identifiers mostly not. */
export function looksRandom(s: string): boolean {
  return /\d/.test(s) && /[A-Za-z]/.test(s);
}
