/** The grant's privacy field: default none, known classes only, allow strings non-empty. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { parseGrant } from '../../../runtime/sandbox/grant.ts';

describe('grant.privacy', () => {
  it('defaults to no classes and parses a good one into frozen, de-duplicated values', () => {
    assert.deepEqual(parseGrant({}).privacy, { classes: [], allow: [] });
    const g = parseGrant({ privacy: { classes: ['email', 'secret', 'email'], allow: ['tok'] } });
    assert.deepEqual(g.privacy, { classes: ['email', 'secret'], allow: ['tok'] });
    assert.ok(Object.isFrozen(g.privacy) && Object.isFrozen(g.privacy.classes));
  });

  it('refuses unknown classes and bad allow entries with MPP_E_GRANT_INVALID', () => {
    for (const privacy of [{ classes: ['passport'] }, { classes: 'email' }, { classes: [], allow: [''] }, { classes: [], allow: ['a\0b'] }, null]) {
      assert.throws(() => parseGrant({ privacy } as never), (e: unknown) => isMppError(e) && e.code === 'MPP_E_GRANT_INVALID', JSON.stringify(privacy));
    }
  });
});
