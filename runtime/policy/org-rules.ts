import semver from 'semver';
import { MppError, type ErrorCode } from '../errors.ts';
import type { Sensitivity } from '../format/manifest.ts';
import { defaultPort, type GrantInput } from '../sandbox/grant.ts';
import { hostMatches, parseNetId } from './capabilities.ts';
import { SENSITIVITY_RANK } from './confirmation.ts';
import type { HostPolicy } from './host-policy.ts';
import type { OrgPolicy } from './org-policy.ts';

/**
 * What the organisation policy allows (decisions only; the install store,
 * the grant store and the governed call path enforce them). Every refusal
 * names the rule that refused it (`detail.rule`, a path into the policy).
 */
export type InstallSource = { readonly kind: 'file' } | { readonly kind: 'registry'; readonly name: string; readonly keyid: string } | { readonly kind: 'oci' };

export interface PackageIdentity {
  readonly name: string;
  readonly version: string;
  readonly publisherKeyid: string;
}

function refusal(policy: OrgPolicy, code: ErrorCode, rule: string, what: string, hint?: string): MppError {
  const who = policy.name ? `${policy.name}'s policy` : "your organisation's policy";
  return new MppError(code, `${what}: blocked by ${who} (rule ${rule}).`, {
    hint: hint ?? `Ask the administrator of ${policy.files.join(', ')}; a user setting cannot change it.`,
    detail: { rule, policy: policy.files },
  });
}

/** Refuses a package the policy does not let run: checked at install and at every call. */
export function refusePackage(policy: OrgPolicy | undefined, p: PackageIdentity): void {
  if (!policy) return;
  const allow = policy.publishers?.allow;
  if (allow && !allow.includes(p.publisherKeyid)) {
    throw refusal(policy, 'MPP_E_POLICY_PUBLISHER_BLOCKED', 'publishers.allow', `${p.name}@${p.version} is signed by publisher key ${p.publisherKeyid.slice(0, 16)}…, which is not an allowed publisher`);
  }
  for (const [i, b] of (policy.packages?.block ?? []).entries()) {
    if (b.name !== p.name) continue;
    // A range that cannot be parsed blocks every version (fail closed).
    const inRange = b.versions === undefined || !semver.validRange(b.versions) || semver.satisfies(p.version, b.versions, { includePrerelease: true });
    if (inRange) throw refusal(policy, 'MPP_E_POLICY_PACKAGE_BLOCKED', `packages.block[${i}]`, `${p.name}@${p.version} is blocked${b.reason ? ` (${b.reason})` : ''}`);
  }
}

/** Refuses an install from a source the policy does not allow (checked before anything is downloaded, and again at install). */
export function refuseSource(policy: OrgPolicy | undefined, name: string, source: InstallSource): void {
  if (!policy) return;
  const s = policy.sources;
  if (source.kind === 'file' && s?.files === false) throw refusal(policy, 'MPP_E_POLICY_SOURCE_BLOCKED', 'sources.files', `Installing ${name} from a file`);
  if (source.kind === 'oci' && s?.oci === false) throw refusal(policy, 'MPP_E_POLICY_SOURCE_BLOCKED', 'sources.oci', `Installing ${name} from an OCI registry`);
  if (source.kind === 'registry' && s?.registries && !s.registries.includes(source.keyid)) {
    throw refusal(policy, 'MPP_E_POLICY_SOURCE_BLOCKED', 'sources.registries', `Installing ${name} from the registry "${source.name}" (index key ${source.keyid.slice(0, 16)}…)`);
  }
}

/** Refuses an install from a source the policy does not allow, then the package itself. */
export function refuseInstall(policy: OrgPolicy | undefined, p: PackageIdentity, source: InstallSource): void {
  refuseSource(policy, p.name, source);
  refusePackage(policy, p);
}

type Origin = NonNullable<ReturnType<typeof parseNetId>>;

/** A policy origin (`*`, `https://api.example.com`, `https://*.example.com:8443`) covers a granted origin. */
function covers(rule: string, origin: Origin): boolean {
  if (rule === '*') return true;
  const r = parseNetId(`net:${rule}`);
  return r !== undefined && r.scheme === origin.scheme && r.port === origin.port && hostMatches(r.host, origin.host);
}

const nameMatches = (pattern: string, name: string): boolean =>
  new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name);

/**
 * The rule that forbids granting a capability id (spec/manifest.md §5 ids),
 * or undefined. Such a capability never reaches a grant: not at consent, not
 * from `mpp grant`, not from a decision stored before the policy changed.
 */
