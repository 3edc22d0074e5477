/**
 * The embedded registry end to end, as users run it: `mpp registry serve`
 * as a real process on loopback, and the CLI publishing, searching,
 * installing, updating, yanking and rotating keys against it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKey, privateKeyToPem, publicKeyToPem, type PrivateKey } from '../../runtime/trust/keys.ts';
import { mpp, tempDir } from '../helpers/cli.ts';
import { exampleBuild, examplePackage } from '../helpers/installable.ts';
import { makePackage } from '../helpers/packages.ts';
import { servedRegistry, stop } from '../helpers/registry.ts';
import { registryPaths } from '../../runtime/registry/server/store.ts';
import { createYank } from '../../runtime/registry/documents.ts';
import type { ChildProcess } from 'node:child_process';

const NAME = 'mpp-examples/hello';
const json = <T>(s: string): T => JSON.parse(s) as T;
type Fail = { ok: false; error: { code: string; message: string } };

describe('mpp registry serve / publish / install / update', () => {
  const dir = tempDir({ after }, 'registry');
  const regDir = join(dir, 'registry');
  const home = join(dir, 'home');
  const file = (n: string) => join(dir, n);
  let server: { child: ChildProcess; url: string };
  let token: string;
  let key: PrivateKey;
  let newKey: PrivateKey;
  const run = (args: string[], env: Record<string, string> = {}) => mpp([...args, '--json'], { home, env });

  before(async () => {
    const build = await exampleBuild();
    key = generateKey();
    newKey = generateKey();
    const other = generateKey();
    for (const v of ['0.1.0', '0.2.0', '0.3.0']) writeFileSync(file(`${v}.mpp`), examplePackage(build, key, { version: v }));
    writeFileSync(file('0.2.0-other.mpp'), examplePackage(build, key, { version: '0.2.0', description: 'Same version, other content.' }));
    writeFileSync(file('0.4.0-impostor.mpp'), examplePackage(build, other, { version: '0.4.0' }));
    writeFileSync(file('0.4.0-new-key.mpp'), examplePackage(build, newKey, { version: '0.4.0' }));
    writeFileSync(file('unsigned.mpp'), makePackage());
    writeFileSync(file('key.pem'), privateKeyToPem(key));
    writeFileSync(file('key.pub.pem'), publicKeyToPem(key.publicKey));
    writeFileSync(file('new.pem'), privateKeyToPem(newKey));
    writeFileSync(file('other.pem'), privateKeyToPem(other));
    server = await servedRegistry(regDir);
    const created = await mpp(['registry', 'token', 'create', '--dir', regDir, '--json'], { home });
    token = json<{ token: string }>(created.stdout).token;
    assert.match(token, /^mpp_[A-Za-z0-9_-]{43}$/);
  });
  after(() => stop(server.child));

  it('pins the registry key: refused without --key and no terminal, accepted with it', async () => {
    const refused = await run(['registry', 'add', 'local', server.url]);
    assert.equal(json<Fail>(refused.stdout).error.code, 'MPP_E_REGISTRY_NEEDS_KEY');
    const wrong = await run(['registry', 'add', 'local', server.url, '--key', file('key.pub.pem')]);
    assert.equal(json<Fail>(wrong.stdout).error.code, 'MPP_E_REGISTRY_BAD_SIGNATURE', 'an index not signed by the pinned key is refused at once');
    const added = await run(['registry', 'add', 'local', server.url, '--key', registryPaths(regDir).publicKey]);
    assert.equal(added.code, 0, added.stdout + added.stderr);
    const list = json<{ registries: { name: string; url: string }[] }>((await run(['registry', 'list'])).stdout);
    assert.deepEqual(list.registries.map((r) => [r.name, r.url]), [['local', server.url]]);
  });

  it('publishes only with a token, only signed packages, versions immutable', async () => {
    assert.equal(json<Fail>((await run(['publish', file('0.1.0.mpp')])).stdout).error.code, 'MPP_E_USAGE');
    assert.equal(json<Fail>((await run(['publish', file('0.1.0.mpp'), '--token', 'mpp_wrong'])).stdout).error.code, 'MPP_E_REGISTRY_UNAUTHORIZED');
    assert.equal(json<Fail>((await run(['publish', file('unsigned.mpp'), '--token', token])).stdout).error.code, 'MPP_E_UNSIGNED');
    const first = await run(['publish', file('0.1.0.mpp')], { MPP_REGISTRY_TOKEN: token });
    assert.equal(first.code, 0, first.stdout);
    assert.equal(json<{ publisher: string }>(first.stdout).publisher, key.publicKey.keyid, 'the first publish binds the name to its key');
    const again = await run(['publish', file('0.1.0.mpp'), '--token', token]);
    assert.equal(again.code, 0, 'the same file again is accepted and changes nothing');
    assert.equal(json<{ created: boolean }>(again.stdout).created, false);
    assert.equal((await run(['publish', file('0.2.0.mpp'), '--token', token])).code, 0);
    assert.equal(json<Fail>((await run(['publish', file('0.2.0-other.mpp'), '--token', token])).stdout).error.code, 'MPP_E_REGISTRY_VERSION_EXISTS');
    assert.equal(json<Fail>((await run(['publish', file('0.4.0-impostor.mpp'), '--token', token])).stdout).error.code, 'MPP_E_REGISTRY_PUBLISHER_MISMATCH');
  });

  it('searches, and installs by name and range after trusting the publisher', async () => {
    const found = json<{ results: { name: string; version: string }[] }>((await run(['search', 'greets'])).stdout);
    assert.deepEqual(found.results.map((r) => `${r.name}@${r.version}`), [`${NAME}@0.2.0`]);
    const untrusted = await run(['install', `${NAME}@^0.1`]);
    assert.equal(json<Fail>(untrusted.stdout).error.code, 'MPP_E_UNTRUSTED_KEY', 'the registry vouches for nothing: the gatekeeper decides');
    const refusal = json<{ records: { event: Record<string, unknown> }[] }>((await run(['audit', '--type', 'verify'])).stdout).records.at(-1)?.event;
    assert.deepEqual(refusal, { type: 'verify', outcome: 'fail', code: 'MPP_E_UNTRUSTED_KEY' }, 'audited without a made-up file path');
    assert.equal((await mpp(['trust', 'add', file('key.pub.pem'), '--name', 'Examples'], { home })).code, 0);
    const installed = await run(['install', `${NAME}@^0.1`]);
    assert.equal(installed.code, 0, installed.stdout + installed.stderr);
    assert.deepEqual([json<{ version: string }>(installed.stdout).version, json<{ change: string }>(installed.stdout).change], ['0.1.0', 'installed']);
  });

  it('a description as long as the manifest allows is found by search (one limit everywhere)', async () => {
    const description = 'A tool with a very long description. '.repeat(54).slice(0, 1500).trim();
    const long = file('long.mpp');
    writeFileSync(long, examplePackage(await exampleBuild(), generateKey(), { name: 'mpp-examples/long', description }));
    assert.equal((await run(['publish', long, '--token', token])).code, 0);
    const found = await run(['search', 'very long description']);
    assert.equal(found.code, 0, found.stdout + found.stderr);
    assert.deepEqual(json<{ results: { name: string; description: string }[] }>(found.stdout).results.map((r) => [r.name, r.description.length]), [['mpp-examples/long', description.length]]);
  });

  it('lists outdated packages and updates them', async () => {
    const outdated = json<{ outdated: { name: string; installed: string; latest: string }[] }>((await run(['list', '--outdated'])).stdout);
    assert.deepEqual(outdated.outdated.map((o) => [o.name, o.installed, o.latest]), [[NAME, '0.1.0', '0.2.0']]);
    const updated = await run(['update']);
    assert.equal(updated.code, 0, updated.stdout);
    assert.deepEqual(json<{ updated: { to: string }[] }>(updated.stdout).updated.map((u) => u.to), ['0.2.0']);
    assert.deepEqual(json<{ outdated: unknown[] }>((await run(['list', '--outdated'])).stdout).outdated, []);
    // A newer version installed from a file is no update: the registry's 0.2.0 is older.
    assert.equal((await run(['install', file('0.3.0.mpp')])).code, 0);
    assert.deepEqual(json<{ outdated: unknown[] }>((await run(['list', '--outdated'])).stdout).outdated, [], 'a lower version is not listed as newer');
  });

  it('yank hides a version from resolution without deleting it; never a downgrade without --allow-downgrade', async () => {
    // A token alone, or another publisher's key with a valid token, changes nothing: only the name's key yanks.
    const bare = await fetch(`${server.url}/v1/packages/${NAME}/0.2.0/yank`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await bare.json()) as Fail).error.code, 'MPP_E_REGISTRY_BAD_SIGNATURE');
    const foreign = await run(['registry', 'yank', `${NAME}@0.2.0`, '--key', file('other.pem'), '--token', token]);
    assert.equal(json<Fail>(foreign.stdout).error.code, 'MPP_E_REGISTRY_PUBLISHER_MISMATCH');
    const yanked = async () => {
      const envelope = json<{ payload: string }>(await (await fetch(`${server.url}/v1/index`)).text());
      return json<{ packages: Record<string, { versions: Record<string, { yanked: boolean }> }> }>(Buffer.from(envelope.payload, 'base64').toString('utf8')).packages[NAME]!.versions['0.2.0']!.yanked;
    };
    assert.equal(await yanked(), false, 'neither changed the version');
    assert.equal((await run(['registry', 'yank', `${NAME}@0.2.0`, '--key', file('key.pem'), '--token', token])).code, 0);
    // An older statement by the right key (a replay of an earlier unyank) cannot undo the yank.
    const replay = await fetch(`${server.url}/v1/packages/${NAME}/0.2.0/unyank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: createYank(key, NAME, '0.2.0', false, new Date(Date.now() - 3600_000)).toString('utf8'),
    });
    assert.equal(((await replay.json()) as Fail).error.code, 'MPP_E_REGISTRY_BAD_SIGNATURE');
    assert.equal(await yanked(), true, 'the replay changed nothing');
    assert.equal(json<Fail>((await run(['install', `${NAME}@0.2.0`])).stdout).error.code, 'MPP_E_REGISTRY_NOT_FOUND');
    const down = await run(['update', NAME]);
    assert.equal(json<Fail>(down.stdout).error.code, 'MPP_E_REGISTRY_DOWNGRADE', '0.1.0 is now the newest unyanked one');
    const allowed = await run(['update', NAME, '--allow-downgrade']);
    assert.equal(json<{ change: string }>(allowed.stdout).change, 'downgraded');
    assert.equal((await run(['registry', 'yank', `${NAME}@0.2.0`, '--undo', '--key', file('key.pem'), '--token', token])).code, 0);
    assert.equal(json<{ version: string }>((await run(['update', NAME])).stdout).version, '0.2.0');
  });

  it('a key rotation signed by the bound key hands the name over; the client follows it and trusts the new key', async () => {
    assert.equal(json<Fail>((await run(['publish', file('0.4.0-new-key.mpp'), '--token', token])).stdout).error.code, 'MPP_E_REGISTRY_PUBLISHER_MISMATCH');
    const rotated = await run(['registry', 'rotate', '--key', file('key.pem'), '--new-key', file('new.pem'), '--token', token]);
    assert.equal(rotated.code, 0, rotated.stdout);
    assert.deepEqual(json<{ names: string[] }>(rotated.stdout).names, [NAME]);
    assert.equal((await run(['publish', file('0.4.0-new-key.mpp'), '--token', token])).code, 0);
    assert.equal(json<Fail>((await run(['publish', file('0.3.0.mpp'), '--token', token])).stdout).error.code, 'MPP_E_REGISTRY_PUBLISHER_MISMATCH', 'the old key publishes no more');
    const updated = await run(['update', NAME]);
    assert.equal(updated.code, 0, updated.stdout + updated.stderr);
    const r = json<{ version: string; trustedByRotation: string; publisher: { keyid: string; name: string } }>(updated.stdout);
    assert.deepEqual([r.version, r.trustedByRotation, r.publisher.keyid, r.publisher.name], ['0.4.0', newKey.publicKey.keyid, newKey.publicKey.keyid, 'Examples']);
    // The key trusted by the rotation is audited like every change of the trust store.
    const trusted = json<{ records: { event: { action: string; keyid: string; via?: string; from?: string } }[] }>((await run(['audit', '--type', 'trust'])).stdout).records.map((x) => x.event);
    assert.deepEqual(trusted.filter((e) => e.via === 'rotation').map((e) => [e.action, e.keyid, e.from]), [['add', newKey.publicKey.keyid, key.publicKey.keyid]]);
  });

  it('serves the web pages and counts downloads', async () => {
    const page = await (await fetch(`${server.url}/packages/${NAME}`)).text();
    assert.match(page, /mpp install mpp-examples\/hello/);
    assert.match(page, /<td>yanked<\/td>|<td>available<\/td>/);
    const search = await fetch(`${server.url}/search?q=%3Cscript%3E`);
    assert.match(search.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.ok(!(await search.text()).includes('<script>'), 'the query is escaped');
  });

  it('installs from the download cache while the registry is down, and the installed package keeps running', async () => {
    assert.equal((await mpp(['uninstall', NAME], { home })).code, 0);
    await stop(server.child);
    const offline = await run(['install', NAME, '--timeout', '2000']);
    assert.equal(offline.code, 0, offline.stdout + offline.stderr);
    const o = json<{ version: string; offline: boolean; fromCache: boolean }>(offline.stdout);
    assert.deepEqual([o.version, o.offline, o.fromCache], ['0.4.0', true, true]);
    const ran = await mpp(['run', NAME, 'greet', '--input', '{"name":"Ada"}'], { home });
    assert.equal(ran.code, 0, ran.stderr);
  });
});
