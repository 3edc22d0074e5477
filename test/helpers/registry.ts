import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { addRegistry, registryEntry, type RegistryEntry } from '../../runtime/registry/client/config.ts';
import { startRegistry, type RegistryOptions, type RunningRegistry } from '../../runtime/registry/server/http.ts';
import { createToken, registryPaths } from '../../runtime/registry/server/store.ts';
import { parsePublicKeyPem } from '../../runtime/trust/keys.ts';
import { CLI } from './cli.ts';

/** An embedded registry in this process on a free loopback port, with a publishing token; closed when the test ends. */
export async function inProcessRegistry(t: { after(fn: () => unknown): void }, dir: string, opts: Partial<RegistryOptions> = {}): Promise<RunningRegistry & { token: string; dir: string }> {
  const server = await startRegistry({ port: 0, ...opts, dir });
  t.after(() => server.close());
  return { ...server, token: createToken(dir, 'test'), dir };
}

/** `mpp registry serve` as a real process; resolves once it listens. */
export async function servedRegistry(dir: string, args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'registry', 'serve', '--dir', dir, '--port', '0', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  let text = '';
  for await (const line of createInterface({ input: child.stdout! })) {
    text += line;
    try {
      return { child, url: (JSON.parse(text) as { url: string }).url };
    } catch {
      // the JSON document is not complete yet
    }
  }
  throw new Error(`mpp registry serve exited: ${err}`);
}

export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Configures `home` to use the registry in `dir` at `url`, pinning its key from the registry folder. */
export function useRegistry(home: string, dir: string, url: string, name = 'local', extra: Partial<Pick<RegistryEntry, 'priority' | 'scopes'>> = {}): Promise<RegistryEntry> {
  const key = parsePublicKeyPem(readFileSync(registryPaths(dir).publicKey, 'utf8'));
  return addRegistry(home, registryEntry({ name, url, key, priority: extra.priority ?? 100, scopes: extra.scopes ?? [] }));
}

export const registryBlobs = (dir: string) => join(dir, 'blobs');
