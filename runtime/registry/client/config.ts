/**
 * The registries this host uses ($MPP_HOME/registries.json): each with its
 * pinned index key, a priority (lower first) and the scopes routed to it.
 * Routing is npm's `@scope:registry`: a name whose scope some registry
 * claims is looked up there only; other names in every unscoped registry,
 * by priority. No central server: each registry stands alone.
 */
import { readFileSync } from 'node:fs';
import { MppError } from '../../errors.ts';
import { parseStrictJson } from '../../format/strict-json.ts';
import { homePaths } from '../../home.ts';
import { compileSchema, describeSchemaError } from '../../schema.ts';
import { withFileLock, writeFileAtomic } from '../../store/atomic.ts';
import { publicKeyFromSpki, type PublicKey } from '../../trust/keys.ts';
import registrySchema from '../../../spec/registry.schema.json' with { type: 'json' };

export interface RegistryEntry {
  readonly name: string;
  /** Base URL, no trailing slash. */
  readonly url: string;
  /** The pinned key that must sign its index (SPKI DER, base64). */
  readonly publicKey: string;
  readonly keyid: string;
  readonly priority: number;
  readonly scopes: readonly string[];
}

interface RegistriesDocument {
  version: 1;
  registries: RegistryEntry[];
}

const validate = compileSchema<RegistriesDocument>(registrySchema, '#/$defs/registries');

export function loadRegistries(home: string): RegistryEntry[] {
  const path = homePaths(home).registries;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new MppError('MPP_E_IO', `Cannot read ${path}: ${(e as Error).message}.`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes);
  } catch (e) {
    throw corrupt(path, (e as Error).message, e);
  }
  if (!validate(doc)) throw corrupt(path, describeSchemaError(validate.errors));
  for (const r of doc.registries) if (pinnedKey(r).keyid !== r.keyid) throw corrupt(path, `the key of ${r.name} does not match its key id`);
  return [...doc.registries].sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : 1));
}

export function pinnedKey(r: RegistryEntry): PublicKey {
  return publicKeyFromSpki(Buffer.from(r.publicKey, 'base64'));
}

/** Adds or replaces (by name) a registry. */
/** The entry as it would be stored (nothing written): check it (fetch its index) before `addRegistry`. */
export function registryEntry(entry: Omit<RegistryEntry, 'publicKey' | 'keyid'> & { key: PublicKey }): RegistryEntry {
  return {
    name: entry.name,
    url: entry.url.replace(/\/+$/, ''),
    publicKey: Buffer.from(entry.key.spki).toString('base64'),
    keyid: entry.key.keyid,
    priority: entry.priority,
    scopes: [...entry.scopes],
  };
}

export async function addRegistry(home: string, record: RegistryEntry): Promise<RegistryEntry> {
  await update(home, (list) => [...list.filter((r) => r.name !== record.name), record]);
  return record;
}

export async function removeRegistry(home: string, name: string): Promise<void> {
  await update(home, (list) => {
    if (!list.some((r) => r.name === name)) throw unknownRegistry(`No registry is called "${name}".`);
    return list.filter((r) => r.name !== name);
  });
}

/** The registries to ask for `packageName`, in order. */
export function route(registries: readonly RegistryEntry[], packageName: string): RegistryEntry[] {
  if (registries.length === 0) throw unknownRegistry('No registry is configured.');
  const scope = packageName.split('/')[0]!;
  const scoped = registries.filter((r) => r.scopes.includes(scope));
  return scoped.length > 0 ? scoped : registries.filter((r) => r.scopes.length === 0);
}

/** A registry given by name or by URL, for commands that talk to one registry. */
export function pickRegistry(registries: readonly RegistryEntry[], which: string | undefined, packageName?: string): RegistryEntry {
  if (which) {
    const found = registries.find((r) => r.name === which || r.url === which.replace(/\/+$/, ''));
    if (!found) throw unknownRegistry(`No registry is called or at "${which}".`);
    return found;
  }
  const candidates = packageName ? route(registries, packageName) : registries;
  if (!candidates[0]) throw unknownRegistry(`No registry is configured for ${packageName ?? 'this'}.`);
  return candidates[0];
}

async function update(home: string, mutate: (list: RegistryEntry[]) => RegistryEntry[]): Promise<void> {
  const path = homePaths(home).registries;
  await withFileLock(path, () => {
    const doc: RegistriesDocument = { version: 1, registries: mutate(loadRegistries(home)) };
    // Never write a file every later command would refuse as corrupt.
    if (!validate(doc)) throw new MppError('MPP_E_USAGE', `That registry setting is not acceptable: ${describeSchemaError(validate.errors)}.`, { hint: 'Scopes are lowercase npm-style scope names; priorities are whole numbers in the range `mpp registry add --help` gives.' });
    writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n');
  });
}

export function unknownRegistry(message: string): MppError {
  return new MppError('MPP_E_REGISTRY_UNKNOWN', message);
}

function corrupt(path: string, why: string, cause?: unknown): MppError {
  return new MppError('MPP_E_REGISTRY_CONFIG_CORRUPT', `${path} is unusable: ${why}.`, { cause });
}
