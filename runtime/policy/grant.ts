import { realpathSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { MppError } from '../errors.ts';
import type { FsPermission, KvPermission, Manifest, NetPermission } from '../format/manifest.ts';
import { defaultPort, type GrantInput } from '../sandbox/grant.ts';
import { isWithin } from '../paths.ts';

/**
 * What the user allows a package, always a subset of what its manifest asks
 * for: deny by default, and a request for something the package never
 * declared is refused (not silently widened). This is policy only; the
 * sandbox enforces the resulting grant.
 *
 * Folder permissions are declared relative to `${workspace}` or `${home}` and
 * appear to the tool under `/workspace` and `/home`, whatever the host paths.
 */
export interface GrantRequest {
  /** Host folder `${workspace}` stands for. */
  workspace: string;
  /** Host folder `${home}` stands for. */
  home: string;
  /** MPP's own folder (trust store, keys, installed code, KV data): never granted, whatever is declared. */
  mppHome: string;
  /** Host folders to allow reading (each inside a declared folder). */
  read: string[];
  /** Host folders to allow reading and writing (each inside a declared read-write folder). */
  write: string[];
  /** Origins `scheme://host[:port]` to allow (each matching a declared host). */
  net: string[];
  /** Environment variable names to pass (each declared). */
  env: string[];
  kv: boolean;
  /** Everything the manifest declares. */
  all: boolean;
}

export interface UserGrant {
  readonly grant: Omit<GrantInput, 'limits'>;
  /** The KV quota, when KV storage is allowed. */
  readonly kv: KvPermission | undefined;
}

const notDeclared = (what: string): MppError =>
  new MppError('MPP_E_GRANT_NOT_DECLARED', `The package does not ask to ${what}, so it cannot be allowed to.`, {
    hint: 'Run `mpp inspect` to see what the package asks for; only those capabilities (or narrower ones) can be granted.',
  });

const GUEST_ROOT = { workspace: '/workspace', home: '/home' } as const;

interface DeclaredFolder {
  readonly permission: FsPermission;
  readonly hostPath: string;
  readonly guestPath: string;
}

function declaredFolders(m: Manifest, req: GrantRequest): DeclaredFolder[] {
  return (m.permissions?.filesystem ?? []).map((p) => {
    const match = /^\$\{(workspace|home)\}(.*)$/.exec(p.path)!;
    const base = match[1] as 'workspace' | 'home';
    const rest = match[2] ?? '';
    return { permission: p, hostPath: resolve(req[base], `.${rest}`), guestPath: `${GUEST_ROOT[base]}${rest}` };
  });
}

/** Where a declared folder really is in this workspace and home, and whether that stays inside its root. */
export interface FolderTarget {
  /** The folder as declared, on this host (`${workspace}/linked` -> /work/repo/linked). */
  readonly hostPath: string;
  /** Its real path (every symbolic link followed); undefined when it does not exist. */
  readonly realPath: string | undefined;
  /** False when a symbolic link carries it outside the real path of `${workspace}` or `${home}`: never granted. */
  readonly insideRoot: boolean;
}

/**
 * Resolves a declared folder (`${workspace}/…`, `${home}/…`) the way every
 * grant is resolved: both the root and the folder through their symbolic
 * links, now. A root that is itself a link is the user's choice; a link below
 * it (a cloned repository can contain one, and a checkout can re-point it)
 * must not take the folder outside the root.
 */
export function folderTarget(declared: string, roots: { readonly workspace: string; readonly home: string }): FolderTarget {
  const match = /^\$\{(workspace|home)\}(.*)$/.exec(declared);
  if (!match) throw new MppError('MPP_E_GRANT_INVALID', `${declared} is not a declared folder.`);
  const root = roots[match[1] as 'workspace' | 'home'];
  const hostPath = resolve(root, `.${match[2] ?? ''}`);
  let realPath: string;
  let realRoot: string;
  try {
    realPath = realpathSync(hostPath);
    realRoot = realpathSync(root);
  } catch {
    return { hostPath, realPath: undefined, insideRoot: true };
  }
  return { hostPath, realPath, insideRoot: isWithin(realPath, realRoot) };
}

/** A declared folder that a symbolic link takes outside its root: refused, whoever asks. */
function outsideRoot(declared: string, t: FolderTarget): MppError {
  return new MppError('MPP_E_GRANT_INVALID', `${declared} is ${t.hostPath}, a symbolic link to ${t.realPath}, outside ${declared.startsWith('${workspace}') ? 'the workspace folder' : 'the home folder'}: a grant never reaches outside its declared folder.`, {
    hint: `Remove the link ${t.hostPath} or re-point it inside its folder; to let a tool use ${t.realPath}, open that folder as the workspace.`,
    detail: { declared, hostPath: t.hostPath, realPath: t.realPath },
  });
}

function realDir(path: string): string {
  try {
    return realpathSync(path);
  } catch (e) {
    throw new MppError('MPP_E_IO', `Cannot grant ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message}.`, {
      hint: 'Create the folder first, or grant another one.',
      cause: e,
    });
  }
}

function grantFolder(folders: DeclaredFolder[], path: string, write: boolean, req: GrantRequest): { hostPath: string; guestPath: string; write: boolean } {
  const host = realDir(resolve(path));
  refuseMppHome(host, req.mppHome);
  for (const f of folders) {
    if (write && f.permission.access !== 'read-write') continue;
    const t = folderTarget(f.permission.path, req);
    if (t.realPath === undefined) continue;
    const asked = isWithin(host, t.realPath) || isWithin(resolve(path), t.hostPath);
    if (asked && !t.insideRoot) throw outsideRoot(f.permission.path, t);
    if (isWithin(host, t.realPath)) {
      const rel = relative(t.realPath, host);
      return { hostPath: host, guestPath: rel === '' ? f.guestPath : `${f.guestPath}/${rel.split(sep).join('/')}`, write };
    }
  }
  throw notDeclared(`${write ? 'write' : 'read'} files in ${host}`);
}

/**
 * A grant that contains MPP's own folder, or lies inside it, would let a tool
 * read signing keys or rewrite the trust store, installed code or another
 * package's data: refused even when a package declares `${home}`.
 */
function refuseMppHome(host: string, mppHome: string): void {
  let home: string;
  try {
    home = realpathSync(mppHome);
  } catch {
    return; // Not created yet: nothing of MPP's to reach.
  }
  if (isWithin(home, host) || isWithin(host, home)) {
    throw new MppError('MPP_E_GRANT_INVALID', `${host} holds MPP's own data (${home}), which no tool may reach.`, {
      hint: 'Grant a folder that neither contains nor lies inside the MPP home (MPP_HOME).',
    });
  }
}

function hostMatches(declared: string, host: string): boolean {
  return declared.startsWith('*.') ? host.endsWith(declared.slice(1)) && host.length > declared.length - 1 : declared === host;
}

function grantOrigin(declared: readonly NetPermission[], origin: string): { scheme: string; host: string; port: number; methods: string[] } {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new MppError('MPP_E_USAGE', `${JSON.stringify(origin)} is not an origin.`, { hint: 'Give scheme://host[:port], like https://api.example.com or http://127.0.0.1:8080.' });
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new MppError('MPP_E_USAGE', `${JSON.stringify(origin)} has a user, path or query.`, { hint: 'Give only scheme://host[:port]; every path on a granted origin is allowed.' });
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') {
    throw new MppError('MPP_E_USAGE', `${JSON.stringify(origin)} is not an http or https origin.`, { hint: 'Tools reach the network over HTTP only: give http://host[:port] or https://host[:port].' });
  }
  const port = url.port ? Number(url.port) : defaultPort(scheme);
  const host = url.hostname;
  const match = declared.find((p) => p.scheme === scheme && hostMatches(p.host, host) && (p.port ?? defaultPort(p.scheme)) === port);
  if (!match) throw notDeclared(`connect to ${scheme}://${host}:${port}`);
  return { scheme, host, port, methods: [...match.methods] };
}

