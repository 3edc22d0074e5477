import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { homePaths } from '../../../runtime/home.ts';
import { addRegistry, loadRegistries, registryEntry } from '../../../runtime/registry/client/config.ts';
import { generateKey } from '../../../runtime/trust/keys.ts';
import { tempDir } from '../../helpers/cli.ts';

describe('registries configuration', () => {
  const dir = tempDir({ after }, 'reg-config');

  it('refuses a setting the file schema would refuse, so the file never becomes unreadable', async () => {
    const home = join(dir, 'home');
    const key = generateKey().publicKey;
    for (const bad of [{ scopes: ['Acme'], priority: 1 }, { scopes: [], priority: 2_000_000 }]) {
      await assert.rejects(addRegistry(home, registryEntry({ name: 'r', url: 'http://127.0.0.1:1', key, ...bad })), { code: 'MPP_E_USAGE' });
    }
    assert.equal(existsSync(homePaths(home).registries), false);
    await addRegistry(home, registryEntry({ name: 'r', url: 'http://127.0.0.1:1', key, priority: 1, scopes: ['acme'] }));
    assert.deepEqual(loadRegistries(home).map((r) => r.name), ['r']);
  });
});
