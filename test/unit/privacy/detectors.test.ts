/**
 * Per class: values that must be found (true positives) and look-alikes from
 * ordinary code and text that must not be (true negatives). Each vector is
 * checked with only its own class enabled, and the negatives also with all
 * classes (a negative for one class must not be caught by another).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PiiClass } from '../../../runtime/format/manifest.ts';
import { PII_CLASSES, redactText } from '../../../runtime/privacy/index.ts';

const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({ sub: '1234567890', name: 'x' })}.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`;
const NOT_JWT = `${b64u({ not: 'a header' })}.${b64u({ x: 1 })}.c2lnbmF0dXJl`;
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yQ==\n-----END RSA PRIVATE KEY-----';

const POSITIVE: Record<PiiClass, string[]> = {
  email: ['jane.doe@example.com', 'first.last+tag@sub.example.org', 'X_Y-9@mail.co.uk'],
  phone: ['+1 415 555 2671', '+44 20 7946 0958', '+4915123456789', '+33 1 23 45 67 89', '(415) 555-2671', '415-555-2671', '415.555.2671', '1-800-555-0199', '01 23 45 67 89', '020 7946 0958', '07700 900123'],
  'payment-card': ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '5555555555554444', '2223003122003222', '378282246310005', '3782 822463 10005', '6011111111111117', '3530111333300000', '30569309025904', '6200000000000005'],
  iban: ['DE89370400440532013000', 'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'FR1420041010050500013M02606', 'NL91 ABNA 0417 1643 00', 'CH9300762011623852957'],
  'national-id': ['123-45-6789', 'AB123456C', 'AB 12 34 56 C', '12345678Z', 'X1234567L', '529.982.247-25', 'RSSMRA85T10A562S'],
  'ip-address': ['192.168.1.20', '8.8.8.8', '10.0.0.1', '2001:db8::ff00:42:8329', 'fe80::1ff:fe23:4567:890a', '::ffff:192.0.2.128'],
  secret: [
    PEM,
    JWT,
    'AKIAIOSFODNN7EXAMPLE',
    'ghp_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36),
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP',
    'glpat-xxxxxxxxxxxxxxxxxxxx',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'AIzaSyA-1234567890abcdefghijklmnopqrstu',
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    'npm_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36),
    'sk-ant-api03-' + 'Ab1'.repeat(30),
    'sk-proj-' + 'Ab1'.repeat(20),
    'hf_' + 'aB3'.repeat(11) + 'x',
  ],
};

/** Values that must survive every class, with why. */
const NEGATIVE: [string, string][] = [
  ['4111111111111112', 'Luhn fails'],
  ['1234567812345670', 'Luhn-valid but no issuer starts with 1'],
  ['0000000000000000', 'repeated digit'],
  ['4111 1111-1111 1111', 'mixed separators'],
  ['9783161484100', 'ISBN-13'],
  ['978-3-16-148410-0', 'hyphenated ISBN'],
  ['1700000000000', 'millisecond timestamp'],
  ['2024-01-15T12:34:56.789Z', 'ISO timestamp'],
  ['DE89370400440532013001', 'IBAN checksum fails'],
  ['XX89370400440532013000', 'unknown IBAN country'],
  ['GB82WEST1234569876543', 'IBAN length wrong for GB'],
  ['000-12-3456', 'SSN area 000'],
  ['666-12-3456', 'SSN area 666'],
  ['912-12-3456', 'SSN area 9xx'],
  ['123-00-4567', 'SSN group 00'],
  ['QQ123456C', 'NINO prefix letter Q'],
  ['GB123456A', 'NINO prefix GB'],
  ['12345678A', 'DNI letter wrong'],
  ['529.982.247-24', 'CPF check digit wrong'],
  ['111.111.111-11', 'CPF repeated digits'],
  ['RSSMRA85T10A562T', 'codice fiscale check letter wrong'],
  ['1.2.3.4.5', 'five-part version'],
  ['v1.2.3.4', 'v-prefixed version'],
  ['version 10.0.19041.1', 'Windows build number'],
  ['256.1.1.1', 'octet over 255'],
  ['01.02.03.04', 'leading zeros (a date)'],
  ['127.0.0.1', 'loopback'],
  ['0.0.0.0', 'unspecified'],
  ['255.255.255.0', 'netmask'],
  ['12:34:56', 'clock time'],
  ['std::vector<int>', 'C++ scope'],
  ['::', 'unspecified IPv6'],
  ['00:1A:2B:3C:4D:5E', 'MAC address'],
  ['+1', 'lone country code'],
  ['+123456', 'too few digits for a phone'],
  ['555-1234', 'seven-digit local number'],
  ['415-555-26710', 'too many digits'],
  ['x = a +1000000', 'arithmetic'],
  ['icon@2x.png', 'asset name'],
  ['@types/node@22.1.0', 'package spec'],
  ['user@localhost', 'no top-level domain'],
  ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'SHA-256 hex'],
  ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'SHA-1 hex'],
  ['123e4567-e89b-12d3-a456-426614174000', 'UUID'],
  [NOT_JWT, 'eyJ... whose header has no alg'],
  ['sk-learn-is-a-python-library', 'sk- word, no digits'],
  ['ghp_short', 'GitHub prefix, too short'],
  ['akiaiosfodnn7example', 'lower-case AWS-like id'],
  ['-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----', 'public key'],
  ['postgres://user:${PASSWORD}@db/x', 'placeholder password'],
];

