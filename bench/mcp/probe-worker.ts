/**
 * Phase probe for bench/mcp.ts: a drop-in `workerUrl` that loads the
 * sandbox's real worker entry (runtime/sandbox/worker/main.ts) unchanged,
 * but first imports its dependencies and the tool's glue one by one and
 * timestamps each step, then watches the messages main.ts posts. The marks
 * (epoch milliseconds, comparable across threads) go out on a
 * BroadcastChannel after the first result. Used only for the phase
 * breakdown; the headline cold figures use the default worker.
 */
import { parentPort, workerData } from 'node:worker_threads';

const now = () => performance.timeOrigin + performance.now();
const marks: Record<string, number> = { boot: now() };

await import('@bytecodealliance/preview2-shim');
marks.shim = now();
// The rest of what main.ts imports (kept in step with its import list; if it
// drifts, the difference shows up under "instantiate").
await Promise.all([
  import('../../runtime/sandbox/worker/cli.ts'),
  import('../../runtime/sandbox/worker/fd-table.ts'),
  import('../../runtime/sandbox/worker/fs-at.ts'),
  import('../../runtime/sandbox/worker/fs.ts'),
  import('../../runtime/sandbox/worker/mpp.ts'),
  import('../../runtime/sandbox/worker/net.ts'),
  import('../../runtime/sandbox/protocol.ts'),
]);
marks.workerCode = now();
await import((workerData as { glueUrl: string }).glueUrl);
marks.glue = now();

const port = parentPort!;
const post = port.postMessage.bind(port);
const channel = new BroadcastChannel('mpp-bench-phases');
port.postMessage = (m: { type?: string }, ...rest: never[]) => {
  if (m?.type === 'ready') marks.ready = now();
  const first = (m?.type === 'result' || m?.type === 'failed') && marks.result === undefined;
  if (first) marks.result = now();
  post(m, ...rest);
  if (first) {
    channel.postMessage(marks);
    channel.close();
  }
};
port.on('message', (m: { type?: string }) => {
  if (m?.type === 'call' && marks.callIn === undefined) marks.callIn = now();
});
marks.mainStart = now();
await import('../../runtime/sandbox/worker/main.ts');
