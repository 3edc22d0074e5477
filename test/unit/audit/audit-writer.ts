// Child process for the concurrency test: appends `count` events tagged with its label.
import { openAuditLog } from '../../../runtime/audit/log.ts';

const [home, label, count] = process.argv.slice(2) as [string, string, string];
const log = openAuditLog(home);
try {
  for (let i = 0; i < Number(count); i++) {
    log.append({ type: 'deny', package: 'acme/notes', agent: { id: `writer-${label}`, verified: true }, code: 'MPP_E_GRANT_NOT_DECLARED', reason: `${label}-${i}` });
  }
} finally {
  log.close();
}
