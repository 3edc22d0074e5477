/**
 * MPP packages through a real OCI registry: Debian's docker-registry (CNCF
 * distribution 2.8) on loopback, configured by this test, first open, then
 * behind the distribution token flow with a token service written here
 * (JWTs signed by a key whose certificate the registry trusts).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { generateKey, privateKeyToPem, publicKeyToPem } from '../../runtime/trust/keys.ts';
import { mpp, tempDir } from '../helpers/cli.ts';
import { exampleBuild, examplePackage } from '../helpers/installable.ts';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const json = <T>(s: string): T => JSON.parse(s) as T;
type Fail = { ok: false; error: { code: string; message: string } };

/** CI runs as root on Debian: bring the registry in if the machine lacks it. */
function ensureRegistryInstalled(): void {
  if (existsSync(REGISTRY_BIN)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'docker-registry'], { stdio: 'inherit', env });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startDistribution(dir: string, auth = ''): Promise<{ child: ChildProcess; host: string }> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: ${join(dir, 'storage')}
http:
  addr: 127.0.0.1:${port}
  secret: ${randomBytes(16).toString('hex')}
${auth}`);
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  // Bounded generously (60 s): a loaded machine starts it slowly.
  for (let i = 0; i < 1_200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${err}`);
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) return { child, host: `127.0.0.1:${port}` };
    await sleep(50);
  }
  throw new Error(`docker-registry did not start: ${err}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * A token service for distribution's `auth: token`: checks Basic
 * credentials, then issues an ES256 JWT for the scope asked, with the
 * signing certificate in its x5c header (the registry trusts that certificate).
 */
async function tokenService(dir: string, user: string, password: string): Promise<{ url: string; certFile: string; close(): Promise<void> }> {
  const keyFile = join(dir, 'token-key.pem');
  const certFile = join(dir, 'token-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=mpp-test-token'], { stdio: 'ignore' });
  const certDer = Buffer.from(readFileSync(certFile, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const key = readFileSync(keyFile, 'utf8');
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="token"' }).end();
      return;
    }
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: (actions ?? '').split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c: [certDer.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: 'mpp-test-issuer', sub: user, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    certFile,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('OCI registries (CNCF distribution)', () => {
  const dir = tempDir({ after }, 'oci');
  const key = generateKey();
  const file = join(dir, 'hello.mpp');
  const pub = join(dir, 'key.pub.pem');
  let open: { child: ChildProcess; host: string };

  /** A home that trusts the publisher. */
  const home = async (label: string) => {
    const h = join(dir, label);
    assert.equal((await mpp(['trust', 'add', pub, '--name', 'Examples'], { home: h })).code, 0);
    return h;
  };

  before(async () => {
    ensureRegistryInstalled();
    writeFileSync(file, examplePackage(await exampleBuild(), key, { version: '0.1.0' }));
    writeFileSync(pub, publicKeyToPem(key.publicKey));
    open = await startDistribution(join(dir, 'open'));
  });
  after(() => stopChild(open.child));

  it('publishes a package as an OCI artifact and installs it by tag and by digest', async () => {
    const ref = `oci://${open.host}/mpp-examples/hello:0.1.0`;
    const pushed = await mpp(['publish', file, ref, '--json'], { home: dir });
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    const { manifestDigest, layerDigest } = json<{ manifestDigest: string; layerDigest: string }>(pushed.stdout);
    assert.equal(layerDigest, `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`);

    // What the registry stored is an image manifest with the MPP artifact type and the package as its one layer.
    const manifest = await (await fetch(`http://${open.host}/v2/mpp-examples/hello/manifests/0.1.0`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { artifactType: string; layers: { mediaType: string; digest: string }[] };
    assert.equal(manifest.artifactType, 'application/vnd.mpp.package.v1');
    assert.deepEqual(manifest.layers.map((l) => [l.mediaType, l.digest]), [['application/vnd.mpp.package.v1+zip', layerDigest]]);

    const byTag = await mpp(['install', ref, '--json'], { home: await home('by-tag') });
    assert.equal(byTag.code, 0, byTag.stdout + byTag.stderr);
    assert.equal(json<{ manifestDigest: string }>(byTag.stdout).manifestDigest, manifestDigest);
    const byDigest = await mpp(['install', `oci://${open.host}/mpp-examples/hello@${manifestDigest}`, '--json'], { home: await home('by-digest') });
    assert.equal(byDigest.code, 0, byDigest.stdout + byDigest.stderr);
    assert.equal(json<{ version: string }>(byDigest.stdout).version, '0.1.0');
    const ran = await mpp(['run', 'mpp-examples/hello', 'greet', '--input', '{"name":"Ada"}'], { home: join(dir, 'by-digest') });
    assert.equal(ran.code, 0, ran.stderr);
  });

  it('verifies exactly as for the embedded registry: an untrusted key, a wrong digest, a non-MPP artifact are refused', async () => {
    const untrusted = await mpp(['install', `oci://${open.host}/mpp-examples/hello:0.1.0`, '--json'], { home: join(dir, 'untrusted') });
    assert.equal(json<Fail>(untrusted.stdout).error.code, 'MPP_E_UNTRUSTED_KEY');
    const missing = await mpp(['install', `oci://${open.host}/mpp-examples/hello@sha256:${'0'.repeat(64)}`, '--json'], { home: join(dir, 'missing') });
    assert.equal(json<Fail>(missing.stdout).error.code, 'MPP_E_REGISTRY_NOT_FOUND');
    // An ordinary OCI artifact (not an MPP package) under a tag.
    const blob = Buffer.from('not a package');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const empty = `sha256:${createHash('sha256').update('{}').digest('hex')}`;
    for (const [body, d] of [[blob, digest], [Buffer.from('{}'), empty]] as const) {
      const started = await fetch(`http://${open.host}/v2/other/thing/blobs/uploads/`, { method: 'POST' });
      const location = new URL(started.headers.get('location')!, `http://${open.host}`);
      location.searchParams.set('digest', d);
      assert.equal((await fetch(location, { method: 'PUT', body })).status, 201);
    }
    const put = await fetch(`http://${open.host}/v2/other/thing/manifests/v1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }, layers: [{ mediaType: 'text/plain', digest, size: blob.length }] }),
    });
    assert.equal(put.status, 201);
    const other = await mpp(['install', `oci://${open.host}/other/thing:v1`, '--json'], { home: await home('other') });
    assert.equal(json<Fail>(other.stdout).error.code, 'MPP_E_REGISTRY_PROTOCOL');
  });

  it('keeps the registry path\'s continuity: key continuity with rotations carried in the artifact, no downgrade, annotations required', async () => {
    const build = await exampleBuild();
    const other = generateKey();
    const next = generateKey();
    const repo = `oci://${open.host}/mpp-examples/continuity`;
    const put = (label: string, bytes: Uint8Array) => {
      const path = join(dir, `continuity-${label}.mpp`);
      writeFileSync(path, bytes);
      return path;
    };
    writeFileSync(join(dir, 'key.pem'), privateKeyToPem(key));
    writeFileSync(join(dir, 'other.pub.pem'), publicKeyToPem(other.publicKey));
    const pushes: [string, string[]][] = [
      ['0.1.0', [put('0.1.0', examplePackage(build, key, { version: '0.1.0' }))]],
      ['0.2.0', [put('0.2.0', examplePackage(build, key, { version: '0.2.0' }))]],
      ['0.3.0', [put('0.3.0', examplePackage(build, other, { version: '0.3.0' }))]],
      ['0.4.0', [put('0.4.0', examplePackage(build, next, { version: '0.4.0' })), '--rotated-from', join(dir, 'key.pem')]],
    ];
    let layer = { digest: '', size: 0 };
    for (const [tag, args] of pushes) {
      const pushed = await mpp(['publish', args[0]!, `${repo}:${tag}`, ...args.slice(1), '--json'], { home: dir });
      assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
      if (tag === '0.2.0') layer = { digest: json<{ layerDigest: string }>(pushed.stdout).layerDigest, size: json<{ size: number }>(pushed.stdout).size };
    }
    const h = await home('continuity');
    assert.equal((await mpp(['trust', 'add', join(dir, 'other.pub.pem'), '--name', 'Other'], { home: h })).code, 0);
    const install = (tag: string) => mpp(['install', `${repo}:${tag}`, '--json'], { home: h });
    assert.equal((await install('0.2.0')).code, 0);
    const takeover = await install('0.3.0');
    assert.equal(json<Fail>(takeover.stdout).error.code, 'MPP_E_REGISTRY_PUBLISHER_MISMATCH', 'another trusted key over the installed package');
    assert.equal(json<Fail>((await install('0.1.0')).stdout).error.code, 'MPP_E_REGISTRY_DOWNGRADE');
    const rotated = await install('0.4.0');
    assert.equal(rotated.code, 0, rotated.stdout + rotated.stderr);
    const r = json<{ version: string; trustedByRotation: string; publisher: { keyid: string; name: string } }>(rotated.stdout);
    assert.deepEqual([r.version, r.trustedByRotation, r.publisher.keyid, r.publisher.name], ['0.4.0', next.publicKey.keyid, next.publicKey.keyid, 'Examples']);
    const trusted = json<{ records: { event: { keyid: string; via?: string } }[] }>((await mpp(['audit', '--type', 'trust', '--json'], { home: h })).stdout).records.map((x) => x.event);
    assert.deepEqual(trusted.filter((e) => e.via === 'rotation').map((e) => e.keyid), [next.publicKey.keyid]);

    // The same layer under a tag without MPP annotations: the artifact does not say what it is, so it is refused.
    const empty = `sha256:${createHash('sha256').update('{}').digest('hex')}`;
    const bare = await fetch(`http://${open.host}/v2/mpp-examples/continuity/manifests/bare`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.mpp.package.v1', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }, layers: [{ mediaType: 'application/vnd.mpp.package.v1+zip', ...layer }] }),
    });
    assert.equal(bare.status, 201);
    const unannotated = await mpp(['install', `${repo}:bare`, '--json'], { home: await home('bare') });
    assert.equal(json<Fail>(unannotated.stdout).error.code, 'MPP_E_REGISTRY_PROTOCOL');
  });

  it('speaks the token flow: refused without credentials, publishes and installs with them', async (t) => {
    const tokens = await tokenService(dir, 'alice', 's3cret');
    t.after(() => tokens.close());
    const guarded = await startDistribution(join(dir, 'guarded'), `auth:
  token:
    realm: ${tokens.url}
    service: mpp-test
    issuer: mpp-test-issuer
    rootcertbundle: ${tokens.certFile}
`);
    t.after(() => stopChild(guarded.child));
    const ref = `oci://${guarded.host}/acme/hello:0.1.0`;
    const anonymous = await mpp(['publish', file, ref, '--json'], { home: dir });
    assert.equal(json<Fail>(anonymous.stdout).error.code, 'MPP_E_REGISTRY_UNAUTHORIZED');
    const wrong = await mpp(['publish', file, ref, '--json'], { home: dir, env: { MPP_OCI_USERNAME: 'alice', MPP_OCI_PASSWORD: 'wrong' } });
    assert.equal(json<Fail>(wrong.stdout).error.code, 'MPP_E_REGISTRY_UNAUTHORIZED');
    const creds = { MPP_OCI_USERNAME: 'alice', MPP_OCI_PASSWORD: 's3cret' };
    const pushed = await mpp(['publish', file, ref, '--json'], { home: dir, env: creds });
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    const installed = await mpp(['install', ref, '--json'], { home: await home('guarded-home'), env: creds });
    assert.equal(installed.code, 0, installed.stdout + installed.stderr);

    // Credentials in the reference are refused before anything is sent or recorded, and never repeated back.
    const inRef = `oci://alice:s3cret@${guarded.host}/acme/hello:0.1.0`;
    const h = await home('credentials-in-ref');
    for (const args of [['install', inRef, '--json'], ['publish', file, inRef, '--json']]) {
      const refused = await mpp(args, { home: h });
      assert.equal(json<Fail>(refused.stdout).error.code, 'MPP_E_USAGE', args[0]);
      assert.doesNotMatch(refused.stdout + refused.stderr, /s3cret/, args[0]);
    }
    const log = await mpp(['audit', '--json'], { home: h });
    assert.equal(log.code, 0, log.stderr);
    assert.doesNotMatch(log.stdout, /s3cret/);
  });
});
