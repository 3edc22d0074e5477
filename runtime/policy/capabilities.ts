import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MppError } from '../errors.ts';
import { describePermissions, type PermissionDescription } from '../format/describe.ts';
import type { Manifest } from '../format/manifest.ts';
import { defaultPort } from '../sandbox/grant.ts';
import { userGrant, type UserGrant } from './grant.ts';

/**
 * Capabilities are named by the stable ids of spec/manifest.md section 5
 * (`fs:${workspace}/src:read`, `net:https://api.example.com`, `env:TOKEN`,
 * `kv`). Stored grants and audit records hold these ids, never host paths,
 * so one grant resolves per workspace at call time.
 *
 * A wildcard network declaration is never granted wholesale: its grantable
 * ids are concrete origins under it (`net:https://a.example.com`).
 */
export function declaredCapabilities(m: Manifest): PermissionDescription[] {
  return describePermissions(m);
}

const isWildcard = (c: PermissionDescription) => c.kind === 'network' && c.id.includes('://*.');

/** Ids a user can grant with one word: every declaration except wildcard hosts. */
export function grantableIds(m: Manifest): string[] {
  return declaredCapabilities(m)
    .filter((c) => !isWildcard(c))
    .map((c) => c.id);
}

interface NetId {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

export function parseNetId(id: string): NetId | undefined {
  const m = /^net:(https?):\/\/([^/:?#@\s]+)(?::([0-9]{1,5}))?$/.exec(id);
  if (!m) return undefined;
  const scheme = m[1] as 'http' | 'https';
  const port = m[3] === undefined ? defaultPort(scheme) : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { scheme, host: m[2]!.toLowerCase(), port };
}

/**
 * One spelling per capability, for comparing ids a user typed with stored
 * ones: network ids with a lower-case host and no default port.
 */
export function canonicalCapabilityId(id: string): string {
  const net = parseNetId(id);
  return net ? `net:${net.scheme}://${net.host}${net.port === defaultPort(net.scheme) ? '' : `:${net.port}`}` : id;
}

export function hostMatches(declared: string, host: string): boolean {
  return declared.startsWith('*.') ? host.endsWith(declared.slice(1)) && host.length > declared.length - 1 : declared === host;
}

/**
 * The id as stored for a capability the manifest allows, or a refusal: an id
 * the package never declared cannot be granted. A declared capability keeps
 * its declared spelling (however the user typed it), so stored grants and the
 * manifest's ids always compare equal; a concrete host under a wildcard is
 * stored in canonical form.
 */
export function checkCapabilityId(m: Manifest, id: string): string {
  const declared = declaredCapabilities(m);
  const canonical = canonicalCapabilityId(id);
  const exact = declared.find((c) => !isWildcard(c) && canonicalCapabilityId(c.id) === canonical);
  if (exact) return exact.id;
  const net = parseNetId(id);
  if (net && !net.host.startsWith('*.')) {
    const match = (m.permissions?.network ?? []).some((p) => p.scheme === net.scheme && hostMatches(p.host, net.host) && (p.port ?? defaultPort(p.scheme)) === net.port);
    if (match) return canonical;
  }
  throw new MppError('MPP_E_GRANT_NOT_DECLARED', `${m.name} does not declare the capability ${JSON.stringify(id)}.`, {
    hint: `Its capabilities are: ${declared.map((c) => c.id).join(', ') || 'none'}. A wildcard host is granted by naming a concrete origin, like net:https://api.example.com.`,
  });
}

export interface ResolveContext {
  /** Host folder `${workspace}` stands for in this call. */
  readonly workspace: string;
  readonly home: string;
  /** MPP's own folder: never granted. */
  readonly mppHome: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The sandbox grant for a set of granted ids, in one workspace. Ids the
 * current manifest no longer declares are dropped (an update may narrow);
 * a declared folder missing from this workspace and an unset variable are
 * simply not there to grant.
 */
export function grantFromCapabilities(m: Manifest, ids: readonly string[], ctx: ResolveContext): UserGrant {
  const read: string[] = [];
  const write: string[] = [];
  const net: string[] = [];
  const envNames: string[] = [];
  let kv = false;
  const env = ctx.env ?? process.env;
  for (const raw of ids) {
    let id: string;
    try {
      id = checkCapabilityId(m, raw);
    } catch {
      continue;
    }
    const fs = /^fs:\$\{(workspace|home)\}(.*):(read|read-write)$/.exec(id);
    if (fs) {
      const base = fs[1] === 'workspace' ? ctx.workspace : ctx.home;
      const path = resolve(base, `.${fs[2] ?? ''}`);
      if (!existsSync(path)) continue;
      (fs[3] === 'read' ? read : write).push(path);
    } else if (id.startsWith('net:')) {
      net.push(id.slice(4));
    } else if (id.startsWith('env:')) {
      if (env[id.slice(4)] !== undefined) envNames.push(id.slice(4));
    } else if (id === 'kv') {
      kv = true;
    }
  }
  return userGrant(m, { workspace: ctx.workspace, home: ctx.home, mppHome: ctx.mppHome, read, write, net, env: envNames, kv, all: false }, env);
}