const only = (cls: PiiClass) => ({ classes: new Set([cls]) });
const all = { classes: new Set(PII_CLASSES) };

describe('detectors: true positives', () => {
  for (const cls of PII_CLASSES) {
    for (const v of POSITIVE[cls]) {
      it(`${cls}: ${JSON.stringify(v.slice(0, 40))}`, () => {
        const r = redactText(`before ${v} after`, only(cls));
        assert.equal(r.text, `before [REDACTED:${cls}] after`);
        assert.deepEqual(r.counts, { [cls]: 1 });
      });
    }
  }
});

describe('detectors: true negatives', () => {
  for (const [v, why] of NEGATIVE) {
    it(`${why}: ${JSON.stringify(v.slice(0, 40))}`, () => {
      const r = redactText(`before ${v} after`, all);
      assert.equal(r.text, `before ${v} after`, JSON.stringify(r.counts));
      assert.deepEqual(r.counts, {});
    });
  }
});

describe('redactText', () => {
  it('redacts only the classes of the policy', () => {
    const text = 'mail jane@example.com from 192.168.1.20';
    assert.deepEqual(redactText(text, only('email')), { text: 'mail [REDACTED:email] from 192.168.1.20', counts: { email: 1 } });
    assert.deepEqual(redactText(text, { classes: new Set() }), { text, counts: {} });
  });

  it('counts each occurrence; a value inside a redacted block is not counted again', () => {
    const r = redactText(`a@example.com b@example.com\n-----BEGIN PRIVATE KEY-----\nc@example.com\n-----END PRIVATE KEY-----`, all);
    assert.equal(r.text, '[REDACTED:email] [REDACTED:email]\n[REDACTED:secret]');
    assert.deepEqual(r.counts, { email: 2, secret: 1 });
  });

  it('redacts an unterminated private key block as far as key material runs (fail closed)', () => {
    assert.equal(redactText('key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIObLW8zmAQ1OaRb2rXYZ', only('secret')).text, 'key: [REDACTED:secret]');
  });

  it('finds a card followed by more digits, and a URL password rather than an e-mail', () => {
    assert.equal(redactText('4111 1111 1111 1111 2024', all).text, '[REDACTED:payment-card] 2024');
    assert.equal(redactText('postgres://admin:s3cr3tP4ss@db.example.com/x', all).text, 'postgres://admin:[REDACTED:secret]@db.example.com/x');
  });

  it('redacts only the value of key=value secrets', () => {
    const conn = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=' + 'Ab1+'.repeat(21) + 'Ab==;EndpointSuffix=core.windows.net';
    assert.equal(redactText(conn, only('secret')).text, 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED:secret];EndpointSuffix=core.windows.net');
    assert.equal(redactText('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', only('secret')).text, 'aws_secret_access_key = [REDACTED:secret]');
  });

  it('honours the allow list: a detection wholly inside an allowed string stays', () => {
    const token = 'ghp_' + 'Z9y8X7w6V5'.repeat(4).slice(0, 36);
    const other = 'ghp_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36);
    const r = redactText(`Authorization: token ${token}; leaked ${other}`, { classes: new Set(['secret'] as const), allow: [token] });
    assert.equal(r.text, `Authorization: token ${token}; leaked [REDACTED:secret]`);
    assert.deepEqual(r.counts, { secret: 1 });
    // A short allowed string cannot shelter a longer detection that contains it.
    assert.equal(redactText('4111111111111111', { classes: new Set(['payment-card'] as const), allow: ['1111'] }).text, '[REDACTED:payment-card]');
  });

  it('refuses a malformed policy or input with TypeError', () => {
    assert.throws(() => redactText('x', { classes: ['email'] } as never), TypeError);
    assert.throws(() => redactText(42 as never, all), TypeError);
  });
});

describe('look-alikes found in the false-positive bench', () => {
  it('keeps four-part versions that the text marks as versions, and lone BEGIN lines', () => {
    const all = { classes: new Set(PII_CLASSES) };
    for (const t of ['dpkg (1.16.4.3) unstable', 'binutils (2.10.0.9-3) unstable', 'standards version 2.5.0.0', 'NMU 1.4.0.33~rc1', 'mongodb://username:password@host:1234', '| `-----BEGIN PRIVATE KEY-----` |']) {
      assert.deepEqual(redactText(t, all), { text: t, counts: {} }, t);
    }
    assert.equal(redactText('server (10.1.2.3) up', all).text, 'server (10.1.2.3) up', 'parenthesised like a changelog version: kept, a known miss');
    assert.equal(redactText('connect to 10.1.2.3 now', all).text, 'connect to [REDACTED:ip-address] now');
  });
});
