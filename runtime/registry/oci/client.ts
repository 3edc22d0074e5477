/**
 * MPP packages in any OCI registry (distribution-spec 1.1: GHCR, ACR, Harbor,
 * zot, CNCF distribution), spoken directly over HTTP:
 *
 *   push: blob upload POST + monolithic PUT (config, then the .mpp layer),
 *         then PUT of an image manifest with artifactType
 *         application/vnd.mpp.package.v1 and the empty config descriptor
 *         (image-spec 1.1 artifact guidance)
 *   pull: manifest by tag or digest (digest checked when pinned) -> schema ->
 *         the one layer, bounded by its descriptor's size, digest checked;
 *         the gatekeeper then verifies it exactly as for the MPP registry
 *
 * Auth is the distribution token flow: a 401 with `WWW-Authenticate: Bearer
 * realm,service,scope` sends us to the realm for a token (with Basic
 * credentials from MPP_OCI_USERNAME / MPP_OCI_PASSWORD when set), then the
 * request is retried with it. A Basic challenge is answered directly.
 */
import { MppError } from '../../errors.ts';
import { DEFAULT_LIMITS } from '../../format/layout.ts';
import { sha256Hex } from '../../hash.ts';
import { compileSchema, describeSchemaError } from '../../schema.ts';
import { examineForPublish } from '../client/publish.ts';
import registrySchema from '../../../spec/registry.schema.json' with { type: 'json' };
import { transfer, type Progress, type Response, type TransferOptions, type TransferTiming } from '../client/http.ts';
import { parseJson } from '../../format/strict-json.ts';

export const ARTIFACT_TYPE = 'application/vnd.mpp.package.v1';
export const LAYER_MEDIA_TYPE = 'application/vnd.mpp.package.v1+zip';
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** The manifest annotations MPP writes: which package the artifact holds, and rotation statements handing its name to the signing key. */
export const ANNOTATIONS = Object.freeze({
  name: 'dev.mpp.package.name',
  version: 'dev.mpp.package.version',
  digest: 'dev.mpp.package.digest',
  rotations: 'dev.mpp.package.rotations',
});
const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha256Hex('{}')}`, size: 2 } as const;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
// The largest package any reader accepts (format/layout.ts): one limit for files, registries and OCI.
const MAX_PACKAGE_BYTES = DEFAULT_LIMITS.maxArchiveBytes;

export interface OciRef {
  /** http://host:port or https://host */
  readonly base: string;
  readonly host: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }
interface OciManifest { schemaVersion: 2; mediaType: string; artifactType?: string; config: Descriptor; layers: [Descriptor]; annotations?: Record<string, string> }

const validateManifest = compileSchema<OciManifest>(registrySchema, '#/$defs/oci');

// distribution-spec: repository name components and tags.
const REPO_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function isOciRef(text: string): boolean {
  return text.startsWith('oci://');
}

/** Plain HTTP is allowed only to these hosts (registries and token services alike). */
function isLoopback(hostname: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(hostname);
}

/**
 * oci://HOST[:PORT]/REPO[:TAG|@sha256:HEX]. Plain HTTP only for loopback
 * hosts (a registry on this machine); everything else is HTTPS.
 */
export function parseOciRef(text: string): OciRef {
  const bad = (why: string) => new MppError('MPP_E_USAGE', `"${text}" is not an OCI reference: ${why}.`, { hint: 'Write it as oci://host[:port]/repository[:tag] or oci://host/repository@sha256:<digest>.' });
  const m = /^oci:\/\/([^/]+)\/(.+)$/.exec(text);
  if (!m) throw bad('expected oci://host/repository');
  const host = m[1]!;
  // A password in the reference would be kept wherever the reference is (audit log, progress, shell history); the message leaves it out.
  if (host.includes('@')) throw new MppError('MPP_E_USAGE', 'An OCI reference must not hold credentials (user:password@host).', { hint: 'Give them in MPP_OCI_USERNAME and MPP_OCI_PASSWORD, and the reference as oci://host/repository[:tag].' });
  let rest = m[2]!;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw bad('the digest must be sha256:<64 hex digits>');
  }
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  if (!REPO_RE.test(rest) || rest.length > 255) throw bad(`"${rest}" is not a valid repository name`);
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    throw bad(`"${host}" is not a host`);
  }
  const loopback = isLoopback(url.hostname);
  return { base: `${loopback ? 'http' : 'https'}://${url.host}`, host: url.host, repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

type Timing = TransferTiming;

/** One repository's requests, with the token the registry's auth flow gave (cached for the session). */
class Session {
  private authorization: string | undefined;
  private readonly ref: OciRef;
  private readonly scope: string;
  private readonly timing: Timing;

