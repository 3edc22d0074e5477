import type { Manifest, ToolDefinition } from '../format/manifest.ts';

/**
 * Whether `agentId` may call `tool` (spec/manifest.md section 8): allowed by
 * the package list and by the tool's list; an absent list allows any agent.
 * An unverified caller (`unverified:<label>`) matches only `*`, so a label
 * can never pass for a registered agent.
 */
export function agentAllowed(m: Manifest, tool: ToolDefinition, agentId: string): boolean {
  return allows(m.agents, agentId) && allows(tool.agents, agentId);
}

function allows(list: readonly string[] | undefined, agentId: string): boolean {
  if (list === undefined) return true;
  if (list.includes('*')) return true;
  return !agentId.startsWith('unverified:') && list.includes(agentId);
}
