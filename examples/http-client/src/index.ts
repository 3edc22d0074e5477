/**
 * An HTTP API client: lists a repository's issues from a GitHub-style API,
 * sending the granted ISSUES_TOKEN as a bearer token. The token is read from
 * the environment only if the user granted that variable, and sent only to
 * the host the manifest declares (the sandbox refuses every other request,
 * and the SDK's fetch says why).
 */
import { defineTools, env, fetch, ToolError } from 'mpp:sdk';
import { DEFAULT_BASE_URL, issuesUrl, toIssues } from './issues.ts';

export const handler = defineTools({
  async 'list-issues'(input: { repo: string; state?: 'open' | 'closed' | 'all'; limit?: number }) {
    const token = env.get('ISSUES_TOKEN');
    if (token === undefined) throw new ToolError('no-token', 'grant the ISSUES_TOKEN variable to call the API');
    const url = issuesUrl(env.get('ISSUES_API_URL') ?? DEFAULT_BASE_URL, input.repo, input.state ?? 'open', input.limit ?? 20);
    // A refused request throws ToolRefusal('network-denied') with the host's reason; it reaches the agent as is.
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    if (!res.ok) throw new ToolError('http-error', `the API answered ${res.status}`, { status: res.status });
    return { issues: toIssues(await res.json()) };
  },
});
