import { resolve } from 'node:path';
import { MppError } from '../../runtime/errors.ts';
import { mppHome } from '../../runtime/home.ts';
import { addRegistry, registryEntry, loadRegistries, pickRegistry, removeRegistry } from '../../runtime/registry/client/config.ts';
import { transfer } from '../../runtime/registry/client/http.ts';
import { postRotation, postYank } from '../../runtime/registry/client/publish.ts';
import { fetchIndex } from '../../runtime/registry/client/signed-index.ts';
import { createRotation, createYank } from '../../runtime/registry/documents.ts';
import { REGISTRY_DEFAULTS, startRegistry } from '../../runtime/registry/server/http.ts';
import { createToken, registryPaths } from '../../runtime/registry/server/store.ts';
import { fingerprint, parsePrivateKeyPem, parsePublicKeyPem, type PublicKey } from '../../runtime/trust/keys.ts';
import type { CliContext, RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { integerOption, usage } from '../output.ts';
import { publishToken, transferTiming } from '../transfer.ts';

const KEYID_RE = /^[0-9a-f]{64}$/;

export const registerRegistry: RegisterCommand = (program, run) => {
  const registry = program.command('registry').description('Run an MPP registry, and choose the registries this host installs from.');

  registry
    .command('serve')
    .description('Serve a registry (HTTP API and web pages) from a folder; creates its signing key on first start. Runs until stopped.')
    .option('--dir <dir>', 'where the registry keeps its database, packages and key', 'mpp-registry')
    .option('--host <host>', 'address to listen on (loopback by default)', REGISTRY_DEFAULTS.host)
    .option('--port <port>', 'port (0: any free port)', String(REGISTRY_DEFAULTS.port))
    .option('--max-package-bytes <n>', 'largest package accepted', String(REGISTRY_DEFAULTS.maxPackageBytes))
    .option('--request-timeout <ms>', 'time a client has to send a whole request', String(REGISTRY_DEFAULTS.requestTimeoutMs))
    .option('--index-ttl <seconds>', 'lifetime of a signed index', String(REGISTRY_DEFAULTS.indexTtlMs / 1000))
    .option('--json', 'print where it listens as one JSON line')
    .action((opts: { dir: string; host: string; port: string; maxPackageBytes: string; requestTimeout: string; indexTtl: string; json?: boolean }) =>
      run(async ({ out }) => {
        const dir = resolve(opts.dir);
        const server = await startRegistry({
          dir,
          host: opts.host,
          port: integerOption(opts.port, '--port', 0, 65535),
          maxPackageBytes: integerOption(opts.maxPackageBytes, '--max-package-bytes', 1),
          requestTimeoutMs: integerOption(opts.requestTimeout, '--request-timeout', 1),
          indexTtlMs: integerOption(opts.indexTtl, '--index-ttl', 1) * 1000,
        });
        const publicKeyFile = registryPaths(dir).publicKey;
        out.result(
          `Registry serving ${dir}\n  url:         ${server.url}\n  index key:   ${fingerprint(server.keyid)}\n  key id:      ${server.keyid}\n  public key:  ${publicKeyFile}\n` +
            `Clients: mpp registry add <name> ${server.url} --key ${publicKeyFile}`,
          { url: server.url, keyid: server.keyid, publicKeyFile, dir },
        );
        await new Promise<void>((done) => {
          const stop = () => server.close().then(done, done);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }, opts),
    );

  registry
    .command('token')
    .description('Manage publishing tokens of a registry served from a folder.')
    .command('create')
    .description('Create a publishing token. It is shown once and stored only as its SHA-256.')
    .option('--dir <dir>', 'the registry folder', 'mpp-registry')
    .option('-n, --name <label>', 'what the token is for', 'publisher')
    .option('--json', 'print the result as JSON')
    .action((opts: { dir: string; name: string; json?: boolean }) =>
      run(async ({ out }) => {
        const token = createToken(resolve(opts.dir), opts.name);
        out.result(`${token}\nKeep it secret; it is not shown again. Publish with --token or MPP_REGISTRY_TOKEN.`, { token, name: opts.name });
      }, opts),
    );

  registry
    .command('add')
    .description('Use a registry: pins the key its index must be signed with. Asks to confirm the key unless --key gives it.')
    .argument('<name>', 'a short name for it (lowercase letters, digits, -)')
    .argument('<url>', 'its base URL, e.g. http://127.0.0.1:7878')
    .option('-k, --key <pub.pem|keyid>', 'the registry key, as its public key file or its key id (from the operator)')
    .option('--priority <n>', 'lower is asked first', '100')
    .option('--scope <scope...>', 'route only these package scopes to it (npm-style @scope:registry)')
    .option('--timeout <ms>', 'time limit for the check')
    .option('--json', 'print the result as JSON')
    .action((name: string, url: string, opts: { key?: string; priority: string; scope?: string[]; timeout?: string; json?: boolean }) =>
      run(async (ctx) => {
        if (!/^[a-z0-9][a-z0-9-]{0,38}$/.test(name)) throw usage('A registry name is lowercase letters, digits and -, up to 39 characters.');
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw usage(`"${url}" is not a URL.`);
        }
        if (!/^https?:$/.test(parsed.protocol) || parsed.pathname !== '/' || parsed.search) throw usage('The registry URL is http(s)://host[:port], without a path.');
        const base = parsed.origin;
        const timing = transferTiming(opts.timeout);
        const key = await pinKey(ctx, base, opts.key, timing);
        const entry = registryEntry({ name, url: base, key, priority: integerOption(opts.priority, '--priority', 0, 1_000_000), scopes: (opts.scope ?? []).map((s) => s.replace(/^@/, '')) });
        // The first index is checked before anything is stored: a wrong key or a dead URL changes nothing.
        const believed = await fetchIndex(mppHome(), entry, timing);
        await addRegistry(mppHome(), entry);
        ctx.out.result(`Added registry "${name}" at ${base}, index key ${fingerprint(key.keyid)} (index version ${believed.index.version}, ${Object.keys(believed.index.packages).length} packages).`, {
          name, url: base, keyid: key.keyid, priority: entry.priority, scopes: entry.scopes, indexVersion: believed.index.version,
        });
      }, opts),
    );

  registry
    .command('remove')
    .description('Stop using a registry.')
    .argument('<name>', 'its name, as `mpp registry list` shows it')
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { json?: boolean }) =>
      run(async ({ out }) => {
        await removeRegistry(mppHome(), name);
        out.result(`Removed registry "${name}".`, { name });
      }, opts),
    );

  registry
    .command('list')
    .description('The registries this host uses, in the order they are asked.')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const list = loadRegistries(mppHome());
        const text = list.length === 0
          ? 'No registries. Add one with `mpp registry add <name> <url> --key <pub.pem>`.'
          : list.map((r) => `${r.name}  ${r.url}  priority ${r.priority}${r.scopes.length ? `  scopes ${r.scopes.join(',')}` : ''}\n  index key ${fingerprint(r.keyid)}`).join('\n');
        out.result(text, { registries: list.map(({ publicKey: _, ...r }) => r) });
      }, opts),
    );

  registry
    .command('yank')
    .description('Hide a published version from resolution (it stays downloadable for those who have it), with a statement signed by the name\'s key; --undo reverses it.')
    .argument('<name@version>', 'the version to yank')
    .requiredOption('--key <key.pem>', 'the private key (PKCS#8 PEM) the name is bound to, which signs the statement')
    .option('--undo', 'unyank')
    .option('-r, --registry <name|url>', 'which registry (default: the first routed for the name)')
    .option('--token <token>', 'publishing token (default: $MPP_REGISTRY_TOKEN)')
    .option('--json', 'print the result as JSON')
    .action((spec: string, opts: { key: string; undo?: boolean; registry?: string; token?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const m = /^([^@]+)@(.+)$/.exec(spec);
        if (!m) throw usage('Give the version as scope/name@1.2.3.');
        const key = parsePrivateKeyPem(readUserFile(opts.key, 'key file').toString('utf8'), opts.key);
        const target = pickRegistry(loadRegistries(mppHome()), opts.registry, m[1]!);
        await postYank(target, m[1]!, m[2]!, !opts.undo, createYank(key, m[1]!, m[2]!, !opts.undo), publishToken(opts.token));
        out.result(`${opts.undo ? 'Unyanked' : 'Yanked'} ${spec} on "${target.name}".`, { name: m[1], version: m[2], yanked: !opts.undo, registry: target.name });
      }, opts),
    );

  registry
    .command('rotate')
    .description('Hand every name bound to your old key over to a new key: publishes a statement signed by the old key.')
    .requiredOption('--key <old.pem>', 'the old private key (PKCS#8 PEM), which signs the statement')
    .requiredOption('--new-key <new.pem>', 'the new key (public or private PEM)')
    .option('-r, --registry <name|url>', 'which registry (default: the first configured)')
    .option('--token <token>', 'publishing token (default: $MPP_REGISTRY_TOKEN)')
    .option('--json', 'print the result as JSON')
    .action((opts: { key: string; newKey: string; registry?: string; token?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const old = parsePrivateKeyPem(readUserFile(opts.key, 'key file').toString('utf8'), opts.key);
        const next = parsePublicKeyPem(readUserFile(opts.newKey, 'key file').toString('utf8'), opts.newKey);
        const target = pickRegistry(loadRegistries(mppHome()), opts.registry);
        const r = await postRotation(target, createRotation(old, next), publishToken(opts.token));
        out.result(`Rotated ${fingerprint(old.publicKey.keyid)} -> ${fingerprint(next.keyid)} for ${r.names.join(', ')} on "${target.name}".`, { from: old.publicKey.keyid, to: next.keyid, names: r.names });
      }, opts),
    );
};

