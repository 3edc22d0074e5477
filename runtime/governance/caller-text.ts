import type { Caller } from '../sandbox/host-services.ts';

/**
 * "Who is asking", in the one form every face shows it (terminal, MCP
 * elicitation, editor dialog): the verified agent id, never a name the
 * caller chose. A credential's display name is the agent's own claim and is
 * shown quoted as one; an unverified label is marked unverified once.
 */
export function describeCaller(c: Caller): string {
  if (!c.verified) return `${c.agentId.replace(/^unverified:/, '')} (unverified: a name the client gave itself)`;
  if (c.displayName === c.agentId) return `${c.agentId} (verified agent)`;
  return `${c.agentId} (verified agent; calls itself ${JSON.stringify(c.displayName)})`;
}
