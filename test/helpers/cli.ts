import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The bundled CLI, as users run it (`npm test` builds it first). */
export const CLI = join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mpp` in a child process with its own MPP_HOME; stdin is closed unless given. */
export function mpp(args: string[], opts: { home: string; cwd?: string; input?: string; env?: Record<string, string> }): Promise<CliResult> {
  mkdirSync(opts.cwd ?? opts.home, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? opts.home,
      env: { PATH: process.env.PATH ?? '', HOME: opts.home, MPP_HOME: opts.home, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A line typed once `when` appears, or keys pressed as they are (`press: '\x04'` is Ctrl-D, `'\x03'` Ctrl-C). */
export type TerminalAnswer = { when: RegExp; say: string } | { when: RegExp; press: string };

/**
 * Runs `mpp` attached to a pseudo-terminal (util-linux `script`), so the CLI
 * believes a human is there; `answers` are typed in as that human.
 */
export function mppInTerminal(args: string[], opts: { home: string; cwd?: string; answers: string | readonly TerminalAnswer[] }): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  mkdirSync(opts.cwd ?? opts.home, { recursive: true });
  // Each answer is typed once its question has appeared (counted from where the previous one was).
  const steps: TerminalAnswer[] = typeof opts.answers === 'string' ? [{ when: /\[y\/N\]/, say: opts.answers }] : [...opts.answers];
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: opts.cwd ?? opts.home,
      env: { PATH: process.env.PATH ?? '', HOME: opts.home, MPP_HOME: opts.home, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let seen = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: '' }));
    const timer = setInterval(() => {
      const step = steps[0];
      if (!step) return;
      const match = step.when.exec(stdout.slice(seen));
      if (!match) return;
      seen += match.index + match[0].length;
      steps.shift();
      child.stdin.write('say' in step ? `${step.say}\n` : step.press);
      if (steps.length === 0) {
        clearInterval(timer);
        child.stdin.end();
      }
    }, 20);
    child.on('close', () => clearInterval(timer));
  });
}

/** A fresh folder, removed when the test (or suite) that asked for it ends. */
export function tempDir(t: { after(fn: () => void): void }, label: string): string {
  const path = mkdtempSync(join(tmpdir(), `mpp-${label}-`));
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

/**
 * A snapshot without the audit log (`audit.db`, `audit.head`, `audit/`): a
 * refusal writes nothing else, but it is recorded (spec/audit.md).
 */
export function withoutAudit(snap: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(snap).filter(([path]) => !/^audit(\.|\/|$)/.test(path)));
}

/** Every file below `dir` with its SHA-256: equal snapshots mean nothing was written. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(p).isDirectory()) walk(p, r);
      else out[r] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}
