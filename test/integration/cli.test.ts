import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mpp, mppInTerminal, snapshot, tempDir, withoutAudit } from '../helpers/cli.ts';
import { baseManifest, makePackage } from '../helpers/packages.ts';

/** The trust commands end to end, through the bundled CLI, as a user runs them. */
describe('mpp keygen / sign / verify / inspect / trust', () => {
  let home = '';
  let pkgFile = '';
  const json = <T>(s: string) => JSON.parse(s) as T;

  const dir = tempDir({ after }, 'cli');

  before(async () => {
    home = join(dir, 'home');
    pkgFile = join(dir, 'hello.mpp');
    writeFileSync(pkgFile, makePackage({
      ...baseManifest(),
      permissions: { network: [{ scheme: 'https', host: 'api.example.com', methods: ['GET'], reason: 'Looks things up.' }], kv: { maxBytes: 65536 } },
    }));
    const r = await mpp(['keygen'], { home });
    assert.equal(r.code, 0, r.stderr);
  });

  it('keygen writes a private key only its owner can read, and refuses to overwrite it', async () => {
    const key = join(home, 'keys', 'default.pem');
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(readFileSync(join(home, 'keys', 'default.pub.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    const again = await mpp(['keygen', '--json'], { home });
    assert.equal(again.code, 1);
    assert.equal(json<{ error: { code: string } }>(again.stdout).error.code, 'MPP_E_KEY_EXISTS');
  });

  it('sign is deterministic: signing twice gives the same bytes', async () => {
    assert.equal((await mpp(['sign', pkgFile], { home })).code, 0);
    const once = readFileSync(pkgFile);
    assert.equal((await mpp(['sign', pkgFile], { home })).code, 0);
    assert.ok(once.equals(readFileSync(pkgFile)));
  });

  it('verify refuses an unknown key when no human can be asked, and writes nothing but its audit record', async () => {
    const before = withoutAudit(snapshot(home));
    const r = await mpp(['verify', pkgFile, '--json'], { home });
    assert.equal(r.code, 1);
    const out = json<{ error: { code: string; hint: string; detail: { keys: { keyid: string }[] } } }>(r.stdout);
    assert.equal(out.error.code, 'MPP_E_UNTRUSTED_KEY');
    assert.match(out.error.hint, /mpp trust add/);
    assert.deepEqual(withoutAudit(snapshot(home)), before);
  });

  it('verify in a terminal asks; "no" keeps refusing and trusts nothing', async () => {
    const r = await mppInTerminal(['verify', pkgFile], { home, answers: 'n' });
    assert.match(r.stdout, /never trusted/);
    assert.match(r.stdout, /fingerprint: ed25519:/);
    assert.match(r.stdout, /MPP_E_UNTRUSTED_KEY/);
    assert.notEqual(r.code, 0);
    assert.equal((await mpp(['trust', 'list', '--json'], { home })).stdout.includes('"keyid"'), false);
  });

  it('verify in a terminal asks; "yes" trusts the key and verifies', async () => {
    const r = await mppInTerminal(['verify', pkgFile], { home, answers: 'y' });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /Verified vectors\/hello@1\.0\.0/);
    const list = json<{ keys: { name: string }[] }>((await mpp(['trust', 'list', '--json'], { home })).stdout);
    assert.deepEqual(list.keys.map((k) => k.name), ['Vector Author']);
    assert.equal((await mpp(['verify', pkgFile], { home })).code, 0, 'no question the second time');
  });

  it('inspect shows tools, permissions in plain words, files, signatures and the verdict', async () => {
    const r = await mpp(['inspect', pkgFile], { home });
    assert.equal(r.code, 0, r.stderr);
    for (const text of ['vectors/hello 1.0.0', 'greet (none: computes only', 'Send GET requests to https://api.example.com (why: Looks things up.)', 'Keep up to 64 KiB of its own data', 'tool.wasm', 'author   ed25519:', 'trusted as "Vector Author"', 'Verdict: verified']) {
      assert.ok(r.stdout.includes(text), `missing "${text}" in:\n${r.stdout}`);
    }
    const j = json<{ files: { name: string; stored: boolean }[]; signatures: unknown[]; verdict: { verified: boolean } }>((await mpp(['inspect', pkgFile, '--json'], { home })).stdout);
    assert.deepEqual(j.files.map((f) => [f.name, f.stored]), [['manifest.json', false], ['tool.wasm', true]]);
    assert.equal(j.signatures.length, 1);
    assert.equal(j.verdict.verified, true);
  });

  it('a registry countersignature adds a second signature without replacing the author\'s', async () => {
    const other = join(home, 'registry.pem');
    assert.equal((await mpp(['keygen', '--out', other], { home })).code, 0);
    const copy = join(home, 'countersigned.mpp');
    assert.equal((await mpp(['sign', pkgFile, '--key', other, '--role', 'registry', '--out', copy], { home })).code, 0);
    const j = json<{ signatures: { role: string }[] }>((await mpp(['inspect', copy, '--json'], { home })).stdout);
    assert.deepEqual(j.signatures.map((s) => s.role).sort(), ['author', 'registry']);
    assert.equal((await mpp(['verify', copy], { home })).code, 0);
  });

  it('verify --key checks against one key without touching the trust store', async () => {
    const before = withoutAudit(snapshot(home));
    assert.equal((await mpp(['verify', pkgFile, '--key', join(home, 'keys', 'default.pub.pem')], { home })).code, 0);
    const wrong = await mpp(['verify', pkgFile, '--key', join(home, 'registry.pub.pem'), '--json'], { home });
    assert.equal(json<{ error: { code: string } }>(wrong.stdout).error.code, 'MPP_E_UNTRUSTED_KEY');
    assert.deepEqual(withoutAudit(snapshot(home)), before);
  });

  it('trust add --from a package needs a human or --yes', async () => {
    const fresh = join(home, 'fresh');
    const r = await mpp(['trust', 'add', '--from', pkgFile, '--name', 'X', '--json'], { home: fresh });
    assert.equal(json<{ error: { code: string } }>(r.stdout).error.code, 'MPP_E_TRUST_NEEDS_CONFIRMATION');
    assert.equal((await mpp(['trust', 'add', '--from', pkgFile, '--name', 'X', '--yes'], { home: fresh })).code, 0);
    assert.equal((await mpp(['verify', pkgFile], { home: fresh })).code, 0);
  });

  it('a revoked key is refused from then on', async () => {
    assert.equal((await mpp(['trust', 'revoke', join(home, 'keys', 'default.pub.pem'), '--reason', 'leaked'], { home })).code, 0);
    const r = await mpp(['verify', pkgFile, '--json'], { home });
    assert.equal(json<{ error: { code: string } }>(r.stdout).error.code, 'MPP_E_REVOKED_KEY');
    const list = await mpp(['trust', 'list'], { home });
    assert.match(list.stdout, /REVOKED .* \(leaked\)/);
  });

  it('usage errors exit 2 with MPP_E_USAGE; a missing file is MPP_E_IO', async () => {
    const bad = await mpp(['sign', pkgFile, '--role', 'boss'], { home });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /MPP_E_USAGE/);
    const unknown = await mpp(['frobnicate'], { home });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /MPP_E_USAGE/);
    assert.match(unknown.stderr, /hint: Run `mpp --help`/);
    assert.doesNotMatch(unknown.stderr, /frobnicate --help/);
    const missing = await mpp(['verify', join(home, 'nope.mpp'), '--json'], { home });
    assert.equal(missing.code, 1);
    assert.equal(json<{ error: { code: string } }>(missing.stdout).error.code, 'MPP_E_IO');
  });

  it('--json usage errors print one JSON document with MPP_E_USAGE and a hint naming the right command', async () => {
    const cases: [string[], RegExp][] = [
      [['verify', '--json'], /`mpp verify --help`/],
      [['verify', pkgFile, '--frob', '--json'], /`mpp verify --help`/],
      [['trust', 'frob', '--json'], /`mpp trust --help`/],
      [['frobnicate', '--json'], /`mpp --help`/],
      [['--json', 'frobnicate'], /`mpp --help`/],
      [['sign', pkgFile, '--role', 'boss', '--json'], /--help/],
    ];
    for (const [args, hint] of cases) {
      const r = await mpp(args, { home });
      assert.equal(r.code, 2, args.join(' '));
      const doc = json<{ ok: boolean; error: { code: string; message: string; hint: string } }>(r.stdout);
      assert.equal(doc.ok, false);
      assert.equal(doc.error.code, 'MPP_E_USAGE', args.join(' '));
      assert.match(doc.error.hint, hint, args.join(' '));
      assert.ok(doc.error.message.length > 0);
    }
  });

  it('every command has --help', async () => {
    for (const c of ['init', 'build', 'keygen', 'sign', 'verify', 'inspect', 'trust', 'trust add', 'trust list', 'trust remove', 'trust revoke', 'install', 'list', 'uninstall', 'run', 'permissions', 'grant', 'revoke', 'agent', 'agent add', 'agent list', 'agent remove', 'agent credential']) {
      const r = await mpp([...c.split(' '), '--help'], { home });
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, /Usage: mpp /, c);
    }
  });
});
