/**
 * Example delay-queue producer, used by the integration tests (and fit for the showcase): wire it
 * with `delayQueue.connectProducer(fn)`.
 *
 * Event: `{ "body": "...", "delaySeconds": 3600, "id": "reminder-42" }` (or `"at": "<ISO time>"`)
 * schedules a message; `{ "cancel": "reminder-42" }` cancels one. Returns what the producer did.
 */
import { DelayQueueProducer, type ScheduleResult } from '../../runtime/delay-queue/producer';

const producer = DelayQueueProducer.fromEnvironment();

export interface ExampleProducerEvent {
  readonly body?: string;
  readonly delaySeconds?: number;
  readonly at?: string;
  readonly id?: string;
  readonly cancel?: string;
}

export const handler = async (event: ExampleProducerEvent): Promise<ScheduleResult | { cancelled: boolean }> => {
  if (event.cancel !== undefined) return { cancelled: await producer.cancel(event.cancel) };
  return producer.scheduleMessage(event.body ?? '', {
    delaySeconds: event.delaySeconds,
    at: event.at === undefined ? undefined : new Date(event.at),
    id: event.id,
  });
};
