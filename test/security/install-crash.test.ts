/**
 * The install store under the two things a real machine does to it: a
 * process killed (kill -9) at any moment of an install or uninstall, and two
 * processes installing at the same time. After each, the store must be
 * consistent: SQLite's integrity check passes, every row names a blob that
 * is there, and every listed package loads and re-verifies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { openAuditLog } from '../../runtime/audit/log.ts';
import { homePaths } from '../../runtime/home.ts';
import { openDatabase } from '../../runtime/state/sqlite.ts';
import { sha256Hex } from '../../runtime/hash.ts';
import { blobPath, sweepBlobs } from '../../runtime/store/blobs.ts';
import { openIndex } from '../../runtime/store/installed-index.ts';
import { installPackage, listInstalled, loadInstalled } from '../../runtime/store/packages.ts';
import { generateKey, type PrivateKey } from '../../runtime/trust/keys.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { addTrustedKey } from '../helpers/trust.ts';
import { CLI, ROOT, mpp, tempDir } from '../helpers/cli.ts';
import { exampleBuild, examplePackage, type ExampleBuild } from '../helpers/installable.ts';

const LOOP = join(ROOT, 'test', 'fixtures', 'store', 'install-loop.ts');
const ROUNDS = 12;
const CLI_ROUNDS = 16;

/** Writes signed example packages; returns their paths, and every name@version they hold. */
function writePackages(dir: string, build: ExampleBuild, key: PrivateKey, specs: [string, string][]): { files: string[]; known: Set<string> } {
  mkdirSync(dir, { recursive: true });
  const files = specs.map(([name, version]) => {
    const f = join(dir, `${name.replace('/', '-')}-${version}.mpp`);
    writeFileSync(f, examplePackage(build, key, { name, version }));
    return f;
  });
  return { files, known: new Set(specs.map(([n, v]) => `${n}@${v}`)) };
}

/** The invariants of the store; throws (with the store's own error code) when one fails. */
function assertConsistent(home: string, known: ReadonlySet<string>): void {
  const db = openDatabase(homePaths(home).db);
  try {
    assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map((r) => ({ ...r })), [{ integrity_check: 'ok' }]);
  } finally {
    db.close();
  }
  const trust = TrustStore.load(home);
  for (const r of listInstalled(home)) {
    assert.ok(existsSync(blobPath(home, r.fileSha256)), `${r.name}@${r.version}: its blob is missing`);
    assert.ok(known.has(`${r.name}@${r.version}`), `${r.name}@${r.version} was never installed`);
    const { pkg } = loadInstalled(home, r.name, trust);
    assert.equal(pkg.manifest.version, r.version);
  }
}

/** No blob left that no row names (temporary files of killed writes are kept for a grace period). */
function assertNoOrphanBlobs(home: string): void {
  const named = new Set(listInstalled(home).map((r) => `${r.fileSha256}.mpp`));
  const stored = readdirSync(homePaths(home).packages).filter((n) => !n.startsWith('.'));
  assert.deepEqual(stored.sort(), [...named].sort());
}

