/**
 * Hostile tools against the sandbox: each call attempts one escape and must
 * be refused, with the host still healthy afterwards (the same sandbox, or a
 * fresh instance of it, answers the next call). Real components built from
 * test/fixtures/tools, real files, real sockets on loopback.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { execFileSync, spawn } from 'node:child_process';
import { isMppError } from '../../runtime/errors.ts';
import { createSandbox, type FsStrategyName, type GrantInput, type HostServices, type LogRecord, type ToolSandbox } from '../../runtime/sandbox/index.ts';
import { createSocketImports } from '../../runtime/sandbox/worker/net.ts';
import { fixtureComponent } from '../fixtures/tools/build.ts';
import { tempDir } from '../helpers/cli.ts';
import { FS_STRATEGIES, makeDirs, SANDBOX_CACHE, startFlipper, startServer, type TestServer } from '../fixtures/tools/env.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-GRANT';
const RACE_CHILD = new URL('../fixtures/tools/race-child.ts', import.meta.url).pathname;

interface ProbeResult {
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

async function probe(sb: ToolSandbox, tool: string, input: object): Promise<ProbeResult> {
  return JSON.parse(await sb.call(tool, JSON.stringify(input))) as ProbeResult;
}

async function rejectsWith(p: Promise<unknown>, code: string, check?: (e: { detail?: Record<string, unknown> }) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isMppError(e), `expected an MppError, got ${String(e)}`);
    assert.equal(e.code, code);
    check?.(e);
    return true;
  });
}

function logSink(): HostServices & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { records, log: (r) => records.push(r) };
}

const scratch = tempDir({ after }, 'hostile');
let fsComponent: Uint8Array;
let netComponent: Uint8Array;
let miscComponent: Uint8Array;

before(async () => {
  [fsComponent, netComponent, miscComponent] = await Promise.all([
    fixtureComponent('fs-probe'),
    fixtureComponent('net-probe'),
    fixtureComponent('misc-probe'),
  ]);
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Every filesystem escape below runs against each strategy (spec/sandbox.md
 * §4): the Linux fd walk and the portable walk of macOS and Windows, which
 * CI selects here the way a host setting does.
 */
for (const strategy of FS_STRATEGIES) filesystemSuites(strategy);

