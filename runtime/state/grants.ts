/**
 * The user's permission decisions, one row per package, publisher key and
 * scope in the `grants` table of `homePaths(home).db`. Rows hold capability
 * ids (spec/manifest.md section 5), never host paths, so a workspace-relative
 * folder resolves per workspace at call time. Every call reads the rows
 * afresh: a revocation counts from the next call, in any process.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { MppError } from '../errors.ts';
import { homePaths } from '../home.ts';
import { StateTable, transaction } from './sqlite.ts';
import { parseJson } from '../format/strict-json.ts';

/** `global`, or the real path of one workspace folder. */
export type WorkspaceScope = { readonly kind: 'workspace'; readonly path: string };
export type GrantScope = { readonly kind: 'global' } | WorkspaceScope;

export interface GrantRecord {
  readonly package: string;
  /** Key id of the publisher the decision was made for: another key is another decision. */
  readonly publisher: string;
  readonly scope: GrantScope;
  readonly decision: 'granted' | 'denied';
  /** Granted capability ids (empty when denied). */
  readonly capabilities: readonly string[];
  /** Every capability id the user was shown when deciding: anything declared later is new. */
  readonly reviewed: readonly string[];
  readonly source: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}

interface Row {
  package: string;
  publisher: string;
  scope: string;
  decision: string;
  capabilities: string;
  reviewed: string;
  source: string;
  updated_at: string;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS grants (
  package TEXT NOT NULL,
  publisher TEXT NOT NULL,
  scope TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('granted', 'denied')),
  capabilities TEXT NOT NULL,
  reviewed TEXT NOT NULL,
  source TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (package, publisher, scope)
) STRICT`;

/** A workspace scope names the folder by its real path, so two spellings are one scope. */
export function workspaceScope(path: string): WorkspaceScope {
  let real: string;
  try {
    real = realpathSync(resolve(path));
  } catch (e) {
    throw new MppError('MPP_E_IO', `The workspace folder ${path} does not exist.`, { hint: 'Give an existing folder with --workspace.', cause: e });
  }
  return { kind: 'workspace', path: real };
}

export const GLOBAL_SCOPE: GrantScope = Object.freeze({ kind: 'global' });

/** How a scope is stored: '' for global, else the workspace's real path. */
export const scopeKey = (s: GrantScope): string => (s.kind === 'global' ? '' : s.path);

export function scopeLabel(s: GrantScope): string {
  return s.kind === 'global' ? 'global' : `workspace ${s.path}`;
}

export class GrantStore extends StateTable {
  private constructor(path: string) {
    super(path, 'grant store', SCHEMA);
  }

  static open(home: string): GrantStore {
    return new GrantStore(homePaths(home).db);
  }

  /** The decision in force for a call in `workspace`: the workspace's own, else the global one. */
  effective(pkg: string, publisher: string, scope: GrantScope): GrantRecord | undefined {
    return (scope.kind === 'workspace' && this.get(pkg, publisher, scope)) || this.get(pkg, publisher, GLOBAL_SCOPE);
  }

  get(pkg: string, publisher: string, scope: GrantScope): GrantRecord | undefined {
    return this.guard(() => {
      const row = this.db.prepare('SELECT * FROM grants WHERE package = ? AND publisher = ? AND scope = ?').get(pkg, publisher, scopeKey(scope)) as Row | undefined;
      return row ? toRecord(row, this.path) : undefined;
    });
  }

  /** Every decision about `pkg` (all publishers and scopes), newest first. */
  list(pkg?: string): GrantRecord[] {
    return this.guard(() => {
      const rows = (pkg === undefined
        ? this.db.prepare('SELECT * FROM grants ORDER BY package, updated_at DESC').all()
        : this.db.prepare('SELECT * FROM grants WHERE package = ? ORDER BY updated_at DESC').all(pkg)) as unknown as Row[];
      return rows.map((r) => toRecord(r, this.path));
    });
  }

  put(record: Omit<GrantRecord, 'updatedAt'>, now = new Date()): GrantRecord {
    const full: GrantRecord = Object.freeze({ ...record, capabilities: [...new Set(record.capabilities)].sort(), reviewed: [...new Set(record.reviewed)].sort(), updatedAt: now.toISOString() });
    this.guard(() =>
      transaction(this.db, () => {
        this.db
          .prepare('INSERT OR REPLACE INTO grants (package, publisher, scope, decision, capabilities, reviewed, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(full.package, full.publisher, scopeKey(full.scope), full.decision, JSON.stringify(full.capabilities), JSON.stringify(full.reviewed), full.source, full.updatedAt);
      }),
    );
    return full;
  }

  /**
   * Removes capabilities from the matching rows, in one transaction. A
   * granted row left with nothing is also emptied of `reviewed`: the user
   * must decide again (governance treats it as no decision), while the row
   * stays so that a wider global decision never shows through. Returns the
   * rows as they were before.
   */
  revoke(pkg: string, scope: GrantScope | 'all', capabilities: readonly string[] | 'all', now = new Date()): GrantRecord[] {
    return this.guard(() =>
      transaction(this.db, () => {
        const rows = (scope === 'all'
          ? this.db.prepare('SELECT * FROM grants WHERE package = ?').all(pkg)
          : this.db.prepare('SELECT * FROM grants WHERE package = ? AND scope = ?').all(pkg, scopeKey(scope))) as unknown as Row[];
        const before = rows.map((r) => toRecord(r, this.path));
        for (const r of before) {
          const kept = capabilities === 'all' ? [] : r.capabilities.filter((c) => !capabilities.includes(c));
          const reviewed = kept.length === 0 && r.decision === 'granted' ? [] : r.reviewed;
          this.db
            .prepare('UPDATE grants SET capabilities = ?, reviewed = ?, updated_at = ? WHERE package = ? AND publisher = ? AND scope = ?')
            .run(JSON.stringify(kept), JSON.stringify(reviewed), now.toISOString(), r.package, r.publisher, scopeKey(r.scope));
        }
        return before;
      }),
    );
  }

  /** Forgets every decision about `pkg` (uninstall with --purge). */
  forget(pkg: string): number {
    return this.guard(() => Number(this.db.prepare('DELETE FROM grants WHERE package = ?').run(pkg).changes));
  }

}

function toRecord(row: Row, path: string): GrantRecord {
  const damaged = (): never => {
    throw new MppError('MPP_E_STORE_CORRUPT', `The grant store ${path} has a damaged row for ${row.package}.`, {
      hint: `Decide again, which replaces the row: \`mpp grant ${row.package} --all\` (or name capabilities, or --deny) ${row.scope === '' ? '--global' : `--workspace ${JSON.stringify(row.scope)}`}.`,
    });
  };
  const ids = (text: string): string[] => {
    let v: unknown;
    try {
      v = parseJson(text);
    } catch {
      return damaged();
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) damaged();
    return v as string[];
  };
  if (row.decision !== 'granted' && row.decision !== 'denied') damaged();
  return Object.freeze({
    package: row.package,
    publisher: row.publisher,
    scope: row.scope === '' ? GLOBAL_SCOPE : Object.freeze({ kind: 'workspace' as const, path: row.scope }),
    decision: row.decision as 'granted' | 'denied',
    capabilities: Object.freeze(ids(row.capabilities)),
    reviewed: Object.freeze(ids(row.reviewed)),
    source: row.source,
    updatedAt: row.updated_at,
  });
}
