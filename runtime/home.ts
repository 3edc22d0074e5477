import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The MPP home folder: `$MPP_HOME`, else `$XDG_DATA_HOME/mpp`, else
 * `~/.local/share/mpp` (`%APPDATA%\mpp` on Windows). Everything MPP keeps
 * lives below it, laid out by `homePaths`.
 */
export function mppHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MPP_HOME) return env.MPP_HOME;
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'mpp');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'mpp');
  return join(homedir(), '.local', 'share', 'mpp');
}

export interface HomePaths {
  /** Trusted and revoked publisher keys (JSON). */
  readonly trust: string;
  /** Signing keys made by `mpp keygen`. */
  readonly keys: string;
  /** SQLite: the index of installed packages, the user's grants, registered agents and issued attestations. */
  readonly db: string;
  /** Installed packages, content-addressed: `<sha256 of the .mpp file>.mpp`. */
  readonly packages: string;
  /** Transpiled components, keyed by component digest (trusted code: never granted to a tool). */
  readonly componentCache: string;
  /** Per-package key-value stores: `kv/<scope>/<name>.sqlite`. */
  readonly kv: string;
  /** SQLite: the hash-chained audit log (audit.md). */
  readonly audit: string;
  /** The audit chain head (the newest record as one JSONL line), rewritten with every append: makes deleting the newest records detectable. */
  readonly auditHead: string;
  /** Rotated audit segments: `<first seq>-<last seq>.jsonl`. */
  readonly auditArchive: string;
  /** The registries this host uses, with their pinned keys (JSON, spec/registry.schema.json). */
  readonly registries: string;
  /** SQLite: what each registry's signed index said last (rollback and freeze protection, offline installs). */
  readonly registryState: string;
  /** Package files downloaded from registries, content-addressed, for installs while a registry is down. */
  readonly downloads: string;
}

export function homePaths(home: string): HomePaths {
  return Object.freeze({
    trust: join(home, 'trust.json'),
    keys: join(home, 'keys'),
    db: join(home, 'mpp.db'),
    packages: join(home, 'packages'),
    componentCache: join(home, 'cache', 'components'),
    kv: join(home, 'kv'),
    audit: join(home, 'audit.db'),
    auditHead: join(home, 'audit.head'),
    auditArchive: join(home, 'audit'),
    registries: join(home, 'registries.json'),
    registryState: join(home, 'registry.db'),
    downloads: join(home, 'cache', 'downloads'),
  });
}

/** The KV database of one package (name `scope/name`, validated by the manifest schema). */
export function kvDatabasePath(home: string, packageName: string): string {
  const [scope, name] = packageName.split('/') as [string, string];
  return join(homePaths(home).kv, scope, `${name}.sqlite`);
}