  constructor(ref: OciRef, actions: 'pull' | 'pull,push', timing: Timing) {
    this.ref = ref;
    this.scope = `repository:${ref.repository}:${actions}`;
    this.timing = timing;
  }

  async request(path: string, opts: Omit<TransferOptions, 'accept'> & { accept?: number[] }): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.ref.base}${path}`;
    const send = () => transfer(url, { ...this.timing, ...opts, headers: { ...opts.headers, ...(this.authorization ? { authorization: this.authorization } : {}) }, accept: [401, ...(opts.accept ?? [])] });
    let res = await send();
    if (res.status === 401) {
      this.authorization = await this.authenticate(res.headers.get('www-authenticate') ?? '');
      res = await send();
      if (res.status === 401) throw unauthorized(`${this.ref.host} refused the credentials for ${this.scope}.`);
    }
    return res;
  }

  private async authenticate(challenge: string): Promise<string> {
    const user = process.env.MPP_OCI_USERNAME;
    const password = process.env.MPP_OCI_PASSWORD ?? '';
    const basic = user ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
    const scheme = /^(\w+)\s*/.exec(challenge)?.[1]?.toLowerCase();
    if (scheme === 'basic') {
      if (!basic) throw unauthorized(`${this.ref.host} needs a user name and password (MPP_OCI_USERNAME, MPP_OCI_PASSWORD).`);
      return basic;
    }
    if (scheme !== 'bearer') throw unauthorized(`${this.ref.host} asked for authentication MPP does not speak (${challenge.slice(0, 40)}).`);
    const params = parseChallenge(challenge);
    if (!params.realm) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${this.ref.host} sent a Bearer challenge without a realm.`);
    const realm = URL.parse(params.realm);
    if (!realm) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${this.ref.host} sent a Bearer challenge whose realm is not a URL.`);
    // A token service on plain HTTP would see the password: only for loopback, as for registries.
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && isLoopback(realm.hostname))) {
      throw unauthorized(`${this.ref.host} sends us to a token service over plain HTTP (${realm.origin}).`);
    }
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? this.scope);
    const res = await transfer(realm.href, { ...this.timing, maxBytes: 64 * 1024, headers: basic ? { authorization: basic } : {}, accept: [] }).catch((e: unknown) => {
      if (e instanceof MppError && e.code === 'MPP_E_REGISTRY_UNAUTHORIZED') throw unauthorized(`The token service of ${this.ref.host} refused the credentials.`);
      throw e;
    });
    let token: unknown;
    try {
      const doc = parseJson(res.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = doc.token ?? doc.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `The token service of ${this.ref.host} answered without a token.`);
    return `Bearer ${token}`;
  }
}

/** `key="value", key2="value2"` after the scheme (RFC 7235 auth-params, quoted or token). */
function parseChallenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.replace(/^\w+\s+/, '').matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) out[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return out;
}

export interface Pushed {
  readonly ref: string;
  readonly manifestDigest: string;
  readonly layerDigest: string;
  readonly size: number;
  readonly name: string;
  readonly version: string;
}

/** `rotations`: key rotation statements (documents.ts) that lead from an earlier key of the name to this package's key. */
export async function pushPackage(ref: OciRef, bytes: Uint8Array, opts: Timing & { onProgress?: Progress; rotations?: readonly string[] } = {}): Promise<Pushed> {
  if (ref.digest || !ref.tag) throw new MppError('MPP_E_USAGE', 'Publishing to OCI needs a tag (oci://host/repository:tag), not a digest.');
  const pkg = examineForPublish(bytes);
  const session = new Session(ref, 'pull,push', opts);
  const layerDigest = `sha256:${sha256Hex(bytes)}`;
  await uploadBlob(session, ref, Buffer.from('{}'), EMPTY_CONFIG.digest);
  await uploadBlob(session, ref, bytes, layerDigest, opts.onProgress);
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: LAYER_MEDIA_TYPE, digest: layerDigest, size: bytes.length, annotations: { 'org.opencontainers.image.title': `${pkg.manifest.name.replace('/', '-')}-${pkg.manifest.version}.mpp` } }],
    annotations: {
      [ANNOTATIONS.name]: pkg.manifest.name,
      [ANNOTATIONS.version]: pkg.manifest.version,
      [ANNOTATIONS.digest]: `sha256:${pkg.digest.sha256}`,
      ...(opts.rotations?.length ? { [ANNOTATIONS.rotations]: JSON.stringify(opts.rotations) } : {}),
    },
  };
  const body = Buffer.from(JSON.stringify(manifest), 'utf8');
  await session.request(`/v2/${ref.repository}/manifests/${ref.tag}`, { method: 'PUT', headers: { 'content-type': MANIFEST_MEDIA_TYPE }, body, maxBytes: 64 * 1024 });
  const manifestDigest = `sha256:${sha256Hex(body)}`;
  return { ref: `oci://${ref.host}/${ref.repository}@${manifestDigest}`, manifestDigest, layerDigest, size: bytes.length, name: pkg.manifest.name, version: pkg.manifest.version };
}

