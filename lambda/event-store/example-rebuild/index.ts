/**
 * Example rebuild function of the `account-summary` projection, wired by
 * `projection.connectReplayer(fn)`: re-reads the event table (not an archive replay) and rewrites
 * every read model, resuming from the rebuild checkpoint. Invoke it with `{ "resume": false }` to
 * start over; it stops after `maxSeconds` (default: the function's remaining time less 10 s) and
 * answers `done: false` when there is more to do.
 */
import type { Context } from 'aws-lambda';
import { type RebuildReport, Projector } from '../../runtime/event-store/projection';
import { EventStore } from '../../runtime/event-store/store';
import { handlerLogger } from '../../runtime/internal/logger';
import { accountSummary, accountUpcasters } from '../example-projector/account';

const logger = handlerLogger('event-store-example-rebuild');
const projector = new Projector(accountSummary, { store: EventStore.fromEnvironment({ upcasters: accountUpcasters }), logger });

export const handler = async (event: { resume?: boolean; maxSeconds?: number } = {}, context?: Context): Promise<RebuildReport> => {
  const budget = context ? Math.max(1, Math.floor(context.getRemainingTimeInMillis() / 1000) - 10) : undefined;
  const report = await projector.rebuild({ resume: event.resume ?? true, maxSeconds: event.maxSeconds ?? budget });
  logger.info('rebuilt', { ...report });
  return report;
};
