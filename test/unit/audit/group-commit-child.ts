// Child process for the group-commit crash test: a call's `started` record
// durably, its outcome queued, then the process dies before the queue is committed.
import { openAuditLog } from '../../../runtime/audit/log.ts';
import type { AuditEvent } from '../../../runtime/audit/events.ts';
import { SAMPLE_EVENTS } from '../../helpers/audit.ts';

const invoke = SAMPLE_EVENTS.invoke as Extract<AuditEvent, { type: 'invoke' }>;

const [home] = process.argv.slice(2) as [string];
const log = openAuditLog(home);
log.append({ ...invoke, outcome: 'started', durationMs: 0 });
log.appendGrouped({ ...invoke, outcome: 'ok' });
// Dies at once: no turn of the event loop, no close.
process.exit(0);