async function uploadBlob(session: Session, ref: OciRef, bytes: Uint8Array, digest: string, onProgress?: Progress): Promise<void> {
  const head = await session.request(`/v2/${ref.repository}/blobs/${digest}`, { method: 'HEAD', maxBytes: 0, accept: [404] });
  if (head.status === 200) return;
  const started = await session.request(`/v2/${ref.repository}/blobs/uploads/`, { method: 'POST', maxBytes: 64 * 1024, headers: { 'content-length': '0' } });
  const location = started.headers.get('location');
  if (started.status !== 202 || !location) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host} did not start a blob upload (HTTP ${started.status}, no Location).`);
  const target = URL.parse(location, ref.base);
  if (!target) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host} answered the upload with a Location that is not a URL.`);
  // The upload must go back to the same registry: a Location elsewhere would receive the package.
  if (target.origin !== new URL(ref.base).origin) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host} sent the upload to another origin (${target.origin}).`);
  target.searchParams.set('digest', digest);
  await session.request(target.href, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes, maxBytes: 64 * 1024, ...(onProgress ? { onProgress } : {}) });
}

export interface Pulled {
  readonly bytes: Buffer;
  readonly manifestDigest: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** Rotation statements the artifact carries (unverified text: continuity.ts verifies each it uses). */
  readonly rotations: readonly string[];
}

export async function pullPackage(ref: OciRef, opts: Timing & { onProgress?: Progress } = {}): Promise<Pulled> {
  const session = new Session(ref, 'pull', opts);
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const res = await session.request(`/v2/${ref.repository}/manifests/${reference}`, { headers: { accept: MANIFEST_MEDIA_TYPE }, maxBytes: MAX_MANIFEST_BYTES });
  const manifestDigest = `sha256:${sha256Hex(res.body)}`;
  if (ref.digest && manifestDigest !== ref.digest) {
    throw new MppError('MPP_E_REGISTRY_MISMATCH', `${ref.host} served a manifest with digest ${manifestDigest}, not the ${ref.digest} asked for.`, { detail: { expected: ref.digest, actual: manifestDigest } });
  }
  let doc: unknown;
  try {
    doc = parseJson(res.body.toString('utf8'));
  } catch (e) {
    throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host} served a manifest that is not JSON.`, { cause: e });
  }
  if (!validateManifest(doc)) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host}/${ref.repository}:${reference} is not an MPP package: ${describeSchemaError(validateManifest.errors)}.`);
  const layer = doc.layers[0];
  if (layer.mediaType !== LAYER_MEDIA_TYPE) throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host}/${ref.repository}:${reference} holds a ${layer.mediaType} layer, not an MPP package.`);
  if (layer.size > MAX_PACKAGE_BYTES) throw new MppError('MPP_E_REGISTRY_TOO_LARGE', `The package layer is ${layer.size} bytes, over the ${MAX_PACKAGE_BYTES} allowed.`);
  const blob = await session.request(`/v2/${ref.repository}/blobs/${layer.digest}`, { maxBytes: layer.size, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const actual = `sha256:${sha256Hex(blob.body)}`;
  if (actual !== layer.digest || blob.body.length !== layer.size) {
    throw new MppError('MPP_E_REGISTRY_MISMATCH', `${ref.host} served a layer that is not the one its manifest names (${actual}, ${blob.body.length} bytes).`, { detail: { expected: layer.digest, actual } });
  }
  const annotations = Object.freeze({ ...(doc.annotations ?? {}) });
  return { bytes: blob.body, manifestDigest, annotations, rotations: parseRotations(annotations[ANNOTATIONS.rotations], ref) };
}

function parseRotations(text: string | undefined, ref: OciRef): readonly string[] {
  if (text === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list) || list.length > 64 || !list.every((s) => typeof s === 'string')) {
    throw new MppError('MPP_E_REGISTRY_PROTOCOL', `${ref.host}/${ref.repository}: the ${ANNOTATIONS.rotations} annotation is not a list of at most 64 rotation statements.`);
  }
  return Object.freeze(list as string[]);
}

function unauthorized(message: string): MppError {
  return new MppError('MPP_E_REGISTRY_UNAUTHORIZED', message);
}
