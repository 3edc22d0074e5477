/**
 * Agents this host knows by key (`mpp agent add`): the `agents` table of
 * `homePaths(home).db`. An agent id maps to exactly one Ed25519 key.
 */
import { MppError } from '../errors.ts';
import { homePaths } from '../home.ts';
import { publicKeyFromSpki, type PublicKey } from '../trust/keys.ts';
import { StateTable, transaction } from './sqlite.ts';

const AGENT_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}(\/[a-z0-9][a-z0-9._-]{0,63})?$/;

export interface AgentRecord {
  readonly id: string;
  readonly key: PublicKey;
  readonly addedAt: string;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS agents (
  id TEXT PRIMARY KEY NOT NULL,
  keyid TEXT NOT NULL,
  spki BLOB NOT NULL,
  added_at TEXT NOT NULL
) STRICT`;

interface Row {
  id: string;
  keyid: string;
  spki: Uint8Array;
  added_at: string;
}

export class AgentRegistry extends StateTable {
  private constructor(path: string) {
    super(path, 'agent registry', SCHEMA);
  }

  static open(home: string): AgentRegistry {
    return new AgentRegistry(homePaths(home).db);
  }

  get(id: string): AgentRecord | undefined {
    return this.guard(() => {
      const row = this.db.prepare('SELECT * FROM agents WHERE id = ?').get(id) as Row | undefined;
      return row ? this.#toRecord(row) : undefined;
    });
  }

  /** The agent registered with this key id, if any (one row read: a damaged other row does not matter). */
  byKeyid(keyid: string): AgentRecord | undefined {
    return this.guard(() => {
      const row = this.db.prepare('SELECT * FROM agents WHERE keyid = ?').get(keyid) as Row | undefined;
      return row ? this.#toRecord(row) : undefined;
    });
  }

  list(): AgentRecord[] {
    return this.guard(() => (this.db.prepare('SELECT * FROM agents ORDER BY id').all() as unknown as Row[]).map((r) => this.#toRecord(r)));
  }

  /** Registers `id` with `key`; the same pair again is a no-op, another key for a known id is refused. */
  add(id: string, key: PublicKey, now = new Date()): { record: AgentRecord; added: boolean } {
    checkAgentId(id);
    return this.guard(() =>
      transaction(this.db, () => {
        const existing = this.get(id);
        if (existing) {
          if (existing.key.keyid !== key.keyid) throw new MppError('MPP_E_AGENT_EXISTS', `The agent ${id} is already registered with another key (${existing.key.keyid.slice(0, 16)}...).`);
          return { record: existing, added: false };
        }
        this.db.prepare('INSERT INTO agents (id, keyid, spki, added_at) VALUES (?, ?, ?, ?)').run(id, key.keyid, key.spki, now.toISOString());
        return { record: Object.freeze({ id, key, addedAt: now.toISOString() }), added: true };
      }),
    );
  }

  remove(id: string): AgentRecord {
    return this.guard(() =>
      transaction(this.db, () => {
        const existing = this.get(id);
        if (!existing) throw new MppError('MPP_E_AGENT_UNKNOWN', `No agent ${JSON.stringify(id)} is registered.`);
        this.db.prepare('DELETE FROM agents WHERE id = ?').run(id);
        return existing;
      }),
    );
  }

  #toRecord(row: Row): AgentRecord {
    let key: PublicKey;
    try {
      key = publicKeyFromSpki(row.spki);
    } catch (e) {
      throw new MppError('MPP_E_STORE_CORRUPT', `The agent registry row for ${row.id} holds a damaged key.`, { hint: `Remove and re-add it: \`mpp agent remove ${row.id}\`.`, cause: e });
    }
    if (key.keyid !== row.keyid) throw new MppError('MPP_E_STORE_CORRUPT', `The agent registry row for ${row.id} has a key id that does not match its key.`, { hint: `Remove and re-add it: \`mpp agent remove ${row.id}\`.` });
    return Object.freeze({ id: row.id, key, addedAt: row.added_at });
  }

}

export function checkAgentId(id: string): string {
  if (!AGENT_ID_RE.test(id)) {
    throw new MppError('MPP_E_USAGE', `${JSON.stringify(id)} is not an agent id.`, { hint: 'Agent ids are lowercase names, optionally scoped by vendor: copilot, acme/triage-bot.' });
  }
  return id;
}
