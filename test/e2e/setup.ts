/**
 * Prerequisites of the editor end-to-end tests, installed on first use and
 * cached under .cache/: Debian's chromium (apt, when running as root) and
 * code-server from npm (VS Code in the browser; Microsoft's download server,
 * which @vscode/test-electron needs, is unreachable here). See
 * ../shared/notes/vscode-e2e.md for the measured recipe.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/cli.ts';

const run = promisify(execFile);

/** VS Code 1.117: has every API the extension uses (MCP definition providers from 1.101); runs on Node 22. */
export const CODE_SERVER_VERSION = '4.117.0';
export const CHROMIUM = '/usr/bin/chromium';
const CACHE = join(ROOT, '.cache', 'e2e');

export function codeServerEntry(): string {
  return join(CACHE, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

export async function ensurePrerequisites(log: (line: string) => void): Promise<void> {
  await ensureChromium(log);
  await ensureCodeServer(log);
}

async function ensureChromium(log: (line: string) => void): Promise<void> {
  if (existsSync(CHROMIUM) && existsSync('/usr/bin/rg')) return;
  if (process.getuid?.() !== 0) throw new Error(`The editor tests need ${CHROMIUM} and ripgrep: apt-get install chromium fonts-dejavu-core ripgrep`);
  log('installing chromium and ripgrep with apt-get (once)…');
  await run('apt-get', ['update', '-qq'], { maxBuffer: 64 << 20 });
  await run('apt-get', ['install', '-y', '-qq', 'chromium', 'fonts-dejavu-core', 'ripgrep', 'libkrb5-dev'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 << 20,
  });
}

async function ensureCodeServer(log: (line: string) => void): Promise<void> {
  if (existsSync(codeServerEntry())) return;
  log(`installing code-server ${CODE_SERVER_VERSION} from npm into .cache/e2e (once, about a minute)…`);
  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(join(CACHE, '.code-server-'));
  const npmTmp = mkdtempSync(join(tmpdir(), 'mpp-e2e-npm-'));
  try {
    await seedRipgrep(npmTmp);
    writeFileSync(join(staging, 'package.json'), '{"private":true}\n');
    await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], {
      cwd: staging,
      // The postinstall runs `npx node-gyp` and, as root, needs unsafe-perm; TMPDIR holds the seeded ripgrep.
      // Native modules must build against this Node's headers (Node 22), not a system Node's.
      env: { ...process.env, TMPDIR: npmTmp, npm_config_unsafe_perm: 'true', npm_config_yes: 'true', npm_config_nodedir: dirname(dirname(process.execPath)) },
      maxBuffer: 256 << 20,
    });
    if (!existsSync(join(staging, 'node_modules', 'code-server', 'out', 'node', 'entry.js'))) throw new Error('code-server installed without out/node/entry.js');
    try {
      renameSync(staging, join(CACHE, `code-server-${CODE_SERVER_VERSION}`));
    } catch (e) {
      // Another test process installed it meanwhile: theirs is as good as ours.
      if (!existsSync(codeServerEntry())) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(npmTmp, { recursive: true, force: true });
  }
}

/**
 * @vscode/ripgrep downloads its binary from GitHub, unreachable here: put a
 * tarball of Debian's rg where its download code looks first, named as it
 * expects for the version code-server pins.
 */
async function seedRipgrep(npmTmp: string): Promise<void> {
  const peek = mkdtempSync(join(npmTmp, 'peek-'));
  const { stdout: tgz } = await run('npm', ['pack', '--silent', `code-server@${CODE_SERVER_VERSION}`], { cwd: peek, maxBuffer: 64 << 20 });
  await run('tar', ['xzf', tgz.trim(), 'package/lib/vscode/npm-shrinkwrap.json'], { cwd: peek });
  const shrinkwrap = JSON.parse(readFileSync(join(peek, 'package', 'lib', 'vscode', 'npm-shrinkwrap.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  const rgVersion = shrinkwrap.packages['node_modules/@vscode/ripgrep']!.version;
  const { stdout: rgTgz } = await run('npm', ['pack', '--silent', `@vscode/ripgrep@${rgVersion}`], { cwd: peek });
  rmSync(join(peek, 'package'), { recursive: true });
  await run('tar', ['xzf', rgTgz.trim(), 'package/lib/postinstall.js'], { cwd: peek });
  const binaryVersion = /^const VERSION = '([^']+)'/m.exec(readFileSync(join(peek, 'package', 'lib', 'postinstall.js'), 'utf8'))![1];
  const target = process.arch === 'arm64' ? 'aarch64-unknown-linux-musl' : 'x86_64-unknown-linux-musl';
  const dir = join(npmTmp, `vscode-ripgrep-cache-${rgVersion}`);
  mkdirSync(dir, { recursive: true });
  await run('tar', ['czf', join(dir, `ripgrep-${binaryVersion}-${target}.tar.gz`), '-C', '/usr/bin', 'rg']);
  rmSync(peek, { recursive: true, force: true });
}

if (import.meta.main) await ensurePrerequisites((l) => process.stderr.write(`${l}\n`));
