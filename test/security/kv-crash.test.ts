/**
 * Crash safety of the KV store: real writer processes (kv-crash-child.ts)
 * change a store in a loop and are killed with SIGKILL at a random moment.
 * After each kill the store is reopened and must hold every acknowledged
 * change exactly (the one operation in flight may have landed or not, nothing
 * else), pass `PRAGMA integrity_check`, and have usage accounting equal to a
 * recount of the table. A second test runs two writers on the same store at
 * once, contending for shared keys, to check the accounting under concurrency.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { kvDatabasePath } from '../../runtime/home.ts';
import { openKvStore } from '../../runtime/state/kv.ts';
import { openDatabase } from '../../runtime/state/sqlite.ts';
import { valueFor } from './kv-crash-values.ts';

const CHILD = new URL('./kv-crash-child.ts', import.meta.url).pathname;
const MAX_BYTES = 4 * 1024 * 1024;

const root = mkdtempSync(join(tmpdir(), 'mpp-kv-crash-'));
/** Writers still running when a test fails early: killed so the run can end. */
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A stored value as the writer made it (`n`, `size`), or absent. */
type State = { n: number; size: number } | null;
type Status = 'ok' | 'refused' | 'in-flight';
interface Op {
  readonly kind: 'set' | 'del';
  readonly key: string;
  readonly n: number;
  readonly size: number;
  status: Status;
}

interface Writer {
  readonly ops: Op[];
  readonly ready: Promise<void>;
  /** Kills with SIGKILL; resolves once all of stdout was read. */
  kill(): Promise<void>;
}

