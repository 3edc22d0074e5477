import type { Manifest, Sensitivity, ToolDefinition } from './manifest.ts';

/** One capability a package asks for, in words a user can judge. */
export interface PermissionDescription {
  readonly kind: 'filesystem' | 'network' | 'environment' | 'kv';
  /** Stable id of the capability, e.g. `fs:${workspace}/src:read`. */
  readonly id: string;
  readonly text: string;
  readonly reason?: string;
}

const SENSITIVITY_WORDS: Record<Sensitivity, string> = {
  none: 'computes only; touches no data',
  read: 'reads data it was granted',
  write: 'changes data it was granted',
  destructive: 'can delete or irreversibly change data',
};

export function describeSensitivity(tool: ToolDefinition): string {
  return SENSITIVITY_WORDS[tool.sensitivity];
}

function where(path: string): string {
  const rest = path.replace(/^\$\{(workspace|home)\}/, '');
  const base = path.startsWith('${workspace}') ? 'your workspace folder' : 'your home folder';
  return rest === '' ? base : `${rest.slice(1)} in ${base}`;
}

/** Every capability the manifest asks for; an empty list means it asks for none. */
export function describePermissions(m: Manifest): PermissionDescription[] {
  const out: PermissionDescription[] = [];
  const withReason = (d: Omit<PermissionDescription, 'reason'>, reason: string | undefined): PermissionDescription => (reason ? { ...d, reason } : d);
  for (const p of m.permissions?.filesystem ?? []) {
    const verb = p.access === 'read' ? 'Read files in' : 'Read and write files in';
    out.push(withReason({ kind: 'filesystem', id: `fs:${p.path}:${p.access}`, text: `${verb} ${where(p.path)}` }, p.reason));
  }
  for (const p of m.permissions?.network ?? []) {
    const port = p.port ? `:${p.port}` : '';
    const target = p.host.startsWith('*.') ? `any host under ${p.host.slice(2)}${port} (${p.scheme})` : `${p.scheme}://${p.host}${port}`;
    out.push(withReason({ kind: 'network', id: `net:${p.scheme}://${p.host}${port}`, text: `Send ${p.methods.join(', ')} requests to ${target}` }, p.reason));
  }
  for (const p of m.permissions?.environment ?? []) {
    out.push(withReason({ kind: 'environment', id: `env:${p.name}`, text: `Read the environment variable ${p.name}` }, p.reason));
  }
  const kv = m.permissions?.kv;
  if (kv) {
    const keys = kv.maxKeys ? ` in at most ${kv.maxKeys} keys` : '';
    out.push(withReason({ kind: 'kv', id: 'kv', text: `Keep up to ${formatBytes(kv.maxBytes)} of its own data${keys}` }, kv.reason));
  }
  return out;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
}
