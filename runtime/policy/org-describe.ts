import { fingerprint } from '../trust/keys.ts';
import type { OrgPolicy } from './org-policy.ts';

/** The organisation policy in plain words, one restriction a line: `mpp policy show` and the editor's view. */
export function describeOrgPolicy(p: OrgPolicy): string[] {
  const lines: string[] = [];
  const keys = (ids: readonly string[]) => (ids.length === 0 ? 'none' : ids.map(fingerprint).join(', '));
  if (p.publishers?.allow) lines.push(`Only packages signed by these publisher keys: ${keys(p.publishers.allow)}`);
  if (p.sources?.registries) lines.push(`Registry installs only from registries with these index keys: ${keys(p.sources.registries)}`);
  if (p.sources?.files === false) lines.push('No installs from .mpp files');
  if (p.sources?.oci === false) lines.push('No installs from OCI registries');
  for (const b of p.packages?.block ?? []) lines.push(`Blocked: ${b.name}${b.versions ? ` ${b.versions}` : ' (every version)'}${b.reason ? ` — ${b.reason}` : ''}`);
  const c = p.capabilities;
  if (c?.network?.allow) lines.push(`Network only to: ${c.network.allow.join(', ') || 'nowhere'}`);
  if (c?.network?.deny?.length) lines.push(`Network never to: ${c.network.deny.join(', ')}`);
  if (c?.filesystem?.outsideWorkspace === false) lines.push('No folders outside the workspace');
  if (c?.filesystem?.write === false) lines.push('No folder may be written');
  if (c?.environment?.deny?.length) lines.push(`Environment variables never granted: ${c.environment.deny.join(', ')}`);
  if (c?.kv === false) lines.push('No key-value storage');
  if (p.limits?.timeoutMs) lines.push(`Calls last at most ${p.limits.timeoutMs} ms`);
  if (p.limits?.memoryMb) lines.push(`Tools use at most ${p.limits.memoryMb} MiB of memory`);
  if (p.confirmAtOrAbove) lines.push(`Confirm every call of tools at or above: ${p.confirmAtOrAbove}`);
  if (p.verifiedAgentAtOrAbove) lines.push(`Tools at or above ${p.verifiedAgentAtOrAbove} only for verified agents`);
  if (p.privacyMinimum?.length) lines.push(`Always redacted: ${p.privacyMinimum.join(', ')}`);
  const f = p.auditForwarding;
  if (f) lines.push(`Audit records ${f.required ? 'must be' : 'are'} forwarded to ${f.target} (at most ${f.maxBacklog ?? DEFAULT_MAX_BACKLOG} waiting; then ${f.whenBacklogFull === 'continue' ? 'calls continue, recorded' : 'calls stop'})`);
  return lines;
}

export const DEFAULT_MAX_BACKLOG = 100_000;