export function blockingRule(policy: OrgPolicy | undefined, id: string): string | undefined {
  const caps = policy?.capabilities;
  if (!caps) return undefined;
  if (id.startsWith('net:')) {
    // A wildcard declaration is checked as the pattern it is: covered only by a rule covering the pattern itself.
    const origin = parseNetId(id);
    if (!origin) return 'capabilities.network';
    const deny = caps.network?.deny ?? [];
    const i = deny.findIndex((r) => covers(r, origin) || (origin.host.startsWith('*.') && r === '*'));
    if (i >= 0) return `capabilities.network.deny[${i}]`;
    const allow = caps.network?.allow;
    if (allow && !allow.some((r) => covers(r, origin))) return 'capabilities.network.allow';
    return undefined;
  }
  const fs = /^fs:\$\{(workspace|home)\}.*:(read|read-write)$/.exec(id);
  if (fs) {
    if (fs[1] === 'home' && caps.filesystem?.outsideWorkspace === false) return 'capabilities.filesystem.outsideWorkspace';
    if (fs[2] === 'read-write' && caps.filesystem?.write === false) return 'capabilities.filesystem.write';
    return undefined;
  }
  if (id.startsWith('env:')) {
    const i = (caps.environment?.deny ?? []).findIndex((p) => nameMatches(p, id.slice(4)));
    return i >= 0 ? `capabilities.environment.deny[${i}]` : undefined;
  }
  if (id === 'kv' && caps.kv === false) return 'capabilities.kv';
  return undefined;
}

/** Refuses an explicit request to grant a forbidden capability (`mpp grant`, a dialog's answer). */
export function refuseCapability(policy: OrgPolicy | undefined, pkg: string, id: string): void {
  const rule = blockingRule(policy, id);
  if (rule) throw refusal(policy!, 'MPP_E_POLICY_CAPABILITY_BLOCKED', rule, `Granting ${id} to ${pkg}`, 'It can never be granted on this machine; the package may still run without it.');
}

/** The organisation's part of the host policy (merged stricter-only with policy.json and editor settings). */
export function orgHostPolicy(policy: OrgPolicy | undefined): Partial<HostPolicy> {
  if (!policy) return {};
  return {
    ...(policy.confirmAtOrAbove ? { confirmAtOrAbove: policy.confirmAtOrAbove } : {}),
    ...(policy.privacyMinimum ? { privacyMinimum: policy.privacyMinimum } : {}),
  };
}

/** Ceilings on a call's limits. */
export function orgLimits(policy: OrgPolicy | undefined): { timeoutMs?: number; memoryBytes?: number } {
  const l = policy?.limits;
  return { ...(l?.timeoutMs ? { timeoutMs: l.timeoutMs } : {}), ...(l?.memoryMb ? { memoryBytes: l.memoryMb * 1024 * 1024 } : {}) };
}

/** Calls at or above the policy's sensitivity need a verified agent. */
export function refuseUnverifiedAgent(policy: OrgPolicy | undefined, tool: { name: string; sensitivity: Sensitivity }, caller: { agentId: string; verified: boolean }): void {
  const at = policy?.verifiedAgentAtOrAbove;
  if (!at || caller.verified || SENSITIVITY_RANK[tool.sensitivity] < SENSITIVITY_RANK[at]) return;
  throw refusal(policy!, 'MPP_E_POLICY_AGENT_UNVERIFIED', 'verifiedAgentAtOrAbove', `${tool.name} (${tool.sensitivity}) called by ${caller.agentId}, an agent without a verified credential`, 'Call it as a registered agent with a credential (`mpp agent add`, `mpp agent credential`, then --credential or MPP_AGENT_CREDENTIAL).');
}

export interface RestrictedGrant<G> {
  readonly grant: G;
  /** What the policy took out, each with its rule (`net:https://x.example.com` → `capabilities.network.allow`). */
  readonly removed: readonly { readonly capability: string; readonly rule: string }[];
}

/**
 * A resolved grant without what the policy forbids: applied at every call,
 * so a decision stored before the policy changed cannot carry a forbidden
 * capability into the sandbox.
 */
export function restrictGrant<G extends { grant: Omit<GrantInput, 'limits'>; kv: unknown }>(policy: OrgPolicy | undefined, g: G): RestrictedGrant<G> {
  if (!policy?.capabilities) return { grant: g, removed: [] };
  const removed: { capability: string; rule: string }[] = [];
  const keep = (capability: string): boolean => {
    const rule = blockingRule(policy, capability);
    if (rule) removed.push({ capability, rule });
    return !rule;
  };
  const fs = (g.grant.fs ?? []).filter((f) => keep(`fs:\${${f.guestPath === '/home' || f.guestPath.startsWith('/home/') ? 'home' : 'workspace'}}${f.guestPath.replace(/^\/(workspace|home)/, '')}:${f.write ? 'read-write' : 'read'}`));
  const net = (g.grant.net ?? []).filter((n) => keep(`net:${n.scheme}://${n.host}${n.port === undefined || n.port === defaultPort(n.scheme as 'http' | 'https') ? '' : `:${n.port}`}`));
  const env = Object.fromEntries(Object.entries(g.grant.env ?? {}).filter(([name]) => keep(`env:${name}`)));
  const kv = g.kv !== undefined && !keep('kv') ? undefined : g.kv;
  return { grant: { ...g, grant: { ...g.grant, fs, net, env }, kv }, removed };
}