function startWriter(home: string, pkg: string, tag: string, firstN: number, pauseMs = 0): Writer {
  const child = spawn(process.execPath, [CHILD, home, pkg, String(MAX_BYTES), tag, String(firstN), String(pauseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const ops: Op[] = [];
  let stderr = '';
  let buffered = '';
  let onReady!: () => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => ((onReady = resolve), (onFail = reject)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop()!; // a partial last line is not an acknowledgement
    for (const line of lines) {
      const [word, kind, key, n, size] = line.split(' ');
      if (word === 'ready') onReady();
      else if (word === 'begin') ops.push({ kind: kind as Op['kind'], key: key!, n: Number(n ?? -1), size: Number(size ?? -1), status: 'in-flight' });
      else if (word === 'ok' || word === 'refused') ops.at(-1)!.status = word;
      else throw new Error(`writer ${tag}: unexpected line ${JSON.stringify(line)}`);
    }
  });
  const closed = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('close', (_code, signal) => {
      live.delete(child);
      resolve(signal);
    }),
  );
  void closed.then(() => onFail(new Error(`writer ${tag} ended before it was ready: ${stderr}`)));
  return {
    ops,
    ready,
    async kill() {
      child.kill('SIGKILL');
      const signal = await closed;
      // Anything but our SIGKILL means the writer died on its own: a bug, not a crash test.
      assert.equal(signal, 'SIGKILL', `writer ${tag} ended by itself: ${stderr}`);
    },
  };
}

const same = (a: State, b: State) => (a === null ? b === null : b !== null && a.n === b.n && a.size === b.size);

/** Which states each key may be in after the writers' operations, given `model` before them. */
function allowedStates(model: Map<string, State>, writers: Writer[]): Map<string, State[]> {
  const byKey = new Map<string, Map<number, Op[]>>();
  writers.forEach((w, i) => {
    for (const op of w.ops) {
      const perWriter = byKey.get(op.key) ?? new Map<number, Op[]>();
      perWriter.set(i, [...(perWriter.get(i) ?? []), op]);
      byKey.set(op.key, perWriter);
    }
  });
  const allowed = new Map<string, State[]>();
  for (const key of new Set([...model.keys(), ...byKey.keys()])) {
    const before = model.get(key) ?? null;
    const perWriter = byKey.get(key);
    if (!perWriter) {
      allowed.set(key, [before]);
    } else if (perWriter.size === 1) {
      // One writer: its acknowledged changes in order, then maybe the one in flight.
      let state = before;
      const states: State[] = [];
      for (const op of [...perWriter.values()][0]!) {
        const next: State = op.kind === 'del' ? null : { n: op.n, size: op.size };
        if (op.status === 'ok') state = next;
        else if (op.status === 'in-flight') states.push(next);
      }
      allowed.set(key, [state, ...states]);
    } else {
      // Contended (shared keys are only set): the previous value or any set that was acknowledged or in flight.
      const sets = [...perWriter.values()].flat().filter((op) => op.kind === 'set' && op.status !== 'refused');
      allowed.set(key, [before, ...sets.map((op) => ({ n: op.n, size: op.size }))]);
    }
  }
  return allowed;
}

/** Every operation on every key over all rounds, for failure messages. */
const log: string[] = [];
function record(round: number, writers: Writer[]): void {
  writers.forEach((w, i) => w.ops.forEach((op) => log.push(`r${round} w${i} ${op.kind} ${op.key} n=${op.n} size=${op.size} ${op.status}`)));
}
const history = (key: string) => `history: ${JSON.stringify(log.filter((l) => l.split(' ')[3] === key))}`;

/** Reopens the store after the kill and checks it; returns the model as found. */
async function verify(t: TestContext, home: string, pkg: string, model: Map<string, State>, writers: Writer[]): Promise<Map<string, State>> {
  const allowed = allowedStates(model, writers);
  const db = openDatabase(kvDatabasePath(home, pkg));
  const kv = openKvStore(home, pkg, { maxBytes: MAX_BYTES, maxKeys: 1_000_000 });
  try {
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    const recount = db.prepare('SELECT coalesce(sum(length(key) + length(value)), 0) AS bytes, count(*) AS keys FROM kv').get() as { bytes: number; keys: number };
    assert.deepEqual(kv.usage(), { bytes: recount.bytes, keys: recount.keys }, 'usage accounting equals the recount');
    assert.ok(recount.bytes <= MAX_BYTES, 'the quota held');

    const found = new Map<string, State>();
    for (const row of db.prepare('SELECT key, value FROM kv').all() as { key: Uint8Array; value: Uint8Array }[]) {
      const key = Buffer.from(row.key).toString('utf8');
      const value = Buffer.from(row.value);
      const options = allowed.get(key);
      assert.ok(options, `key ${key} was never written`);
      const match = options.find((s) => s !== null && s.size === value.length && value.equals(valueFor(s.n, s.size)));
      assert.ok(match, `key ${key}: value (${value.length} bytes, n=${value.length >= 4 ? value.readUInt32LE(0) : '?'}) is none of ${JSON.stringify(options)}; ${history(key)}`);
      found.set(key, match);
    }
    for (const [key, options] of allowed) {
      if (!found.has(key)) assert.ok(options.some((s) => s === null), `key ${key} is missing; expected one of ${JSON.stringify(options)}; ${history(key)}`);
    }
    // Through the API too: a few acknowledged keys read back exactly.
    for (const [key, state] of [...found].slice(0, 20)) assert.deepEqual(await kv.get(key), valueFor(state!.n, state!.size));
    const counts = writers.map((w) => ({ ok: w.ops.filter((o) => o.status === 'ok').length, refused: w.ops.filter((o) => o.status === 'refused').length, inFlight: w.ops.some((o) => o.status === 'in-flight') }));
    t.diagnostic(`acknowledged ${JSON.stringify(counts)}; store ${recount.keys} keys, ${recount.bytes} bytes`);
    return found;
  } finally {
    kv.close();
    db.close();
  }
}

describe('kv store under SIGKILL', () => {
  it('keeps every acknowledged write over 10 random kills, intact and accounted', async (t) => {
    const home = join(root, 'single');
    let model = new Map<string, State>();
    let acked = 0;
    let refused = 0;
    for (let round = 0; round < 10; round++) {
      const writer = startWriter(home, 'acme/crash', 'w', round * 1_000_000);
      await writer.ready;
      const delay = 5 + Math.floor(Math.random() * 300);
      await sleep(delay);
      await writer.kill();
      t.diagnostic(`round ${round}: killed after ${delay} ms`);
      record(round, [writer]);
      model = await verify(t, home, 'acme/crash', model, [writer]);
      acked += writer.ops.filter((o) => o.status === 'ok').length;
      refused += writer.ops.filter((o) => o.status === 'refused').length;
    }
    assert.ok(acked > 50, `the writers made progress (${acked} acknowledged)`);
    t.diagnostic(`total acknowledged ${acked}, refused over quota ${refused}`);
  });

  it('keeps accounting exact with two writer processes on one store, both killed', async (t) => {
    const home = join(root, 'concurrent');
    let model = new Map<string, State>();
    let interleaved = 0;
    for (let round = 0; round < 3; round++) {
      // A short pause between operations, as a tool's bridge round trips give: without it one
      // writer can hold SQLite's lock back to back and starve the other (busy handler back-off).
      const writers = [startWriter(home, 'acme/shared', 'a', round * 1_000_000, 2), startWriter(home, 'acme/shared', 'b', round * 1_000_000 + 500_000, 2)];
      await Promise.all(writers.map((w) => w.ready));
      await Promise.all(writers.map(async (w) => {
        await sleep(50 + Math.floor(Math.random() * 250));
        await w.kill();
      }));
      record(round, writers);
      model = await verify(t, home, 'acme/shared', model, writers);
      if (writers.every((w) => w.ops.some((o) => o.status === 'ok'))) interleaved++;
    }
    assert.ok(interleaved > 0, 'in some round both writers committed changes');
  });
});
