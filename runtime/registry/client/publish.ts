/** The writing side of the registry API (publish, yank, rotate; token-authenticated) and search. */
import { refuseDevelopmentPackage } from '../../trust/development.ts';
import { MppError } from '../../errors.ts';
import type { Published } from '../server/publish.ts';
import { compileSchema, describeSchemaError, type Validator } from '../../schema.ts';
import { examinePackage, type ExaminedPackage } from '../../trust/gatekeeper.ts';
import registrySchema from '../../../spec/registry.schema.json' with { type: 'json' };
import type { RegistryEntry } from './config.ts';
import { transfer, type Progress, type TransferTiming } from './http.ts';
import type { SearchResult } from '../server/web.ts';
import { parseJson } from '../../format/strict-json.ts';

/** The server's `Published` without `change`, which the HTTP status carries (201 or 200). */
export type PublishAnswer = Omit<Published, 'change'>;

const validatePublished = compileSchema<PublishAnswer>(registrySchema, '#/$defs/published');
const validateRotated = compileSchema<{ names: string[] }>(registrySchema, '#/$defs/rotated');
const validateSearch = compileSchema<{ results: SearchResult[] }>(registrySchema, '#/$defs/searchResults');
const SMALL = 1024 * 1024;

type Timing = TransferTiming;

/** Examined here first, so a damaged or unsigned package is refused before any upload. */
/** What every publish (registry or OCI) checks first: a well-formed package with an author signature. */
export function examineForPublish(bytes: Uint8Array): ExaminedPackage {
  const pkg = examinePackage(bytes);
  refuseDevelopmentPackage(pkg, 'publish');
  if (!pkg.signatures.some((s) => s.role === 'author')) {
    throw new MppError('MPP_E_UNSIGNED', `${pkg.manifest.name}@${pkg.manifest.version} has no author signature; registries only accept signed packages.`, {
      hint: 'Sign it first: `mpp sign <file.mpp> --key <key.pem>`.',
    });
  }
  return pkg;
}

export async function publishPackage(registry: RegistryEntry, bytes: Uint8Array, token: string, opts: Timing & { onProgress?: Progress } = {}): Promise<PublishAnswer & { created: boolean }> {
  examineForPublish(bytes);
  const res = await transfer(`${registry.url}/v1/packages`, {
    ...opts,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.mpp.package.v1+zip' },
    body: bytes,
    maxBytes: SMALL,
  });
  return { ...parse(res.body, validatePublished, registry), created: res.status === 201 };
}

/** Posts a yank statement (documents.ts `createYank`, signed by the name's key) for the version it names. */
export async function postYank(registry: RegistryEntry, name: string, version: string, yanked: boolean, statement: Uint8Array, token: string, opts: TransferTiming = {}): Promise<void> {
  await transfer(`${registry.url}/v1/packages/${name}/${encodeURIComponent(version)}/${yanked ? 'yank' : 'unyank'}`, {
    ...opts,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: statement,
    maxBytes: SMALL,
  });
}

export async function postRotation(registry: RegistryEntry, statement: Uint8Array, token: string, opts: Timing = {}): Promise<{ names: string[] }> {
  const res = await transfer(`${registry.url}/v1/rotations`, {
    ...opts,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: statement,
    maxBytes: SMALL,
  });
  return { names: parse(res.body, validateRotated, registry).names };
}

/** Search results are a listing only: what gets installed is decided by the signed index. */
export async function searchRegistry(registry: RegistryEntry, text: string, opts: Timing = {}): Promise<SearchResult[]> {
  const res = await transfer(`${registry.url}/v1/search?q=${encodeURIComponent(text)}`, { ...opts, maxBytes: 4 * SMALL });
  return parse(res.body, validateSearch, registry).results;
}

function parse<T>(body: Buffer, validate: Validator<T>, registry: RegistryEntry): T {
  let doc: unknown;
  try {
    doc = parseJson(body.toString('utf8'));
  } catch (e) {
    throw new MppError('MPP_E_REGISTRY_PROTOCOL', `Registry "${registry.name}" answered something that is not JSON.`, { cause: e });
  }
  if (!validate(doc)) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `Registry "${registry.name}" answered: ${describeSchemaError(validate.errors)}.`);
  return doc;
}