export function userGrant(m: Manifest, req: GrantRequest, env: NodeJS.ProcessEnv = process.env): UserGrant {
  const folders = declaredFolders(m, req);
  const declaredNet = m.permissions?.network ?? [];
  const declaredEnv = (m.permissions?.environment ?? []).map((e) => e.name);

  const fs = [...req.read.map((p) => grantFolder(folders, p, false, req)), ...req.write.map((p) => grantFolder(folders, p, true, req))];
  const net = req.net.map((o) => grantOrigin(declaredNet, o));
  for (const name of req.env) if (!declaredEnv.includes(name)) throw notDeclared(`read the environment variable ${name}`);
  const envNames = new Set(req.env);
  if (req.all) {
    for (const f of folders) {
      const t = folderTarget(f.permission.path, req);
      if (!t.insideRoot) throw outsideRoot(f.permission.path, t);
      const hostPath = realDir(f.hostPath);
      refuseMppHome(hostPath, req.mppHome);
      fs.push({ hostPath, guestPath: f.guestPath, write: f.permission.access === 'read-write' });
    }
    for (const p of declaredNet) {
      // A wildcard cannot be granted wholesale: the user names the concrete hosts with --allow-net.
      if (!p.host.startsWith('*.')) net.push({ scheme: p.scheme, host: p.host, port: p.port ?? defaultPort(p.scheme), methods: [...p.methods] });
    }
    for (const name of declaredEnv) envNames.add(name);
  }
  const granted: Record<string, string> = {};
  for (const name of envNames) {
    const value = env[name];
    if (value === undefined) {
      if (req.env.includes(name)) throw new MppError('MPP_E_USAGE', `The environment variable ${name} is not set, so there is nothing to pass.`, { hint: `Set ${name} in the environment of the command, or leave out --allow-env ${name}.` });
      continue;
    }
    granted[name] = value;
  }
  const kvDeclared = m.permissions?.kv;
  if (req.kv && !kvDeclared) throw notDeclared('keep data in a key-value store');
  return Object.freeze({ grant: { fs, net, env: granted }, kv: req.kv || req.all ? kvDeclared : undefined });
}
