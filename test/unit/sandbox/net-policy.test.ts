import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGrant } from '../../../runtime/sandbox/grant.ts';
import { checkRequest, connectionAllowed, isPublicAddress, namedEndpoints, parseAuthority } from '../../../runtime/sandbox/net-policy.ts';

// [address, public?, why]
const ADDRESSES: [string, boolean, string][] = [
  ['93.184.216.34', true, 'global unicast'],
  ['8.8.8.8', true, 'global unicast'],
  ['127.0.0.1', false, 'loopback'],
  ['127.255.255.254', false, 'loopback /8'],
  ['0.0.0.0', false, '"this host": connects to the local machine'],
  ['10.1.2.3', false, 'RFC 1918'],
  ['172.16.0.1', false, 'RFC 1918'],
  ['172.32.0.1', true, 'just outside 172.16/12'],
  ['192.168.1.1', false, 'RFC 1918'],
  ['169.254.169.254', false, 'link-local: cloud metadata'],
  ['100.64.0.1', false, 'CGNAT'],
  ['224.0.0.1', false, 'multicast'],
  ['255.255.255.255', false, 'broadcast'],
  ['::1', false, 'IPv6 loopback'],
  ['::', false, 'unspecified'],
  ['::ffff:127.0.0.1', false, 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', false, 'IPv4-mapped loopback, hex form'],
  ['::ffff:8.8.8.8', true, 'IPv4-mapped public'],
  ['64:ff9b::7f00:1', false, 'NAT64 of loopback'],
  ['fe80::1', false, 'link-local'],
  ['fc00::1', false, 'unique local'],
  ['fd12:3456::1', false, 'unique local'],
  ['ff02::1', false, 'multicast'],
  ['2001:db8::1', false, 'documentation'],
  ['2002:7f00:1::1', false, '6to4 can embed any IPv4'],
  ['2606:4700:4700::1111', true, 'global unicast'],
  ['64:ff9b::808:808', true, 'NAT64 of a public address'],
  ['64:ff9b:1::7f00:1', false, 'local-use NAT64 (RFC 8215)'],
  ['::ffff:0:7f00:1', false, 'RFC 6145 translated loopback'],
  ['::ffff:10.0.0.1', false, 'IPv4-mapped private'],
  ['::7f00:1', false, 'IPv4-compatible (deprecated) loopback'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false, 'Teredo'],
  ['2002:808:808::1', false, '6to4, even of a public address'],
  ['fec0::1', false, 'deprecated site-local'],
  ['100::1', false, 'discard prefix'],
  ['4000::1', false, 'outside 2000::/3'],
  ['192.0.2.1', false, 'documentation'],
  ['198.18.0.1', false, 'benchmarking'],
  ['0x7f000001', false, 'a numeric spelling is not an address'],
  ['127.1', false, 'a short spelling is not an address'],
  ['not-an-ip', false, 'malformed is not public'],
];

describe('isPublicAddress', () => {
  for (const [ip, expected, why] of ADDRESSES) {
    it(`${ip} -> ${expected} (${why})`, () => assert.equal(isPublicAddress(ip), expected));
  }
});

describe('parseAuthority', () => {
  const cases: [string | undefined, 'http' | 'https', unknown][] = [
    ['example.com', 'https', { host: 'example.com', port: 443 }],
    ['Example.COM.:8080', 'http', { host: 'example.com', port: 8080 }],
    ['127.0.0.1:9', 'http', { host: '127.0.0.1', port: 9 }],
    ['granted.example@evil.example', 'http', null],
    ['user:pw@example.com', 'http', null],
    ['[::1]:80', 'http', null],
    ['2130706433', 'http', null],
    ['127.1', 'http', null],
    ['example.com:0', 'http', null],
    ['example.com:65536', 'http', null],
    ['example.com:80:80', 'http', null],
    ['', 'http', null],
    [undefined, 'http', null],
  ];
  for (const [authority, scheme, expected] of cases) {
    it(`${JSON.stringify(authority)} -> ${JSON.stringify(expected)}`, () => assert.deepEqual(parseAuthority(authority, scheme), expected));
  }
});

describe('checkRequest', () => {
  const grant = parseGrant({
    net: [
      { scheme: 'https', host: 'api.example.com', methods: ['GET', 'POST'] },
      { scheme: 'http', host: '127.0.0.1', port: 8080, methods: ['GET'] },
    ],
  });
  const req = (scheme: string | undefined, authority: string | undefined, method = 'get') => ({
    scheme: scheme === undefined ? undefined : scheme === 'http' ? { tag: 'HTTP' } : scheme === 'https' ? { tag: 'HTTPS' } : { tag: 'other', val: scheme },
    authority,
    method: { tag: method },
  });
  it('allows exact matches only', () => {
    assert.equal(checkRequest(grant.net, req('https', 'api.example.com')).allowed, true);
    assert.equal(checkRequest(grant.net, req('https', 'api.example.com:443', 'post')).allowed, true);
    assert.equal(checkRequest(grant.net, req(undefined, 'api.example.com')).allowed, true, 'missing scheme means https, as in the shim');
    assert.equal(checkRequest(grant.net, req('http', '127.0.0.1:8080')).allowed, true);
  });
  it('refuses any difference in scheme, host, port or method', () => {
    for (const r of [
      req('http', 'api.example.com'),
      req('https', 'api.example.com:8443'),
      req('https', 'API.example.com.evil.com'),
      req('https', 'api.example.com', 'delete'),
      req('ftp', 'api.example.com'),
      req('http', '127.0.0.1:8081'),
      req('http', '127.0.0.1'),
      req('http', 'localhost:8080'),
      req('https', 'api.example.com@127.0.0.1'),
      req('https', undefined),
    ]) {
      assert.equal(checkRequest(grant.net, r).allowed, false, JSON.stringify(r));
    }
  });
  it('names endpoints (scheme, address and port) of the IP literals of a grant', () => {
    assert.deepEqual(namedEndpoints(grant.net), ['http://127.0.0.1:8080']);
  });
  it('lets a connection reach a non-public address only through a literal request to a named endpoint', () => {
    const named = new Set(namedEndpoints(grant.net));
    assert.equal(connectionAllowed('http', '127.0.0.1', 8080, true, named), true);
    assert.equal(connectionAllowed('http', '::ffff:127.0.0.1', 8080, true, named), true, 'the mapped spelling of the same address');
    assert.equal(connectionAllowed('http', '127.0.0.1', 8081, true, named), false, 'another port');
    assert.equal(connectionAllowed('https', '127.0.0.1', 8080, true, named), false, 'another scheme');
    assert.equal(connectionAllowed('http', '127.0.0.2', 8080, true, named), false, 'another address');
    assert.equal(connectionAllowed('http', '127.0.0.1', 8080, false, named), false, 'reached through a name');
    assert.equal(connectionAllowed('https', '93.184.216.34', 443, false, named), true, 'public');
  });
});
