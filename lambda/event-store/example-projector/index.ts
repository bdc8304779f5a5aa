/**
 * Example projector: the `account-summary` projection (see `account.ts`) of an `EventStore`'s
 * events, wired by `eventStore.addProjection('AccountSummary', { projector })`, which sets
 * `EVENT_STORE_CONFIG`, `READ_MODEL_TABLE_NAME` and `PROJECTION_NAME` and maps the table's stream
 * (event inserts only) to it. A projector of your own is the same dozen lines with your projection.
 *
 * `FAULT_INJECTION=on` in tests only: an event whose metadata says `"fault": "crash-after-project"`
 * makes the process exit once its batch is written, before the checkpoint and the answer to Lambda
 * (the first time only): the batch is delivered again and its events are skipped as duplicates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import type { StoredEvent } from '../../runtime/event-store/layout';
import { Projector } from '../../runtime/event-store/projection';
import { EventStore } from '../../runtime/event-store/store';
import { handlerLogger } from '../../runtime/internal/logger';
import { accountSummary, accountUpcasters } from './account';

const logger = handlerLogger('event-store-example-projector');
const faultsOn = process.env[EXAMPLE_ENV.faultInjection] === 'on';

/** Exits the process the first time a batch holding a `crash-after-project` event is written. */
function crashOnce(events: readonly StoredEvent[]): void {
  const victim = events.find((e) => e.metadata?.fault === 'crash-after-project');
  if (!victim) return;
  const dir = path.join(process.env.TMPDIR ?? '/tmp', 'cmp-example-projector-faults');
  const marker = path.join(dir, victim.eventId.replace(/[^A-Za-z0-9_-]/g, '_'));
  if (fs.existsSync(marker)) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(marker, 'crashed');
  logger.error('injected crash after project', { eventId: victim.eventId });
  process.exit(1);
}

const projector = new Projector(accountSummary, {
  store: EventStore.fromEnvironment({ upcasters: accountUpcasters }),
  logger,
  ...(faultsOn ? { afterWrite: crashOnce } : {}),
});

export const handler = async (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> => {
  logger.addContext(context);
  const report = await projector.process(event);
  logger.info('projected', { ...report, batchItemFailures: report.batchItemFailures.length });
  return { batchItemFailures: [...report.batchItemFailures] };
};
