/** The API logic, apart from the host: URLs and response shapes. Tested directly by `node --test`. */

export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    // The SDK's defineTools passes on errors named ToolError with a string code.
    this.name = 'ToolError';
    this.code = code;
  }
}

export const DEFAULT_BASE_URL = 'https://api.github.com';

/** owner/name, as the API spells repositories; neither part may be `.` or `..` (the URL path must stay put). */
const REPO = /^(?!\.\.?\/)[A-Za-z0-9_.-]{1,100}\/(?!\.\.?$)[A-Za-z0-9_.-]{1,100}$/;

export function issuesUrl(base: string, repo: string, state: 'open' | 'closed' | 'all', limit: number): string {
  if (!REPO.test(repo)) throw new ApiError('invalid-input', 'repo must be owner/name');
  return `${base.replace(/\/+$/, '')}/repos/${repo}/issues?state=${state}&per_page=${limit}`;
}

export interface Issue {
  number: number;
  title: string;
  state: string;
}

/** Only the fields the tool promises, from whatever the server sent. */
export function toIssues(body: unknown): Issue[] {
  if (!Array.isArray(body)) throw new ApiError('bad-response', 'the API did not return a list');
  return body.map((i: { number?: unknown; title?: unknown; state?: unknown }) => ({ number: Number(i.number), title: String(i.title ?? ''), state: String(i.state ?? '') }));
}
