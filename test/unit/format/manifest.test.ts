import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { describePermissions } from '../../../runtime/format/describe.ts';
import { parseManifest, serializeManifest, type Manifest } from '../../../runtime/format/manifest.ts';
import { baseManifest } from '../../helpers/packages.ts';

const parse = (m: unknown) => parseManifest(Buffer.from(typeof m === 'string' ? m : JSON.stringify(m)));
const refusedWith = (expected: string) => (e: unknown) => isMppError(e) && e.code === expected;
const withPermissions = (permissions: unknown) => ({ ...baseManifest(), permissions });

describe('parseManifest', () => {
  it('accepts a valid manifest and returns a deeply frozen value', () => {
    const m = parse(baseManifest());
    assert.equal(m.name, 'vectors/hello');
    assert.ok(Object.isFrozen(m) && Object.isFrozen(m.tools[0]!.inputSchema));
  });

  it('round-trips through its canonical serialization', () => {
    const m = baseManifest();
    assert.deepEqual(parseManifest(serializeManifest(m)), m);
  });

  const invalid: [string, unknown][] = [
    ['an unknown top-level field', { ...baseManifest(), autoApprove: true }],
    ['an unknown tool field', { ...baseManifest(), tools: [{ ...baseManifest().tools[0], confirmed: true }] }],
    ['an unscoped name', { ...baseManifest(), name: 'hello' }],
    ['an uppercase name', { ...baseManifest(), name: 'Acme/Hello' }],
    ['a non-semver version', { ...baseManifest(), version: 'v1.0.0' }],
    ['no tools', { ...baseManifest(), tools: [] }],
    ['an unknown sensitivity', { ...baseManifest(), tools: [{ ...baseManifest().tools[0], sensitivity: 'harmless' }] }],
    ['an input schema that is not a valid JSON Schema', { ...baseManifest(), tools: [{ ...baseManifest().tools[0], inputSchema: { type: 'object', properties: { a: { type: 'nope' } } } }] }],
    ...([
      ['a remote $ref (never fetched)', { type: 'object', properties: { a: { $ref: 'https://203.0.113.7/schema.json' } } }],
      ['a $ref to a missing local definition', { type: 'object', properties: { a: { $ref: '#/$defs/nope' } } }],
      ['an invalid pattern', { type: 'object', properties: { a: { type: 'string', pattern: '(' } } }],
      ['a pattern valid only without the u flag', { type: 'object', properties: { a: { type: 'string', pattern: '\\-' } } }],
      ['an invalid patternProperties key', { type: 'object', patternProperties: { '[': {} } }],
    ] as const).map(([what, schema]): [string, unknown] => [`an input schema with ${what}`, { ...baseManifest(), tools: [{ ...baseManifest().tools[0], inputSchema: schema }] }]),
    ['an output schema that cannot compile', { ...baseManifest(), tools: [{ ...baseManifest().tools[0], outputSchema: { type: 'object', properties: { a: { pattern: '[' } } } }] }],
    ['an input schema that is not for objects', { ...baseManifest(), tools: [{ ...baseManifest().tools[0], inputSchema: { type: 'string' } }] }],
    ['a path outside ${workspace} and ${home}', withPermissions({ filesystem: [{ path: '/etc', access: 'read' }] })],
    ['a path with ..', withPermissions({ filesystem: [{ path: '${home}/a/../../etc', access: 'read' }] })],
    ['a path with a backslash', withPermissions({ filesystem: [{ path: '${home}\\x', access: 'read' }] })],
    ['a path with a wildcard', withPermissions({ filesystem: [{ path: '${workspace}/*', access: 'read' }] })],
    ['an unknown access mode', withPermissions({ filesystem: [{ path: '${workspace}', access: 'write-only' }] })],
    ['the same path twice', withPermissions({ filesystem: [{ path: '${workspace}', access: 'read' }, { path: '${workspace}', access: 'read-write' }] })],
    ['a host with a path', withPermissions({ network: [{ scheme: 'https', host: 'a.com/x', methods: ['GET'] }] })],
    ['a host with userinfo', withPermissions({ network: [{ scheme: 'https', host: 'user@a.com', methods: ['GET'] }] })],
    ['an uppercase host', withPermissions({ network: [{ scheme: 'https', host: 'A.com', methods: ['GET'] }] })],
    ['an IPv4 shorthand host', withPermissions({ network: [{ scheme: 'http', host: '127.1', methods: ['GET'] }] })],
    ...['2130706433', '0x7f.1', '0x7f000001', '0177.0.0.1', '127.0.0.01', '127.000.0.1', '1.2.3.4.5', 'example.123', 'a.0x', '*.0x10', '127.0.1', '0X7f.1'].map(
      (host): [string, unknown] => [`a numeric host spelling (${host})`, withPermissions({ network: [{ scheme: 'http', host, methods: ['GET'] }] })],
    ),
    ['an out-of-range IPv4 host', withPermissions({ network: [{ scheme: 'http', host: '256.0.0.1', methods: ['GET'] }] })],
    ['duplicate keys (parsers disagree on which wins)', '{"mpp":1,"name":"a/b","name":"c/d"}'],
    ['a byte order mark', '\ufeff' + JSON.stringify(baseManifest())],
    ['a memory limit below 16 MiB', { ...baseManifest(), limits: { memoryMb: 8 } }],
    ['a terminal escape sequence in the description', { ...baseManifest(), description: 'ok\u001b]0;pwned\u0007' }],
    ['a control character in a reason', withPermissions({ environment: [{ name: 'A', reason: 'x\u001b[2J' }] })],
    ['a bare wildcard host', withPermissions({ network: [{ scheme: 'https', host: '*', methods: ['GET'] }] })],
    ['an ftp scheme', withPermissions({ network: [{ scheme: 'ftp', host: 'a.com', methods: ['GET'] }] })],
    ['no methods', withPermissions({ network: [{ scheme: 'https', host: 'a.com', methods: [] }] })],
    ['an invalid variable name', withPermissions({ environment: [{ name: 'A-B' }] })],
    ['a KV quota of zero', withPermissions({ kv: { maxBytes: 0 } })],
    ['an unknown PII class', { ...baseManifest(), privacy: { redact: ['shoe-size'] } }],
    ['a 1 ms timeout', { ...baseManifest(), limits: { timeoutMs: 1 } }],
  ];
  for (const [what, doc] of invalid) {
    it(`refuses ${what}`, () => assert.throws(() => parse(doc), refusedWith('MPP_E_INVALID_MANIFEST')));
  }

  it('accepts canonical IPv4 literals and names whose last label is not a number', () => {
    for (const host of ['127.0.0.1', '0.0.0.0', '255.255.255.255', '10.0.0.1', '0x7f.example.com', '123.example.com', 'a1.b2', '*.example.com', '[::1]']) {
      assert.doesNotThrow(() => parse(withPermissions({ network: [{ scheme: 'http', host, methods: ['GET'] }] })), host);
    }
  });

  it('compiles schemas with an $id and local $refs, and reads the same manifest again (nothing left registered)', () => {
    const inputSchema = { $id: 'https://example.com/in.json', type: 'object', $defs: { n: { type: 'string', pattern: '^\\p{L}+$' } }, properties: { a: { $ref: '#/$defs/n' }, d: { type: 'string', format: 'no-such-format' } } };
    const doc = { ...baseManifest(), tools: [{ ...baseManifest().tools[0], inputSchema }] };
    assert.doesNotThrow(() => parse(doc));
    assert.doesNotThrow(() => parse(doc));
  });

  it('refuses bytes that are not UTF-8 JSON', () => {
    assert.throws(() => parseManifest(Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d)), refusedWith('MPP_E_INVALID_MANIFEST'));
  });

  it('tells a future format version apart from an invalid manifest', () => {
    assert.throws(() => parse({ ...baseManifest(), mpp: 2 }), refusedWith('MPP_E_UNSUPPORTED_FORMAT'));
  });
});

describe('describePermissions', () => {
  it('says in plain words what each capability allows', () => {
    const m = parse(withPermissions({
      filesystem: [{ path: '${workspace}/src', access: 'read', reason: 'Indexes sources.' }, { path: '${home}', access: 'read-write' }],
      network: [{ scheme: 'https', host: '*.github.com', methods: ['GET'] }, { scheme: 'http', host: '127.0.0.1', port: 8080, methods: ['GET', 'POST'] }],
      environment: [{ name: 'GITHUB_TOKEN' }],
      kv: { maxBytes: 1048576, maxKeys: 100 },
    })) as Manifest;
    assert.deepEqual(describePermissions(m).map((p) => p.text), [
      'Read files in src in your workspace folder',
      'Read and write files in your home folder',
      'Send GET requests to any host under github.com (https)',
      'Send GET, POST requests to http://127.0.0.1:8080',
      'Read the environment variable GITHUB_TOKEN',
      'Keep up to 1 MiB of its own data in at most 100 keys',
    ]);
    assert.equal(describePermissions(m)[0]!.reason, 'Indexes sources.');
  });

  it('lists nothing for a package that asks for nothing', () => assert.deepEqual(describePermissions(parse(baseManifest())), []));
});
