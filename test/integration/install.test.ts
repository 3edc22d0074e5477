/**
 * The local install store end to end: `mpp install`, `mpp list` and
 * `mpp uninstall` through the bundled CLI as a user runs them, and
 * `loadInstalled` refusing an installed copy that changed on disk.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMppError } from '../../runtime/errors.ts';
import { homePaths, kvDatabasePath } from '../../runtime/home.ts';
import { openKvStore } from '../../runtime/state/kv.ts';
import { openDatabase } from '../../runtime/state/sqlite.ts';
import { sha256Hex } from '../../runtime/hash.ts';
import { blobPath } from '../../runtime/store/blobs.ts';
import { loadInstalled } from '../../runtime/store/packages.ts';
import { generateKey, type PrivateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { addTrustedKey, revokeKey } from '../helpers/trust.ts';
import { mpp, mppInTerminal, snapshot, tempDir, withoutAudit } from '../helpers/cli.ts';
import { exampleBuild, examplePackage } from '../helpers/installable.ts';
import { invalidComponent, makePackage } from '../helpers/packages.ts';

const NAME = 'mpp-examples/hello';
const json = <T>(s: string): T => JSON.parse(s) as T;
type Fail = { ok: false; error: { code: string; message: string; hint?: string; detail?: Record<string, string> } };
type Installed = { ok: true; change: string; name: string; version: string; previousVersion?: string; digest: string; fileSha256: string; installedAt: string };
type Listed = { ok: true; packages: { name: string; version: string; digest: string; publisher: { keyid: string; name: string } }[] };

function rejectsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isMppError(e), `expected an MppError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Blobs in the store (temporary files excluded). */
function blobs(home: string): string[] {
  const dir = homePaths(home).packages;
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.mpp') && !n.startsWith('.')).sort() : [];
}

