/**
 * Development packages end to end (issue 11 items 5 and 6): the fast build,
 * the marker every host sees, the author's key trusted for one package only,
 * and the refusals that keep such a build from travelling as a release.
 * Real builds, real sandbox, real trust store and audit log in a temp home.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openAuditLog, recordAudit } from '../../runtime/audit/log.ts';
import { buildPackage } from '../../runtime/build/build.ts';
import { initProject } from '../../runtime/build/init.ts';
import { defaultAuthorKeyPath } from '../../runtime/dev/author-key.ts';
import { installDevelopmentBuild, type DevelopmentConsent } from '../../runtime/dev/install.ts';
import { isMppError } from '../../runtime/errors.ts';
import { COMPONENT_ENTRY, DEVELOPMENT_SOURCE_ENTRY } from '../../runtime/format/layout.ts';
import { readArchive } from '../../runtime/format/read.ts';
import { ToolHost } from '../../runtime/governance/tool-host.ts';
import { mpp } from '../helpers/cli.ts';
import { examineForPublish } from '../../runtime/registry/client/publish.ts';
import { SandboxPool } from '../../runtime/run/sandbox-pool.ts';
import { listInstalled } from '../../runtime/store/packages.ts';
import { examinePackage, verifyPackage } from '../../runtime/trust/gatekeeper.ts';
import { parsePrivateKeyPem } from '../../runtime/trust/keys.ts';
import { signDevelopmentPackage, signPackage } from '../../runtime/trust/sign.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { grantPermissions } from '../../runtime/governance/decisions.ts';
import { GLOBAL_SCOPE } from '../../runtime/state/grants.ts';
import { addTrustedKey, revokeKey } from '../helpers/trust.ts';

const ENGINE = 'quickjs' as const;
const yes: DevelopmentConsent = { createKey: async () => true, trustKey: async () => true };

function code(e: unknown): string {
  return isMppError(e) ? e.code : String(e);
}

function setGreeting(dir: string, greeting: string): void {
  const file = join(dir, 'src', 'tools.ts');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/en: '[^']*'/, `en: '${greeting}'`));
}

describe('development packages', () => {
  let root: string;
  let home: string;
  let project: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'mpp-dev-'));
    home = join(root, 'home');
    project = join(root, 'hello');
    initProject(project, 'acme/hello');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const install = (consent = yes, projectDir = project) =>
    (async () => {
      const audit = openAuditLog(home);
      try {
        return await installDevelopmentBuild(home, { projectDir, engine: ENGINE, consent, audit });
      } finally {
        audit.close();
      }
    })();
  const greet = (h: ToolHost, name = 'Ada', tool = 'greet') =>
    h.call({ target: { installed: 'acme/hello' }, tool, input: JSON.stringify({ name }), caller: { label: 'test' }, workspace: project });

  it('a development build ships one engine component for every edit, and the edited source beside it as the marker', async () => {
    setGreeting(project, 'Hello');
    const a = await buildPackage({ projectDir: project, engine: ENGINE, development: true });
    setGreeting(project, 'Howdy');
    const b = await buildPackage({ projectDir: project, engine: ENGINE, development: true });
    const release = await buildPackage({ projectDir: project, engine: ENGINE });
    const [ea, eb] = [readArchive(a.archive), readArchive(b.archive)];
    assert.deepEqual(ea.get(COMPONENT_ENTRY)!.data, eb.get(COMPONENT_ENTRY)!.data, 'the engine component does not depend on the source');
    assert.equal(b.cached, true, 'the second development build reuses the engine component');
    assert.match(Buffer.from(eb.get(DEVELOPMENT_SOURCE_ENTRY)!.data).toString('utf8'), /Howdy/);
    assert.doesNotMatch(Buffer.from(ea.get(DEVELOPMENT_SOURCE_ENTRY)!.data).toString('utf8'), /Howdy/);
    assert.equal(examinePackage(b.archive).development, true);
    assert.equal(examinePackage(release.archive).development, false);
    assert.equal(readArchive(release.archive).has(DEVELOPMENT_SOURCE_ENTRY), false);
  });

  it('declining to create a key or to trust it installs nothing and trusts nothing', async () => {
    await assert.rejects(install({ createKey: async () => false, trustKey: async () => true }), (e) => code(e) === 'MPP_E_DEVELOPMENT_DECLINED');
    assert.equal(existsSync(defaultAuthorKeyPath(home)), false, 'no key was created');
    await assert.rejects(install({ createKey: async () => true, trustKey: async () => false }), (e) => code(e) === 'MPP_E_DEVELOPMENT_DECLINED');
    assert.equal(existsSync(defaultAuthorKeyPath(home)), true, 'the key was created with consent');
    assert.deepEqual(TrustStore.load(home).records, []);
    assert.deepEqual(listInstalled(home), []);
  });

  it('installs as a development package, runs in the sandbox, and an edit replaces it under the same version', async () => {
    let asked = 0;
    setGreeting(project, 'Hello');
    const first = await install({ createKey: async () => true, trustKey: async (req) => (asked++, req.packageName === 'acme/hello') });
    assert.equal(first.trustedNow, true);
    assert.equal(first.installed.development, true);
    const [record] = listInstalled(home);
    assert.equal(record?.development, true, 'the install index marks it');
    // The template's tools ask for the workspace and a variable: consent applies as for any package.
    grantPermissions(home, { package: 'acme/hello', capabilities: 'all', scope: GLOBAL_SCOPE, source: 'cli' }, (e) => recordAudit(home, e));
    const host = new ToolHost({ home, audit: (e) => recordAudit(home, e) });
    assert.deepEqual((await greet(host)).output, { greeting: 'Hello, Ada!' });

    setGreeting(project, 'Howdy');
    const second = await install();
    assert.equal(second.trustedNow, false, 'the key is already trusted for this package: not asked again');
    assert.equal(asked, 1);
    assert.equal(second.installed.change, 'replaced');
    assert.deepEqual((await greet(host)).output, { greeting: 'Howdy, Ada!' });
  });

  it('a kept sandbox never serves an older source: development builds share one component', async () => {
    const sandboxes = new SandboxPool({ max: 4, idleMs: 60_000 });
    const host = new ToolHost({ home, audit: (e) => recordAudit(home, e), sandboxes });
    try {
      setGreeting(project, 'Hi');
      await install();
      assert.deepEqual((await greet(host)).output, { greeting: 'Hi, Ada!' });
      setGreeting(project, 'Hey');
      await install();
      assert.deepEqual((await greet(host)).output, { greeting: 'Hey, Ada!' });
    } finally {
      await sandboxes.dispose();
    }
  });

  it('the loader is not a tool: its reserved name is refused before the sandbox', async () => {
    const host = new ToolHost({ home, audit: (e) => recordAudit(home, e) });
    await assert.rejects(greet(host, 'Ada', 'mpp:load-development-source'), (e) => isMppError(e));
  });

  it('the audit log records the scoped trust and a development install', () => {
    const log = openAuditLog(home, { readOnly: true });
    try {
      const events = log.query().map((r) => r.event as unknown as Record<string, unknown>);
      const trust = events.filter((e) => e.type === 'trust');
      assert.deepEqual(trust.map((e) => e.development), [{ package: 'acme/hello' }]);
      const installs = events.filter((e) => e.type === 'install');
      assert.ok(installs.length >= 2);
      for (const e of installs) assert.equal(e.development, true);
      assert.equal(log.verify().ok, true);
    } finally {
      log.close();
    }
  });

  it('the author key is trusted for development builds of that one package, nothing else it signs', async () => {
    const key = parsePrivateKeyPem(readFileSync(defaultAuthorKeyPath(home), 'utf8'));
    const trust = TrustStore.load(home);
    assert.equal(trust.state(key.publicKey.keyid), 'unknown', 'no publisher trust');

    const release = signPackage((await buildPackage({ projectDir: project, engine: ENGINE })).archive, key);
    assert.throws(() => verifyPackage(release, trust), (e) => code(e) === 'MPP_E_UNTRUSTED_KEY', 'a release of the same package');

    const other = join(root, 'other');
    initProject(other, 'acme/other');
    const otherRelease = signPackage((await buildPackage({ projectDir: other, engine: ENGINE })).archive, key);
    assert.throws(() => verifyPackage(otherRelease, trust), (e) => code(e) === 'MPP_E_UNTRUSTED_KEY', 'a release of another package');
    const otherDev = signDevelopmentPackage((await buildPackage({ projectDir: other, engine: ENGINE, development: true })).archive, key);
    assert.throws(() => verifyPackage(otherDev, trust), (e) => code(e) === 'MPP_E_DEVELOPMENT_UNTRUSTED', 'a development build of another package');

    // A publisher's trust does not cover development builds either.
    const publisherKey = parsePrivateKeyPem(readFileSync(defaultAuthorKeyPath(home), 'utf8'));
    const publisherHome = join(root, 'publisher-home');
    const asPublisher = await addTrustedKey(publisherHome, publisherKey.publicKey, 'acme');
    const dev = signDevelopmentPackage((await buildPackage({ projectDir: project, engine: ENGINE, development: true })).archive, key);
    assert.throws(() => verifyPackage(dev, asPublisher), (e) => code(e) === 'MPP_E_DEVELOPMENT_UNTRUSTED', 'publisher trust only');
    assert.equal(verifyPackage(dev, trust).development, true, 'the scoped trust accepts it');

    const revoked = await revokeKey(home, key.publicKey.keyid, 'test');
    assert.throws(() => verifyPackage(dev, revoked), (e) => code(e) === 'MPP_E_REVOKED_KEY');
  });

  it('a development package is never signed with mpp sign, nor published', async () => {
    const key = parsePrivateKeyPem(readFileSync(defaultAuthorKeyPath(home), 'utf8'));
    const dev = (await buildPackage({ projectDir: project, engine: ENGINE, development: true })).archive;
    assert.throws(() => signPackage(dev, key), (e) => code(e) === 'MPP_E_DEVELOPMENT_PACKAGE');
    assert.throws(() => signPackage(dev, key, 'registry'), (e) => code(e) === 'MPP_E_DEVELOPMENT_PACKAGE');
    assert.throws(() => examineForPublish(signDevelopmentPackage(dev, key)), (e) => code(e) === 'MPP_E_DEVELOPMENT_PACKAGE');
  });

  it('mpp dev: nothing is agreed without a terminal or --yes; with --yes it installs, runs, and lists the package as development', async () => {
    const cliHome = join(root, 'cli-home');
    const refused = await mpp(['dev', project, '--engine', ENGINE, '--json'], { home: cliHome });
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.equal((JSON.parse(refused.stdout) as { error: { code: string } }).error.code, 'MPP_E_DEVELOPMENT_DECLINED');
    assert.equal(existsSync(defaultAuthorKeyPath(cliHome)), false);

    setGreeting(project, 'Salut');
    const noGrant = await mpp(['dev', project, '--engine', ENGINE, '--yes', '--tool', 'greet', '--input', '{"name":"Ada"}', '--json'], { home: cliHome });
    assert.equal((JSON.parse(noGrant.stdout) as { error: { code: string } }).error.code, 'MPP_E_CONSENT_REQUIRED', 'consent applies as for any package');
    assert.equal((await mpp(['grant', 'acme/hello', '--all', '--global'], { home: cliHome })).code, 0);
    const ran = await mpp(['dev', project, '--engine', ENGINE, '--yes', '--tool', 'greet', '--input', '{"name":"Ada"}', '--json'], { home: cliHome });
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    const result = JSON.parse(ran.stdout) as { development: boolean; output: unknown; file: string };
    assert.equal(result.development, true);
    assert.deepEqual(result.output, { greeting: 'Salut, Ada!' });

    const list = JSON.parse((await mpp(['list', '--json'], { home: cliHome })).stdout) as { packages: { name: string; development: boolean }[] };
    assert.deepEqual(list.packages.map((p) => [p.name, p.development]), [['acme/hello', true]]);
    const sign = await mpp(['sign', result.file, '--json'], { home: cliHome });
    assert.equal(sign.code, 1);
    assert.equal((JSON.parse(sign.stdout) as { error: { code: string } }).error.code, 'MPP_E_DEVELOPMENT_PACKAGE');
  });
});