function filesystemSuites(strategy: FsStrategyName): void {
const root = join(scratch, strategy);
const grantDir = join(root, 'grant');
const roDir = join(root, 'ro');
const fsSandbox = (grant: GrantInput) => createSandbox({ component: fsComponent, grant, cacheDir: SANDBOX_CACHE, fsStrategy: strategy });

function fsGrant(extra: Partial<GrantInput> = {}): GrantInput {
  return {
    fs: [
      { hostPath: grantDir, guestPath: '/data', write: true },
      { hostPath: roDir, guestPath: '/ro', write: false },
    ],
    limits: { timeoutMs: 60_000 },
    ...extra,
  };
}

describe(`filesystem escapes (${strategy} strategy)`, () => {
  let sb: ToolSandbox;
  before(async () => {
    makeDirs(join(grantDir, 'sub'), roDir);
    writeFileSync(join(root, 'secret.txt'), SECRET);
    writeFileSync(join(grantDir, 'sub', 'inside.txt'), 'inside');
    writeFileSync(join(grantDir, 'secret.txt'), 'decoy inside the grant');
    writeFileSync(join(roDir, 'keep.txt'), 'read-only content');
    // Placed by the user, not by a tool: one leading out, one staying in.
    symlinkSync('../secret.txt', join(grantDir, 'out-link'));
    symlinkSync('sub/inside.txt', join(grantDir, 'in-link'));
    symlinkSync('..', join(grantDir, 'parked-up'));
    sb = await fsSandbox(fsGrant());
  });
  after(() => sb.dispose());

  it('refuses `..` traversal out of the preopen', async () => {
    for (const path of ['../secret.txt', 'sub/../../secret.txt', 'sub/../sub/../../secret.txt']) {
      assert.deepEqual(await probe(sb, 'read', { path }), { ok: false, error: 'not-permitted' }, path);
    }
  });

  it('refuses absolute paths', async () => {
    assert.deepEqual(await probe(sb, 'read', { path: join(root, 'secret.txt') }), { ok: false, error: 'not-permitted' });
    assert.deepEqual(await probe(sb, 'read', { path: '/etc/passwd' }), { ok: false, error: 'not-permitted' });
  });

  it('refuses a pre-existing symlink leading out, and follows one staying in', async () => {
    assert.deepEqual(await probe(sb, 'read', { path: 'out-link' }), { ok: false, error: 'not-permitted' });
    assert.deepEqual(await probe(sb, 'stat', { path: 'out-link' }), { ok: false, error: 'not-permitted' });
    assert.deepEqual(await probe(sb, 'read', { path: 'parked-up/secret.txt' }), { ok: false, error: 'not-permitted' });
    assert.deepEqual(await probe(sb, 'read', { path: 'in-link' }), { ok: true, text: 'inside' });
    // Without symlink-follow, opening a symlink is `loop`, never a read of its target.
    assert.deepEqual(await probe(sb, 'read', { path: 'in-link', follow: false }), { ok: false, error: 'loop' });
  });

  it('refuses creating a symlink, even one pointing inside', async () => {
    for (const target of ['..', '../secret.txt', 'sub', '/etc']) {
      assert.deepEqual(await probe(sb, 'symlink', { target, path: 'made-link' }), { ok: false, error: 'not-permitted' }, target);
      assert.equal(existsSync(join(grantDir, 'made-link')) || isLink(join(grantDir, 'made-link')), false);
    }
  });

  it('refuses creating a hard link', async () => {
    assert.deepEqual(await probe(sb, 'link', { from: 'sub/inside.txt', to: 'hard' }), { ok: false, error: 'not-permitted' });
    assert.equal(existsSync(join(grantDir, 'hard')), false);
  });

  it('refuses moving a file out of the grant', async () => {
    assert.deepEqual(await probe(sb, 'rename', { from: 'sub/inside.txt', to: '../moved.txt' }), { ok: false, error: 'not-permitted' });
    assert.equal(existsSync(join(root, 'moved.txt')), false);
    assert.equal(readFileSync(join(grantDir, 'sub', 'inside.txt'), 'utf8'), 'inside');
  });

  it('refuses every write into a read-only grant and leaves it unchanged', async () => {
    const attempts: [string, object][] = [
      ['write', { path: 'keep.txt', text: 'pwned' }],
      ['write', { path: 'new.txt', text: 'pwned' }],
      ['append', { path: 'keep.txt', text: 'pwned' }],
      ['truncate', { path: 'keep.txt' }],
      ['unlink', { path: 'keep.txt' }],
      ['rename', { from: 'keep.txt', to: 'moved.txt' }],
      ['mkdir', { path: 'dir' }],
      ['touch', { path: 'keep.txt' }],
    ];
    const before = lstatSync(join(roDir, 'keep.txt'));
    for (const [tool, args] of attempts) {
      assert.deepEqual(await probe(sb, tool, { preopen: '/ro', ...args }), { ok: false, error: 'read-only' }, tool);
    }
    assert.deepEqual(readdirSync(roDir), ['keep.txt']);
    assert.equal(readFileSync(join(roDir, 'keep.txt'), 'utf8'), 'read-only content');
    assert.equal(lstatSync(join(roDir, 'keep.txt')).mtimeMs, before.mtimeMs);
    assert.deepEqual(await probe(sb, 'read', { preopen: '/ro', path: 'keep.txt' }), { ok: true, text: 'read-only content' });
  });

  it('refuses to open a FIFO (it could block the worker where terminate cannot reach)', async () => {
    execFileSync('mkfifo', [join(grantDir, 'pipe')]);
    assert.deepEqual(await probe(sb, 'read', { path: 'pipe' }), { ok: false, error: 'unsupported' });
    assert.deepEqual(await probe(sb, 'write', { path: 'pipe', text: 'x' }), { ok: false, error: 'no-such-device' });
  });

  it('caps the host file descriptors one instance may hold, and frees them when its call ends', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const hog = await fsSandbox(fsGrant());
    try {
      const baseline = fds();
      const r = await probe(hog, 'open-many', { path: 'sub/inside.txt', n: 100_000 });
      assert.equal(r.error, 'quota');
      assert.ok((r.opened as number) >= 200 && (r.opened as number) < 1024, `opened ${r.opened}`);
      // The instance is retired with its call (a clean one per call): its files go with it.
      // The worker closes them just after answering, so wait for it (bounded generously: a loaded machine is slow), not for a fixed time.
      for (let i = 0; i < 2_400 && fds() >= baseline + 16; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(fds() < baseline + 16, `${fds()} fds open after the call, ${baseline} before it`);
      assert.deepEqual(await probe(hog, 'read', { path: 'sub/inside.txt' }), { ok: true, text: 'inside' }, 'the next instance starts with its own quota');
    } finally {
      await hog.dispose();
    }
  });

  it("a worker stopped while holding files leaves none open and closes none of the host's", async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const hanger = await fsSandbox(fsGrant({ limits: { timeoutMs: 1_000 } }));
    const hostFile = join(root, 'host-owned.txt');
    writeFileSync(hostFile, 'host');
    const held: number[] = [];
    try {
      const baseline = fds();
      await assert.rejects(probe(hanger, 'open-and-hang', { path: 'sub/inside.txt', n: 64 }), (e: unknown) => isMppError(e) && e.code === 'MPP_E_TOOL_TIMEOUT');
      // While the stopped worker's files are closed, the host opens its own: they take the
      // numbers as they are freed, and must stay open (a second close of those numbers would close them).
      for (let i = 0; i < 2_400 && (held.length < 64 || fds() > baseline + held.length + 16); i++) {
        if (held.length < 64) held.push(openSync(hostFile, 'r'));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.ok(fds() <= baseline + held.length + 16, `${fds()} fds open, ${baseline} before the call and ${held.length} the host's`);
      // Give a late close (the old host closed a dead worker's fds on its 'exit') time to land before looking.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const fd of held) assert.equal(readlinkSync(`/proc/self/fd/${fd}`), hostFile, `host fd ${fd}`);
    } finally {
      for (const fd of held) closeSync(fd);
      await hanger.dispose();
    }
  });

  it('a granted folder moved away and replaced by a link (by a tool granted its parent) is not followed', async () => {
    const nest = join(root, 'nest');
    makeDirs(join(nest, 'inner'), join(root, 'outside'));
    writeFileSync(join(nest, 'inner', 'secret.txt'), 'decoy');
    writeFileSync(join(root, 'outside', 'secret.txt'), SECRET);
    symlinkSync('../outside', join(nest, 'parked'));
    const reader = await fsSandbox({ fs: [{ hostPath: join(nest, 'inner'), guestPath: '/data', write: false }] });
    const parent = await fsSandbox({ fs: [{ hostPath: nest, guestPath: '/data', write: true }] });
    try {
      assert.deepEqual(await probe(parent, 'rename', { from: 'inner', to: 'aside' }), { ok: true });
      assert.deepEqual(await probe(parent, 'rename', { from: 'parked', to: 'inner' }), { ok: true });
      // The instance ready before the swap: the fd walk keeps the folder itself, the portable walk finds it gone.
      const first = await probe(reader, 'read', { path: 'secret.txt' });
      assert.deepEqual(first, strategy === 'linux-fd' ? { ok: true, text: 'decoy' } : { ok: false, error: 'no-entry' });
      // Every later instance opens the folder again, and refuses what now has its name.
      await rejectsWith(reader.call('read', JSON.stringify({ path: 'secret.txt' })), 'MPP_E_GRANT_INVALID');
    } finally {
      await Promise.all([reader.dispose(), parent.dispose()]);
    }
  });

  it('a tool stopped at its time limit inside file operations holds nothing back from the next', async () => {
    const stuck = await fsSandbox({ ...fsGrant(), limits: { timeoutMs: 1_000 } });
    try {
      // Reads until stopped: the limit, not the loop, ends it, with the worker inside a file operation or between two.
      await rejectsWith(stuck.call('race-read', JSON.stringify({ path: 'sub/inside.txt', n: 1e12 })), 'MPP_E_TOOL_TIMEOUT');
    } finally {
      await stuck.dispose();
    }
    // A lock entry left by the stopped worker would hold this exclusive operation until it is refused (`busy`).
    assert.deepEqual(await probe(sb, 'mkdir', { path: 'after-timeout' }), { ok: true });
    assert.equal(lstatSync(join(grantDir, 'after-timeout')).isDirectory(), true);
  });

  it('stays healthy after all of the above', async () => {
    assert.deepEqual(await probe(sb, 'read', { path: 'sub/inside.txt' }), { ok: true, text: 'inside' });
  });
});


/**
 * The TOCTOU race from the sandbox notes: one party flips `name` between
 * absent and a symlink to `..` while a tool reads `name/secret.txt` 20,000
 * times (the shim lets ~1-10% of those reads through to the outside file).
 */
describe(`the two-party symlink race (${strategy} strategy)`, () => {
  const N = 20_000;
  const raceDir = join(root, 'race');
  let reader: ToolSandbox;
  before(async () => {
    makeDirs(join(raceDir, 'grant'));
    writeFileSync(join(raceDir, 'secret.txt'), SECRET);
    writeFileSync(join(raceDir, 'grant', 'secret.txt'), 'decoy');
    reader = await fsSandbox({ fs: [{ hostPath: join(raceDir, 'grant'), guestPath: '/data', write: true }], limits: { timeoutMs: 120_000 } });
  });
  after(() => reader.dispose());

  it('no outside read while the host filesystem flips the symlink (the exact race)', async () => {
    const stop = startFlipper(join(raceDir, 'grant', 'name'));
    const r = await probe(reader, 'race-read', { path: 'name/secret.txt', n: N });
    const flips = await stop();
    assert.ok(flips > 0, 'the flipper ran');
    assert.equal((r.seen as Record<string, number>)[SECRET], undefined, `outside reads: ${JSON.stringify(r)}`);
    assert.equal(r.reads, 0);
  });

  /** A second tool with write access to the same folder: the attacker's half of the race. */
  const writableSandboxOnRaceDir = () => fsSandbox({ fs: [{ hostPath: join(raceDir, 'grant'), guestPath: '/data', write: true }], limits: { timeoutMs: 120_000 } });

  it('no outside read while a second tool tries to flip it with symlink-at', async () => {
    const flipper = await writableSandboxOnRaceDir();
    try {
      const [flips, r] = await Promise.all([
        probe(flipper, 'race-symlink', { path: 'name', n: N }),
        probe(reader, 'race-read', { path: 'name/secret.txt', n: N }),
      ]);
      assert.equal(flips.created, 0);
      assert.equal(flips.refused, N);
      assert.equal(r.reads, 0);
      assert.equal(isLink(join(raceDir, 'grant', 'name')), false);
    } finally {
      await flipper.dispose();
    }
  });

  it('no outside read while a second tool flips a pre-existing symlink by renaming it', async () => {
    symlinkSync('..', join(raceDir, 'grant', 'parked'));
    const flipper = await writableSandboxOnRaceDir();
    try {
      const [flips, r] = await Promise.all([
        probe(flipper, 'race-rename', { from: 'parked', to: 'name', n: N / 2 }),
        probe(reader, 'race-read', { path: 'name/secret.txt', n: N }),
      ]);
      assert.ok((flips.flips as number) > 0, 'renames happened');
      assert.equal((r.seen as Record<string, number>)[SECRET], undefined, `outside reads: ${JSON.stringify(r)}`);
      assert.equal(r.reads, 0);
    } finally {
      await flipper.dispose();
    }
  });

  /**
   * The stronger form: `name` is a real directory most of the time and the
   * link only for an instant, so a walk that checked `name` and then opened
   * `name/secret.txt` by path would read through the link. Renames only (no
   * tool can make a link); one swap is four renames.
   */
  const swapDir = join(root, 'swap');
  const swapGrant = join(swapDir, 'grant');
  const swapArgs = { dir: 'name', link: 'parked', aside: 'aside' };
  const readSwapped = (sb: ToolSandbox) => probe(sb, 'race-read', { path: 'name/secret.txt', n: N });
  let swapReader: ToolSandbox;
  before(async () => {
    makeDirs(join(swapGrant, 'name'));
    writeFileSync(join(swapDir, 'secret.txt'), SECRET);
    writeFileSync(join(swapGrant, 'name', 'secret.txt'), 'decoy');
    symlinkSync('..', join(swapGrant, 'parked'));
    swapReader = await fsSandbox({ fs: [{ hostPath: swapGrant, guestPath: '/data', write: false }], limits: { timeoutMs: 120_000 } });
  });
  after(() => swapReader.dispose());

  it('no outside read while a second tool swaps a directory for a symlink by renames', async () => {
    const swapper = await fsSandbox({ fs: [{ hostPath: swapGrant, guestPath: '/data', write: true }], limits: { timeoutMs: 120_000 } });
    try {
      const [swaps, r] = await Promise.all([probe(swapper, 'race-swap', { ...swapArgs, n: N / 4 }), readSwapped(swapReader)]);
      assert.ok((swaps.flips as number) > 0, 'swaps happened');
      assert.equal((r.seen as Record<string, number>)[SECRET], undefined, `outside reads: ${JSON.stringify(r)}`);
      assert.equal(lstatSync(join(swapGrant, 'name')).isDirectory(), true, 'the swapper put the directory back');
    } finally {
      await swapper.dispose();
    }
  });

  it('no outside read while a tool in another host process swaps it (CLI beside the editor)', async () => {
    const child = spawn(process.execPath, [RACE_CHILD, strategy, swapGrant], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.startsWith('ready\n')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the swapping process exited early (${code})`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await ready;
      const r = await readSwapped(swapReader);
      child.stdin.end();
      assert.equal(await exited, 0);
      const swaps = Number(out.split('\n')[1]);
      assert.ok(swaps > 0, `swaps: ${out}`);
      assert.equal((r.seen as Record<string, number>)[SECRET], undefined, `outside reads: ${JSON.stringify(r)}`);
    } finally {
      child.kill();
    }
  });
});
}

describe('network escapes', () => {
  let good: TestServer;
  let evil: TestServer;
  let sb: ToolSandbox;
  const logs = logSink();
  before(async () => {
    evil = await startServer((_req, res) => res.end('evil'));
    good = await startServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${evil.port}/stolen` });
        res.end();
      } else {
        res.end(`good ${req.method} ${req.url}`);
      }
    });
    sb = await createSandbox({
      component: netComponent,
      grant: { net: [{ scheme: 'http', host: '127.0.0.1', port: good.port, methods: ['GET'] }], limits: { timeoutMs: 30_000 } },
      cacheDir: SANDBOX_CACHE,
      services: logs,
    });
  });
  after(async () => {
    await sb.dispose();
    await good.close();
    await evil.close();
  });

  it('refuses an ungranted host (another port on the same address)', async () => {
    const r = await probe(sb, 'fetch', { url: `http://127.0.0.1:${evil.port}/` });
    assert.equal(r.ok, false);
    assert.deepEqual(evil.requests, []);
    assert.ok(logs.records.some((l) => l.source === 'sandbox' && /not granted/.test(l.message)));
  });

  it('refuses an ungranted method and an ungranted scheme', async () => {
    assert.equal((await probe(sb, 'fetch', { url: `http://127.0.0.1:${good.port}/`, method: 'POST' })).ok, false);
    assert.equal((await probe(sb, 'fetch', { url: `https://127.0.0.1:${good.port}/` })).ok, false);
    assert.deepEqual(good.requests, []);
  });

  it('refuses userinfo tricks', async () => {
    for (const url of [`http://granted.example@127.0.0.1:${evil.port}/`, `http://127.0.0.1:${good.port}@127.0.0.1:${evil.port}/`]) {
      assert.equal((await probe(sb, 'fetch', { url })).ok, false, url);
    }
    assert.deepEqual(evil.requests, []);
  });

  it('does not follow a redirect to an ungranted host: the tool sees the 302', async () => {
    const manual = await probe(sb, 'fetch', { url: `http://127.0.0.1:${good.port}/redirect` });
    assert.equal(manual.ok, true);
    assert.equal(manual.status, 302);
    assert.equal(manual.location, `http://127.0.0.1:${evil.port}/stolen`);
    const follow = await probe(sb, 'fetch', { url: `http://127.0.0.1:${good.port}/redirect`, redirect: 'follow' });
    assert.ok(follow.ok === false || follow.status === 302, JSON.stringify(follow));
    assert.deepEqual(evil.requests, []);
  });

  it('refuses IP literals the grant does not name, in any spelling', async () => {
    const named = await createSandbox({
      component: netComponent,
      grant: { net: [{ scheme: 'http', host: 'granted.invalid', port: good.port, methods: ['GET'] }] },
      cacheDir: SANDBOX_CACHE,
    });
    try {
      const before = good.requests.length;
      for (const host of ['127.0.0.1', '2130706433', '0x7f000001', '127.1', '[::1]', '[::ffff:127.0.0.1]', '0.0.0.0']) {
        assert.equal((await probe(named, 'fetch', { url: `http://${host}:${good.port}/` })).ok, false, host);
      }
      assert.equal(good.requests.length, before);
    } finally {
      await named.dispose();
    }
  });

  it('refuses a granted name that resolves to loopback (DNS rebinding) even when the grant also names the address', async () => {
    const byName = await createSandbox({
      component: netComponent,
      grant: { net: [{ scheme: 'http', host: 'localhost', port: good.port, methods: ['GET'] }] },
      cacheDir: SANDBOX_CACHE,
      services: logs,
    });
    try {
      const before = good.requests.length;
      assert.equal((await probe(byName, 'fetch', { url: `http://localhost:${good.port}/rebind` })).ok, false);
      assert.equal(good.requests.length, before);
      assert.ok(logs.records.some((l) => /localhost resolves to .*non-public/.test(l.message)));
    } finally {
      await byName.dispose();
    }
    const withAddress = await createSandbox({
      component: netComponent,
      grant: {
        net: [
          { scheme: 'http', host: 'localhost', port: good.port, methods: ['GET'] },
          { scheme: 'http', host: '127.0.0.1', port: good.port, methods: ['GET'] },
        ],
      },
      cacheDir: SANDBOX_CACHE,
    });
    try {
      // The address entry is for requests naming 127.0.0.1; a name never reaches loopback (manifest.md §5.2).
      const before = good.requests.length;
      assert.equal((await probe(withAddress, 'fetch', { url: `http://localhost:${good.port}/named` })).ok, false);
      assert.equal((await probe(withAddress, 'fetch', { url: `http://127.0.0.1:${good.port}/literal` })).ok, true);
      assert.deepEqual(good.requests.slice(before), ['GET /literal']);
    } finally {
      await withAddress.dispose();
    }
  });

  it('with 127.0.0.1:P1 and localhost:P2 granted, no other loopback port is reached, by name or by address', async () => {
    const p1 = await startServer((_req, res) => res.end('P1'));
    const p2 = await startServer((_req, res) => res.end('P2'));
    const decoy = await startServer((_req, res) => res.end('DECOY-REACHED'));
    const both = await createSandbox({
      component: netComponent,
      grant: {
        net: [
          { scheme: 'http', host: '127.0.0.1', port: p1.port, methods: ['GET'] },
          { scheme: 'http', host: 'localhost', port: p2.port, methods: ['GET'] },
        ],
      },
      cacheDir: SANDBOX_CACHE,
    });
    try {
      for (const url of [`http://localhost:${decoy.port}/`, `http://127.0.0.1:${decoy.port}/`, `http://localhost:${p1.port}/`, `http://127.0.0.1:${p2.port}/`, `http://localhost:${p2.port}/`]) {
        const r = await probe(both, 'fetch', { url });
        assert.equal(r.ok, false, `${url}: ${JSON.stringify(r)}`);
      }
      const r = await probe(both, 'fetch', { url: `http://127.0.0.1:${p1.port}/` });
      assert.deepEqual([r.ok, r.body], [true, 'P1']);
      assert.deepEqual(decoy.requests, []);
      assert.deepEqual(p2.requests, [], 'localhost is a name: it never reaches loopback');
    } finally {
      await both.dispose();
      await Promise.all([p1.close(), p2.close(), decoy.close()]);
    }
  });

  it('the connect-time check matches scheme, address and port, not the address alone', async () => {
    const granted = await startServer((_req, res) => res.end('granted'));
    const decoy = await startServer((_req, res) => res.end('DECOY-REACHED'));
    const worker = new Worker(new URL('../fixtures/tools/connect-worker.ts', import.meta.url), { workerData: { granted: granted.port, decoy: decoy.port } });
    try {
      const results = await new Promise<Record<string, string>>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      assert.equal(results.granted, '200 granted');
      assert.equal(results.decoy, 'EACCES');
      assert.equal(results.decoyMapped, 'EACCES');
      assert.equal(results.byName, 'EACCES');
      assert.deepEqual(decoy.requests, []);
    } finally {
      await worker.terminate();
      await Promise.all([granted.close(), decoy.close()]);
    }
  });

  it('enforces the address rule again in the lookup the connection uses', async () => {
    // Runs the IO-worker extension in a thread of its own (it patches the
    // thread's HTTP agents) and resolves through it, as a connection would.
    const worker = new Worker(new URL('../fixtures/tools/lookup-worker.ts', import.meta.url));
    const results = await new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(results.before, 'EACCES', 'refused before configure');
    assert.equal(results.loopback, 'EACCES', 'loopback refused when not named');
    assert.equal(results.widened, 'EACCES', 'a second configure cannot widen the set');
    assert.equal((results.check as { ok: boolean }).ok, false);
  });

  it('refuses raw sockets and name lookup', () => {
    const s = createSocketImports();
    assert.throws(() => s.tcpCreateSocket.createTcpSocket(), (e) => e === 'access-denied');
    assert.throws(() => s.udpCreateSocket.createUdpSocket(), (e) => e === 'access-denied');
    assert.throws(() => s.ipNameLookup.resolveAddresses(), (e) => e === 'access-denied');
  });

  it('stays healthy and still reaches the granted server', async () => {
    const r = await probe(sb, 'fetch', { url: `http://127.0.0.1:${good.port}/still-ok` });
    assert.deepEqual([r.ok, r.status, r.body], [true, 200, 'good GET /still-ok']);
    assert.deepEqual(evil.requests, []);
  });
});

