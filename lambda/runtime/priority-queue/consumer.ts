import type { SQSRecord } from 'aws-lambda';
import { PRIORITY_ATTRIBUTE } from './protocol';

/**
 * The priority level of a record, from the `priority` message attribute the producer sets;
 * `undefined` for a message sent without `PriorityQueueProducer`.
 */
export function priorityOf(record: SQSRecord): string | undefined {
  return record.messageAttributes?.[PRIORITY_ATTRIBUTE]?.stringValue;
}
