import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issuesUrl, toIssues } from '../src/issues.ts';

test('issuesUrl builds the API URL and refuses a malformed repo', () => {
  assert.equal(issuesUrl('https://api.github.com/', 'octo/cat', 'open', 5), 'https://api.github.com/repos/octo/cat/issues?state=open&per_page=5');
  assert.throws(() => issuesUrl('https://x', '../etc', 'open', 5), { code: 'invalid-input' });
});

test('toIssues keeps only the promised fields', () => {
  assert.deepEqual(toIssues([{ number: 1, title: 'Bug', state: 'open', user: { login: 'x' } }]), [{ number: 1, title: 'Bug', state: 'open' }]);
  assert.throws(() => toIssues({ message: 'Not Found' }), { code: 'bad-response' });
});