describe('mpp install / list / uninstall', () => {
  const dir = tempDir({ after }, 'install');
  let key: PrivateKey;
  const file = (n: string) => join(dir, n);

  before(async () => {
    const build = await exampleBuild();
    key = generateKey();
    writeFileSync(file('v1.mpp'), examplePackage(build, key, { version: '0.1.0' }));
    writeFileSync(file('v2.mpp'), examplePackage(build, key, { version: '0.2.0' }));
    writeFileSync(file('v1-other.mpp'), examplePackage(build, key, { version: '0.1.0', description: 'Same version, other content.' }));
    // Passes the gatekeeper, but its tool.wasm is not a valid component: the sandbox cannot transpile it.
    writeFileSync(file('fake.mpp'), signPackage(makePackage(undefined, {}, invalidComponent()), key));
  });

  const trustedHome = async (label: string) => {
    const home = join(dir, label);
    mkdirSync(home, { recursive: true });
    await addTrustedKey(home, key.publicKey, 'Example Publisher');
    return home;
  };

  it('refuses a package signed by an unknown key when no human can be asked, and writes nothing but its audit record', async () => {
    const home = join(dir, 'untrusted');
    mkdirSync(home);
    const r = await mpp(['install', file('v1.mpp'), '--json'], { home });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(json<Fail>(r.stdout).error.code, 'MPP_E_UNTRUSTED_KEY');
    assert.deepEqual(withoutAudit(snapshot(home)), {});
  });

  it('asks in a terminal like verify: "no" refuses and writes nothing, "yes" trusts the key and installs', async () => {
    const home = join(dir, 'terminal');
    mkdirSync(home);
    const no = await mppInTerminal(['install', file('v1.mpp')], { home, answers: 'n' });
    assert.notEqual(no.code, 0);
    assert.match(no.stdout, /never trusted[\s\S]*fingerprint: ed25519:[\s\S]*MPP_E_UNTRUSTED_KEY[\s\S]*mpp install/);
    assert.deepEqual(withoutAudit(snapshot(home)), {});
    // A "yes" is only held until the install passed every check: a package the sandbox cannot prepare trusts nothing.
    const failed = await mppInTerminal(['install', file('fake.mpp')], { home, answers: 'y' });
    assert.notEqual(failed.code, 0);
    assert.match(failed.stdout, /MPP_E_TOOL_INVALID/);
    assert.deepEqual(TrustStore.load(home).records, [], 'a failed install leaves the trust store as it was');
    const yes = await mppInTerminal(['install', file('v1.mpp')], { home, answers: 'y' });
    assert.equal(yes.code, 0, yes.stdout);
    assert.match(yes.stdout, /Installed mpp-examples\/hello@0\.1\.0, signed by MPP examples/);
    assert.deepEqual(TrustStore.load(home).records.map((r) => r.keyid), [key.publicKey.keyid]);
    const audited = json<{ records: { type: string; event: { action?: string; via?: string } }[] }>((await mpp(['audit', '--json'], { home })).stdout).records;
    assert.deepEqual(audited.map((r) => r.type), ['verify', 'trust', 'install'], 'the refusal, the key trusted on first use, the install');
    assert.equal(audited[1]!.event.via, 'first-use');
  });

  it('install -> list -> reinstall (no-op) -> conflict -> upgrade -> downgrade -> uninstall keeps data -> uninstall --purge deletes it', async () => {
    const home = await trustedHome('lifecycle');

    const first = await mpp(['install', file('v1.mpp')], { home });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Installed mpp-examples\/hello@0\.1\.0, signed by Example Publisher \(ed25519:/);
    assert.match(first.stderr, /verifying…[\s\S]*preparing the component[\s\S]*storing…/, 'progress goes to stderr');
    const v1Sha = sha256Hex(readFileSync(file('v1.mpp')));
    assert.deepEqual(blobs(home), [`${v1Sha}.mpp`]);
    const cached = readdirSync(homePaths(home).componentCache).filter((n) => !n.startsWith('.'));
    assert.equal(cached.length, 1);
    assert.ok(existsSync(join(homePaths(home).componentCache, cached[0]!, 'tool.js')), 'the component is transpiled at install time');

    const list = json<Listed>((await mpp(['list', '--json'], { home })).stdout);
    assert.deepEqual(list.packages.map((p) => [p.name, p.version, p.publisher.name]), [[NAME, '0.1.0', 'Example Publisher']]);
    const human = await mpp(['list'], { home });
    assert.match(human.stdout, /^NAME +VERSION +PUBLISHER +DIGEST\nmpp-examples\/hello +0\.1\.0 +Example Publisher +sha256:[0-9a-f]{12}\n$/);

    const before = { packages: snapshot(homePaths(home).packages), cache: snapshot(homePaths(home).componentCache) };
    const again = json<Installed>((await mpp(['install', file('v1.mpp'), '--json'], { home })).stdout);
    assert.equal(again.change, 'unchanged');
    assert.deepEqual({ packages: snapshot(homePaths(home).packages), cache: snapshot(homePaths(home).componentCache) }, before);

    const conflict = await mpp(['install', file('v1-other.mpp'), '--json'], { home });
    assert.equal(conflict.code, 1);
    assert.equal(json<Fail>(conflict.stdout).error.code, 'MPP_E_VERSION_CONFLICT');
    assert.deepEqual(blobs(home), [`${v1Sha}.mpp`], 'the refused file is not kept');

    const up = json<Installed>((await mpp(['install', file('v2.mpp'), '--json'], { home })).stdout);
    assert.deepEqual([up.change, up.previousVersion, up.version], ['upgraded', '0.1.0', '0.2.0']);
    assert.deepEqual(blobs(home), [`${sha256Hex(readFileSync(file('v2.mpp')))}.mpp`], 'the old blob is reclaimed');
    const down = json<Installed>((await mpp(['install', file('v1.mpp'), '--json'], { home })).stdout);
    assert.deepEqual([down.change, down.previousVersion, down.version], ['downgraded', '0.2.0', '0.1.0']);

    const kv = openKvStore(home, NAME, { maxBytes: 4096 });
    await kv.set('greeting', new TextEncoder().encode('hello'));
    kv.close();
    const kvFile = kvDatabasePath(home, NAME);

    const removed = await mpp(['uninstall', NAME, '--json'], { home });
    assert.equal(removed.code, 0, removed.stdout);
    assert.deepEqual(json<{ version: string; purged: boolean }>(removed.stdout), { ok: true, name: NAME, version: '0.1.0', purged: false });
    assert.ok(existsSync(kvFile), 'uninstall keeps the data without --purge');
    assert.deepEqual(json<Listed>((await mpp(['list', '--json'], { home })).stdout).packages, []);
    assert.deepEqual(blobs(home), []);
    const twice = await mpp(['uninstall', NAME, '--json'], { home });
    assert.equal(twice.code, 1);
    assert.equal(json<Fail>(twice.stdout).error.code, 'MPP_E_NOT_INSTALLED');

    assert.equal((await mpp(['install', file('v1.mpp')], { home })).code, 0);
    const purge = await mpp(['uninstall', NAME, '--purge'], { home });
    assert.equal(purge.code, 0, purge.stderr);
    assert.match(purge.stdout, /Uninstalled mpp-examples\/hello@0\.1\.0\. Its stored data was deleted\./);
    for (const f of [kvFile, `${kvFile}-wal`, `${kvFile}-shm`]) assert.equal(existsSync(f), false, `${f} is gone`);
    assert.match((await mpp(['list'], { home })).stdout, /No packages are installed/);
  });

  it('refuses arguments that are not a package file or a package name with MPP_E_USAGE (exit 2)', async () => {
    const home = join(dir, 'usage');
    for (const args of [['install', join(dir, 'missing.mpp')], ['install', dir], ['uninstall', '../../etc'], ['uninstall', 'Acme/Hello']]) {
      const r = await mpp([...args, '--json'], { home });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.equal(json<Fail>(r.stdout).error.code, 'MPP_E_USAGE', args.join(' '));
    }
    // A package name is looked up in the registries: none is configured here.
    assert.equal(json<Fail>((await mpp(['install', 'acme/hello', '--json'], { home })).stdout).error.code, 'MPP_E_REGISTRY_UNKNOWN');
  });

  it('refuses to use a damaged index with MPP_E_STORE_CORRUPT', async () => {
    const home = await trustedHome('damaged');
    writeFileSync(homePaths(home).db, 'this is not an SQLite database, and it is long enough to have a header...\n'.repeat(50));
    for (const args of [['list'], ['install', file('v1.mpp')], ['uninstall', NAME]]) {
      const r = await mpp([...args, '--json'], { home });
      assert.equal(r.code, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.equal(json<Fail>(r.stdout).error.code, 'MPP_E_STORE_CORRUPT', args[0]);
    }
  });

  it('refuses a component the sandbox cannot prepare, and writes no file', async () => {
    const home = await trustedHome('fake');
    const before = withoutAudit(snapshot(home));
    const r = await mpp(['install', file('fake.mpp'), '--json'], { home });
    assert.equal(r.code, 1);
    assert.equal(json<Fail>(r.stdout).error.code, 'MPP_E_TOOL_INVALID');
    assert.deepEqual(withoutAudit(snapshot(home)), before);
  });

  describe('loadInstalled: zero trust on every load', () => {
    let home = '';
    let v1Sha = '';
    const load = () => loadInstalled(home, NAME, TrustStore.load(home));
    const reinstall = async () => assert.equal((await mpp(['install', file('v1.mpp')], { home })).code, 0);

    before(async () => {
      home = await trustedHome('load');
      await reinstall();
      v1Sha = sha256Hex(readFileSync(file('v1.mpp')));
    });

    it('loads and re-verifies the installed package', () => {
      const { record, pkg, bytes } = load();
      assert.equal(record.version, '0.1.0');
      assert.equal(pkg.digest.sha256, record.digest);
      assert.equal(pkg.publisher.keyid, key.publicKey.keyid);
      assert.ok(Buffer.from(bytes).equals(readFileSync(file('v1.mpp'))));
      rejectsCode(() => loadInstalled(home, 'mpp-examples/absent', TrustStore.load(home)), 'MPP_E_NOT_INSTALLED');
    });

    it('refuses a blob edited on disk after install; reinstalling repairs it', async () => {
      const path = blobPath(home, v1Sha);
      const bytes = readFileSync(path);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01; // inside tool.wasm: still a well-formed archive
      writeFileSync(path, bytes);
      rejectsCode(load, 'MPP_E_STORE_CORRUPT');
      await reinstall();
      assert.equal(load().record.fileSha256, v1Sha);
    });

    it('refuses a blob swapped for another validly signed package (a downgrade attack)', async () => {
      copyFileSync(file('v2.mpp'), blobPath(home, v1Sha));
      rejectsCode(load, 'MPP_E_STORE_CORRUPT');
      await reinstall();
    });

    it('refuses a missing blob', async () => {
      rmSync(blobPath(home, v1Sha));
      rejectsCode(load, 'MPP_E_STORE_CORRUPT');
      await reinstall();
    });

    it('refuses an index row edited to name another package\'s blob', async () => {
      const v2Sha = sha256Hex(readFileSync(file('v2.mpp')));
      copyFileSync(file('v2.mpp'), blobPath(home, v2Sha));
      const db = openDatabase(homePaths(home).db);
      db.prepare('UPDATE installed_packages SET file_sha256 = ? WHERE name = ?').run(v2Sha, NAME);
      db.close();
      assert.throws(load, (e: unknown) => isMppError(e) && e.code === 'MPP_E_STORE_CORRUPT' && /another package/.test(e.message));
      const fix = openDatabase(homePaths(home).db);
      fix.prepare('UPDATE installed_packages SET file_sha256 = ? WHERE name = ?').run(v1Sha, NAME);
      fix.close();
      assert.equal(load().record.version, '0.1.0');
    });

    it('refuses an installed package whose key was revoked since', async () => {
      await revokeKey(home, key.publicKey.keyid, 'test');
      rejectsCode(load, 'MPP_E_REVOKED_KEY');
    });
  });
});