describe('the install store survives kill -9 and concurrent installs', () => {
  const dir = tempDir({ after }, 'install-crash');
  let build: ExampleBuild;
  let key: PrivateKey;

  before(async () => {
    build = await exampleBuild();
    key = generateKey();
  });

  it(`stays consistent when the installing process is killed at random moments (${ROUNDS} rounds)`, async (t) => {
    const home = join(dir, 'crash');
    mkdirSync(home, { recursive: true });
    await addTrustedKey(home, key.publicKey, 'Example Publisher');
    const { files, known } = writePackages(join(dir, 'crash-pkgs'), build, key, [
      ['mpp-examples/hello', '1.0.0'],
      ['mpp-examples/other', '1.0.0'],
      ['mpp-examples/hello', '1.1.0'],
      ['mpp-examples/other', '2.0.0'],
      ['mpp-examples/hello', '1.2.0'],
      ['mpp-examples/hello', '0.9.0'],
    ]);
    // Warm the component cache once, so the kills land in every stage, not only in the first transpile.
    await installPackage(home, readFileSync(files[0]!), { trust: TrustStore.load(home) });

    const lastStage = new Map<string, number>();
    let steps = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(process.execPath, [LOOP, home, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const exited = once(child, 'exit');
      for (let waited = 0; !out.includes('ready\n'); waited += 10) {
        assert.ok(waited < 20_000 && child.exitCode === null, `the child did not start: ${err}`);
        await sleep(10);
      }
      await sleep(Math.random() * 1500);
      child.kill('SIGKILL');
      const [, signal] = await exited;
      assert.equal(signal, 'SIGKILL', `round ${round}: the child ended by itself: ${err}`);
      const lines = out.trim().split('\n');
      const last = lines.at(-1)!;
      lastStage.set(last, (lastStage.get(last) ?? 0) + 1);
      steps += lines.filter((l) => l === 'done').length;
      assertConsistent(home, known);
    }
    t.diagnostic(`${steps} steps completed; killed after: ${JSON.stringify(Object.fromEntries(lastStage))}`);
    const midInstall = [...lastStage].filter(([stage]) => stage.startsWith('stage ')).reduce((n, [, c]) => n + c, 0);
    assert.ok(midInstall >= 3, 'most kills must land inside an install, not between two');
    assert.ok(steps >= ROUNDS, 'the child must complete installs between kills');

    // What killed installs left behind is reclaimed by the next one to finish.
    await installPackage(home, readFileSync(files[2]!), { trust: TrustStore.load(home) });
    assertConsistent(home, known);
    assertNoOrphanBlobs(home);
  });

  it(`every install \`mpp install\` committed has its audit record, however it was killed (${CLI_ROUNDS} kill -9 rounds); no leftovers`, async (t) => {
    const home = join(dir, 'cli-crash');
    mkdirSync(home, { recursive: true });
    await addTrustedKey(home, key.publicKey, 'Example Publisher');
    const versions = ['1.0.0', '1.1.0', '1.2.0'];
    const { files } = writePackages(join(dir, 'cli-crash-pkgs'), build, key, versions.map((v): [string, string] => ['mpp-examples/hello', v]));
    const row = () => listInstalled(home).map((r) => `${r.version} ${r.installedAt}`)[0];
    // The first install transpiles the component; a second, whole one sets the scale of the random kill moments.
    assert.equal((await mpp(['install', files[1]!], { home })).code, 0);
    const began = performance.now();
    assert.equal((await mpp(['install', files[0]!], { home })).code, 0);
    const whole = performance.now() - began;
    const committed = [versions[1]!, versions[0]!];
    let killed = 0;
    for (let round = 0; round < CLI_ROUNDS; round++) {
      const before = row();
      const child = spawn(process.execPath, [CLI, 'install', files[(round + 1) % files.length]!], { env: { PATH: process.env.PATH ?? '', HOME: home, MPP_HOME: home }, stdio: 'ignore' });
      const exited = once(child, 'exit');
      await sleep(Math.random() * whole * 1.2);
      if (child.exitCode === null) killed += child.kill('SIGKILL') ? 1 : 0;
      await exited;
      if (row() !== before) committed.push(row()!.split(' ')[0]!);
    }
    t.diagnostic(`${killed} of ${CLI_ROUNDS} installs killed; ${committed.length} changes committed`);
    assert.ok(killed >= 3, 'the kills must land inside installs');
    // The next command that opens the log to change something settles what killed processes owed.
    const next = await mpp(['uninstall', 'mpp-examples/hello'], { home });
    assert.equal(next.code, 0, next.stderr);
    const log = openAuditLog(home, { readOnly: true });
    try {
      assert.equal(log.verify().ok, true);
      const installs = log.query({ type: 'install' }).map((r) => r.event as { version: string; change: string });
      assert.deepEqual(installs.filter((e) => e.change !== 'unchanged').map((e) => e.version), committed, 'one record per committed install, in order');
    } finally {
      log.close();
    }
    assert.deepEqual(readdirSync(home).filter((n) => n.endsWith('.tmp')), [], 'no temporary files left');
  });

  it('two processes installing, then upgrading, different packages at the same time both succeed (5 rounds)', async () => {
    const home = join(dir, 'concurrent');
    mkdirSync(home, { recursive: true });
    await addTrustedKey(home, key.publicKey, 'Example Publisher');
    const versions = ['1.0.0', '2.0.0', '3.0.0', '4.0.0', '5.0.0'];
    const specs = versions.flatMap((v): [string, string][] => [['mpp-examples/left', v], ['mpp-examples/right', v]]);
    const { files, known } = writePackages(join(dir, 'concurrent-pkgs'), build, key, specs);
    // Each round, one process's reclaim runs while the other is between storing its blob and committing.
    for (let round = 0; round < versions.length; round++) {
      const results = await Promise.all(files.slice(2 * round, 2 * round + 2).map((f) => mpp(['install', f, '--json'], { home })));
      for (const r of results) {
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal((JSON.parse(r.stdout) as { change: string }).change, round === 0 ? 'installed' : 'upgraded');
      }
      assertConsistent(home, known);
    }
    assert.deepEqual(listInstalled(home).map((r) => `${r.name}@${r.version}`), ['mpp-examples/left@5.0.0', 'mpp-examples/right@5.0.0']);
    assertNoOrphanBlobs(home);
  });

  it('a reclaim by another process between storing the blob and committing cannot leave a row without its blob', async () => {
    const home = join(dir, 'reclaim-race');
    mkdirSync(home, { recursive: true });
    await addTrustedKey(home, key.publicKey, 'Example Publisher');
    const { files, known } = writePackages(join(dir, 'race-pkgs'), build, key, [['mpp-examples/raced', '1.0.0']]);
    const sha = sha256Hex(readFileSync(files[0]!));

    // Take the write lock the way a concurrent install's reclaim does, and
    // sweep the blob the installer stored while it waits for that lock.
    const db = openIndex(home);
    db.exec('BEGIN IMMEDIATE');
    const install = mpp(['install', files[0]!, '--json'], { home });
    try {
      for (let waited = 0; !existsSync(blobPath(home, sha)); waited += 10) {
        assert.ok(waited < 15_000, 'the installer did not store its blob');
        await sleep(10);
      }
      assert.deepEqual(sweepBlobs(home, new Set()), [`${sha}.mpp`]);
    } finally {
      db.exec('COMMIT');
      db.close();
    }
    const r = await install;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertConsistent(home, known);
    assert.equal(listInstalled(home).length, 1);
  });

  it('processes opening a fresh store at the same time all succeed (SQLite WAL switch race)', async () => {
    const open = `import { openIndex } from ${JSON.stringify(join(ROOT, 'runtime', 'store', 'installed-index.ts'))}; openIndex(process.argv[1]).close();`;
    for (let round = 0; round < 10; round++) {
      const home = join(dir, `fresh-${round}`);
      const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--input-type=module', '-e', open, home], { stdio: ['ignore', 'ignore', 'pipe'] }));
      const results = await Promise.all(children.map(async (c) => {
        let err = '';
        c.stderr.on('data', (d) => (err += d));
        const [code] = await once(c, 'exit');
        return { code, err };
      }));
      for (const r of results) assert.equal(r.code, 0, `round ${round}: ${r.err}`);
    }
  });
});
