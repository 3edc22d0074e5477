import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { combine, loadOrgPolicy, ORG_POLICY_ADD_ENV, systemPolicyDir, type OrgPolicy } from '../../../runtime/policy/org-policy.ts';
import { blockingRule, refusePackage, refuseSource } from '../../../runtime/policy/org-rules.ts';
import { tempDir } from '../../helpers/cli.ts';

const policy = (rules: Partial<OrgPolicy>): OrgPolicy => ({ mppOrgPolicy: 1, files: ['test'], signed: false, ...rules });
const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isMppError(e) ? `${e.code} ${String(e.detail?.rule)}` : String(e);
  }
};

describe('organisation policy rules', () => {
  it('reads the system folder of each OS, never MPP_HOME', () => {
    assert.equal(systemPolicyDir('linux'), '/etc/mpp');
    assert.equal(systemPolicyDir('darwin'), '/Library/Application Support/MPP');
    assert.equal(systemPolicyDir('win32', { ProgramData: 'D:\\PD' }), join('D:\\PD', 'MPP'));
  });

  it('an added folder can only restrict: allow-lists intersect, deny lists unite, false wins, thresholds lower', () => {
    const a = policy({ publishers: { allow: ['a'.repeat(64), 'b'.repeat(64)] }, capabilities: { network: { allow: ['https://x.example', 'https://y.example'] }, kv: true }, confirmAtOrAbove: 'write', limits: { timeoutMs: 5000 } });
    const b = policy({ publishers: { allow: ['b'.repeat(64), 'c'.repeat(64)] }, capabilities: { network: { allow: ['https://y.example'], deny: ['*'] }, kv: false }, confirmAtOrAbove: 'read', limits: { timeoutMs: 9000, memoryMb: 64 } });
    for (const c of [combine(a, b), combine(b, a)]) {
      assert.deepEqual(c.publishers?.allow, ['b'.repeat(64)]);
      assert.deepEqual(c.capabilities?.network?.allow, ['https://y.example']);
      assert.deepEqual(c.capabilities?.network?.deny, ['*']);
      assert.equal(c.capabilities?.kv, false);
      assert.equal(c.confirmAtOrAbove, 'read');
      assert.deepEqual(c.limits, { timeoutMs: 5000, memoryMb: 64 });
    }
  });

  it('capability rules name the rule that blocks, and match origins by scheme, host and port', () => {
    const p = policy({ capabilities: { network: { allow: ['https://*.acme.example', 'http://127.0.0.1:8080'], deny: ['https://bad.acme.example'] }, environment: { deny: ['AWS_*', 'TOKEN'] }, filesystem: { outsideWorkspace: false, write: false } } });
    assert.equal(blockingRule(p, 'net:https://api.acme.example'), undefined);
    assert.equal(blockingRule(p, 'net:https://acme.example'), 'capabilities.network.allow', 'the wildcard needs a subdomain');
    assert.equal(blockingRule(p, 'net:https://api.acme.example:8443'), 'capabilities.network.allow', 'another port');
    assert.equal(blockingRule(p, 'net:http://api.acme.example'), 'capabilities.network.allow', 'another scheme');
    assert.equal(blockingRule(p, 'net:https://bad.acme.example'), 'capabilities.network.deny[0]');
    assert.equal(blockingRule(p, 'net:http://127.0.0.1:8080'), undefined);
    assert.equal(blockingRule(p, 'env:AWS_SECRET_ACCESS_KEY'), 'capabilities.environment.deny[0]');
    assert.equal(blockingRule(p, 'env:TOKEN_2'), undefined, 'no wildcard, exact name');
    assert.equal(blockingRule(p, 'fs:${home}/.ssh:read'), 'capabilities.filesystem.outsideWorkspace');
    assert.equal(blockingRule(p, 'fs:${workspace}/src:read-write'), 'capabilities.filesystem.write');
    assert.equal(blockingRule(p, 'fs:${workspace}/src:read'), undefined);
    assert.equal(blockingRule(undefined, 'kv'), undefined);
  });

  it('blocks packages by name and version range, and refuses sources', () => {
    const p = policy({ packages: { block: [{ name: 'acme/x', versions: '>=1.0.0 <1.2.0' }, { name: 'acme/y', versions: 'not a range' }] }, sources: { registries: ['d'.repeat(64)], oci: false } });
    assert.equal(codeOf(() => refusePackage(p, { name: 'acme/x', version: '1.1.9', publisherKeyid: 'k' })), 'MPP_E_POLICY_PACKAGE_BLOCKED packages.block[0]');
    assert.equal(codeOf(() => refusePackage(p, { name: 'acme/x', version: '1.2.0', publisherKeyid: 'k' })), undefined);
    assert.equal(codeOf(() => refusePackage(p, { name: 'acme/y', version: '9.9.9', publisherKeyid: 'k' })), 'MPP_E_POLICY_PACKAGE_BLOCKED packages.block[1]', 'a range that does not parse blocks every version');
    assert.equal(codeOf(() => refuseSource(p, 'acme/z', { kind: 'registry', name: 'r', keyid: 'e'.repeat(64) })), 'MPP_E_POLICY_SOURCE_BLOCKED sources.registries');
    assert.equal(codeOf(() => refuseSource(p, 'acme/z', { kind: 'registry', name: 'r', keyid: 'd'.repeat(64) })), undefined);
    assert.equal(codeOf(() => refuseSource(p, 'acme/z', { kind: 'oci' })), 'MPP_E_POLICY_SOURCE_BLOCKED sources.oci');
  });

  const dir = tempDir({ after }, 'org-unit');
  it('no policy file, no pinned key: no policy; a pinned key without a policy fails closed', () => {
    const sys = join(dir, 'sys');
    mkdirSync(sys, { recursive: true });
    assert.equal(loadOrgPolicy({}, sys), undefined);
    writeFileSync(join(sys, 'org-key.pub.pem'), 'x');
    assert.equal(codeOf(() => loadOrgPolicy({}, sys)), 'MPP_E_ORG_POLICY_INVALID undefined');
    const added = join(dir, 'added');
    mkdirSync(added, { recursive: true });
    writeFileSync(join(added, 'org-policy.json'), '{"mppOrgPolicy":1,"confirmAtOrAbove":"read"}');
    assert.equal(loadOrgPolicy({ [ORG_POLICY_ADD_ENV]: added }, join(dir, 'none'))?.confirmAtOrAbove, 'read');
  });
});
