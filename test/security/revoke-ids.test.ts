import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { revokePermissions } from '../../runtime/governance/decisions.ts';
import { GLOBAL_SCOPE, GrantStore } from '../../runtime/state/grants.ts';
import { tempDir } from '../helpers/cli.ts';

/**
 * A revocation the user typed must either take the capability away or be
 * refused, never report success and leave it granted: `mpp grant` stores
 * canonical ids (default port dropped, host lower-cased), so revoke compares
 * canonical forms and refuses an id no decision holds.
 */
describe('revoking a capability spelled differently from the stored id', () => {
  const home = join(tempDir({ after }, 'revoke-ids'), 'home');

  for (const typed of ['net:https://api.example.com:443', 'net:https://API.example.com']) {
    it(`revoking ${typed} takes net:https://api.example.com away, or is refused`, () => {
      const store = GrantStore.open(home);
      try {
        store.put({ package: 'acme/web', publisher: 'k'.repeat(64), scope: GLOBAL_SCOPE, decision: 'granted', capabilities: ['net:https://api.example.com'], reviewed: ['net:https://api.example.com'], source: 'cli' });
        let refused = false;
        try {
          revokePermissions(home, { package: 'acme/web', capabilities: [typed], scope: GLOBAL_SCOPE }, () => {});
        } catch {
          refused = true;
        }
        const left = store.get('acme/web', 'k'.repeat(64), GLOBAL_SCOPE)!.capabilities;
        assert.ok(refused || !left.includes('net:https://api.example.com'), `revoke reported success, still granted: ${left.join(', ')}`);
      } finally {
        store.close();
      }
    });
  }
});
