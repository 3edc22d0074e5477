/**
 * Writer for kv-crash.test.ts: opens a package's store and changes it in a
 * loop until killed. Every operation is announced on stdout before it starts
 * (`begin set <key> <n> <size>` / `begin del <key>`) and acknowledged only
 * after its promise settled (`ok` / `refused`), so the parent knows which
 * changes MUST be durable and which single one was in flight at the kill.
 * Lines go out with writeSync on fd 1, never through process.stdout: on a
 * pipe, process.stdout queues in the process (measured: 2 MB queued while the
 * reader paused), so SIGKILL would lose lines of changes that did land.
 * libuv hands a child its stdio pipes in blocking mode, so writeSync returns
 * only once the line is in the kernel.
 *
 * usage: node kv-crash-child.ts <home> <package> <maxBytes> <tag> <firstN> <pauseMs>
 */
import { writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostServiceError } from '../../runtime/sandbox/host-services.ts';
import { openKvStore } from '../../runtime/state/kv.ts';
import { valueFor } from './kv-crash-values.ts';

const [home, pkg, maxBytesText, tag, firstText, pauseText] = process.argv.slice(2) as [string, string, string, string, string, string];
const pauseMs = Number(pauseText);
// A safety net: the parent kills us long before this; a failed parent must not leave a writer running forever.
const deadline = Date.now() + 60_000;
const maxBytes = Number(maxBytesText);
const kv = openKvStore(home, pkg, { maxBytes, maxKeys: 1_000_000 });
// Own keys left by earlier rounds, as targets for overwrites and deletes.
const own = await kv.listKeys(`${tag}/`, 1000);
const say = (line: string) => void writeSync(1, `${line}\n`);
say('ready');

function pickSize(): number {
  const r = Math.random();
  if (r < 0.03) return Math.floor(maxBytes / 2); // fills the store (then refused); long write: a wide kill window
  if (r < 0.08) return 64 * 1024 + Math.floor(Math.random() * 64 * 1024);
  return Math.floor(Math.random() * 2048);
}

for (let n = Number(firstText); ; n++) {
  if (Date.now() > deadline) process.exit(3);
  if (pauseMs > 0) await sleep(Math.random() * pauseMs);
  const r = Math.random();
  let key: string;
  if (r < 0.2 && own.length > 0) {
    key = own.splice(Math.floor(Math.random() * own.length), 1)[0]!;
    say(`begin del ${key}`);
    await kv.delete(key);
    say('ok');
    continue;
  }
  if (r < 0.35) key = `shared/${Math.floor(Math.random() * 8)}`; // contended by concurrent writers
  else if (r < 0.5 && own.length > 0) key = own[Math.floor(Math.random() * own.length)]!;
  else key = `${tag}/${n}`;
  const size = pickSize();
  say(`begin set ${key} ${n} ${size}`);
  try {
    await kv.set(key, valueFor(n, size));
    if (key.startsWith(`${tag}/`) && !own.includes(key)) own.push(key);
    say('ok');
  } catch (e) {
    if (!(e instanceof HostServiceError && e.tag === 'quota-exceeded')) throw e;
    say('refused');
  }
}