describe('environment, exit, time, memory and output', () => {
  let sb: ToolSandbox;
  const logs = logSink();
  const echo = async () => JSON.parse(await sb.call('echo', '{"alive":true}')) as unknown;
  before(async () => {
    process.env.MPP_TEST_HOST_SECRET = 'host-only';
    sb = await createSandbox({
      component: miscComponent,
      // A time limit no finite probe here reaches, however loaded the machine: each test's
      // outcome is decided by the limit it is about (memory, output size, log budget), never by speed.
      grant: { env: { GRANTED_VAR: 'yes' }, limits: { timeoutMs: 600_000, memoryBytes: 128 * 1024 * 1024, maxOutputBytes: 64 * 1024, maxInputBytes: 1024 } },
      cacheDir: SANDBOX_CACHE,
      services: logs,
      logBudgetBytes: 16 * 1024,
    });
  });
  after(async () => {
    delete process.env.MPP_TEST_HOST_SECRET;
    await sb.dispose();
  });

  it('shows only granted environment variables', async () => {
    const r = JSON.parse(await sb.call('env', JSON.stringify({ name: 'MPP_TEST_HOST_SECRET' })));
    assert.deepEqual(r, { env: [['GRANTED_VAR', 'yes']], value: null });
  });

  it('exit ends the call, not the host', async () => {
    await rejectsWith(sb.call('exit', '{}'), 'MPP_E_TOOL_CRASHED', (e) => assert.equal(e.detail?.reason, 'exit'));
    assert.deepEqual(await echo(), { tool: 'echo', input: { alive: true } });
  });

  it('an infinite loop is stopped at the time limit', async () => {
    // Its own sandbox with a short limit: an infinite loop reaches any limit, so only this test depends on one.
    const looping = await createSandbox({ component: miscComponent, grant: { limits: { timeoutMs: 1_000 } }, cacheDir: SANDBOX_CACHE });
    try {
      await rejectsWith(looping.call('loop', '{}'), 'MPP_E_TOOL_TIMEOUT');
    } finally {
      await looping.dispose();
    }
    assert.deepEqual(await echo(), { tool: 'echo', input: { alive: true } });
  });

  it('a memory bomb stops at the memory limit', async () => {
    await rejectsWith(sb.call('memory', '{}'), 'MPP_E_TOOL_MEMORY');
    assert.deepEqual(await echo(), { tool: 'echo', input: { alive: true } });
    // Under the cap the tool gets a catchable out-of-memory and stays usable.
    const caught = JSON.parse(await sb.call('memory-catch', '{}')) as { caught: string };
    assert.match(caught.caught, /out of memory/i);
    assert.deepEqual(await echo(), { tool: 'echo', input: { alive: true } });
  });

  it('an output bomb is refused, and so is output that is not JSON', async () => {
    await rejectsWith(sb.call('output', JSON.stringify({ bytes: 1024 * 1024 })), 'MPP_E_OUTPUT_TOO_LARGE');
    await rejectsWith(sb.call('not-json', '{}'), 'MPP_E_OUTPUT_INVALID');
    assert.deepEqual(await echo(), { tool: 'echo', input: { alive: true } });
  });

  it('oversized or malformed input never reaches the tool', async () => {
    await rejectsWith(sb.call('echo', JSON.stringify({ pad: 'x'.repeat(2048) })), 'MPP_E_INPUT_TOO_LARGE');
    await rejectsWith(sb.call('echo', '{not json'), 'MPP_E_INPUT_INVALID');
  });

  it('a log flood is cut at the budget', async () => {
    logs.records.length = 0;
    await sb.call('log-flood', JSON.stringify({ lines: 5_000, size: 200 }));
    const tool = logs.records.filter((r) => r.source === 'tool');
    const bytes = tool.reduce((n, r) => n + r.message.length, 0);
    assert.ok(bytes <= 16 * 1024 + 8 * 1024, `kept ${bytes} bytes`);
    assert.ok(logs.records.some((r) => r.source === 'sandbox' && /budget/.test(r.message)));
  });

  it('a host service that never answers is cut by the time limit', async () => {
    const hung = await createSandbox({
      component: miscComponent,
      // The service never answers, so the limit is reached however long it is; long enough that the echo after it finishes under load.
      grant: { limits: { timeoutMs: 5_000 } },
      cacheDir: SANDBOX_CACHE,
      services: { log: () => {}, kv: { get: () => new Promise(() => {}), set: async () => {}, delete: async () => false, listKeys: async () => [] } },
    });
    try {
      await rejectsWith(hung.call('kv', JSON.stringify({ key: 'k' })), 'MPP_E_TOOL_TIMEOUT');
      assert.deepEqual(JSON.parse(await hung.call('echo', '{}')), { tool: 'echo', input: {} });
    } finally {
      await hung.dispose();
    }
  });
});