/**
 * The key to pin: a PEM file is taken as given; a key id is checked against
 * the key the registry serves; nothing at all means showing the served key's
 * fingerprint to a human and pinning it only on "yes" (trust on first use).
 */
async function pinKey(ctx: CliContext, base: string, given: string | undefined, timing: { timeoutMs?: number }): Promise<PublicKey> {
  if (given && !KEYID_RE.test(given)) return parsePublicKeyPem(readUserFile(given, 'registry key').toString('utf8'), given);
  if (!given && (!ctx.interactive || ctx.out.json)) {
    throw new MppError('MPP_E_REGISTRY_NEEDS_KEY', `Pinning the key of ${base} needs its key from the operator (--key), or a terminal to confirm its fingerprint.`);
  }
  const served = parsePublicKeyPem((await transfer(`${base}/v1/key`, { ...timing, maxBytes: 4096 })).body.toString('utf8'), `the key served by ${base}`);
  if (given) {
    if (served.keyid !== given) throw new MppError('MPP_E_REGISTRY_BAD_SIGNATURE', `${base} serves key ${fingerprint(served.keyid)}, not the key id you gave (${fingerprint(given)}).`);
    return served;
  }
  process.stderr.write(`${base} signs its index with key\n  key id:      ${served.keyid}\n  fingerprint: ${fingerprint(served.keyid)}\nCompare it with the one its operator gave you.\n`);
  if (!/^y(es)?$/i.test(await ctx.ask('Pin this key for the registry? [y/N] '))) {
    throw new MppError('MPP_E_REGISTRY_NEEDS_KEY', 'You did not confirm the registry key; nothing was changed.', { hint: 'Run the command again and answer yes, or pass --key.' });
  }
  return served;
}

