/**
 * A host that writes audit records and forwards them at the same time, until
 * it is killed (test/security/audit-forward.test.ts kills it with SIGKILL).
 */
import { AuditForwarder } from '../../runtime/audit/forward/forwarder.ts';
import { recordAudit } from '../../runtime/audit/log.ts';

const home = process.env.MPP_HOME!;
const forwarder = new AuditForwarder(home, { intervalMs: 20 }).start();
void forwarder;
let n = 0;
for (;;) {
  recordAudit(home, { type: 'trust', action: 'add', keyid: 'a'.repeat(64), name: `writer-${n++}` });
  if (n % 25 === 0) process.stdout.write(`${n}\n`);
  await new Promise((r) => setTimeout(r, 2));
}
