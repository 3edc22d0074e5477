import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { agentAllowed } from '../../../runtime/policy/agents.ts';
import { checkCapabilityId, grantFromCapabilities } from '../../../runtime/policy/capabilities.ts';
import { needsConfirmation } from '../../../runtime/policy/confirmation.ts';
import { DEFAULT_POLICY, loadHostPolicy, mergePolicy, policyPath } from '../../../runtime/policy/host-policy.ts';
import { baseManifest } from '../../helpers/packages.ts';
import { tempDir } from '../../helpers/cli.ts';

describe('governance policy', () => {
  const dir = tempDir({ after }, 'policy');

  it('confirms write and destructive calls; a host may ask for more, never less', () => {
    assert.deepEqual((['none', 'read', 'write', 'destructive'] as const).map((s) => needsConfirmation(s, 'write')), [false, false, true, true]);
    assert.deepEqual((['none', 'read', 'write', 'destructive'] as const).map((s) => needsConfirmation(s, 'read')), [false, true, true, true]);
    assert.equal(needsConfirmation('write', 'destructive'), true, 'a threshold above write cannot excuse write calls');
  });

  it('merges policies stricter-only, and refuses a broken policy.json instead of ignoring it', () => {
    const merged = mergePolicy(DEFAULT_POLICY, { confirmAtOrAbove: 'destructive', confirmTimeoutMs: 999_999, privacyMinimum: ['email'] });
    assert.equal(merged.confirmAtOrAbove, 'write');
    assert.equal(merged.confirmTimeoutMs, DEFAULT_POLICY.confirmTimeoutMs);
    assert.deepEqual([...merged.privacyMinimum].sort(), ['email', 'secret']);
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    assert.equal(loadHostPolicy(home), DEFAULT_POLICY);
    writeFileSync(policyPath(home), '{"confirmAtOrAbove":"read","privacyMinimum":["phone"]}');
    assert.equal(loadHostPolicy(home).confirmAtOrAbove, 'read');
    for (const bad of ['{"confirmAtOrAbove":"never"}', '{"unknown":1}', 'not json', '{"a":1,"a":2}']) {
      writeFileSync(policyPath(home), bad);
      assert.throws(() => loadHostPolicy(home), { code: 'MPP_E_POLICY_INVALID' }, bad);
    }
  });

  it('an unverified caller matches only *, never a listed agent id', () => {
    const m = { ...baseManifest(), agents: ['copilot'] };
    const t = { ...m.tools[0]!, agents: ['copilot', 'acme/bot'] };
    assert.equal(agentAllowed(m, t, 'copilot'), true);
    assert.equal(agentAllowed(m, t, 'acme/bot'), false, 'a tool list narrows the package list');
    assert.equal(agentAllowed(m, t, 'unverified:copilot'), false);
    assert.equal(agentAllowed({ ...m, agents: ['*'] }, { ...t, agents: undefined }, 'unverified:x'), true);
  });

  it('capability ids: declared ones, concrete hosts under a wildcard, nothing else', () => {
    const m = {
      ...baseManifest(),
      permissions: { network: [{ scheme: 'https' as const, host: '*.example.com', methods: ['GET'] }], environment: [{ name: 'TOKEN' }], kv: { maxBytes: 10 } },
    };
    assert.equal(checkCapabilityId(m, 'env:TOKEN'), 'env:TOKEN');
    assert.equal(checkCapabilityId(m, 'net:https://api.example.com'), 'net:https://api.example.com');
    assert.equal(checkCapabilityId(m, 'net:https://api.example.com:443'), 'net:https://api.example.com');
    for (const bad of ['net:https://*.example.com', 'net:https://example.com', 'net:http://api.example.com', 'env:HOME', 'fs:${home}:read', 'kv2']) {
      assert.throws(() => checkCapabilityId(m, bad), { code: 'MPP_E_GRANT_NOT_DECLARED' }, bad);
    }
  });

  it('a folder capability resolves per workspace, and is absent where the folder is missing', () => {
    const m = { ...baseManifest(), permissions: { filesystem: [{ path: '${workspace}/src', access: 'read' as const }] } };
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(join(a, 'src'), { recursive: true });
    mkdirSync(b, { recursive: true });
    const ctx = (workspace: string) => ({ workspace, home: dir, mppHome: join(dir, 'mpp') });
    const ga = grantFromCapabilities(m, ['fs:${workspace}/src:read'], ctx(a));
    assert.deepEqual(ga.grant.fs?.map((f) => [f.guestPath, f.write]), [['/workspace/src', false]]);
    assert.deepEqual(grantFromCapabilities(m, ['fs:${workspace}/src:read'], ctx(b)).grant.fs, []);
  });
});
