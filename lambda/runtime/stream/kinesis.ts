import type { KinesisStreamRecord } from 'aws-lambda';
import { MalformedStreamRecordError } from './errors';
import { deaggregateKplRecord } from './kpl';

/** One Kinesis record as the record handler sees it: a record of the batch, or one user record of a KPL-aggregated one. */
export interface KinesisStreamItem {
  readonly eventSource: 'aws:kinesis';
  /**
   * A stable id for idempotency: `<shardId>:<sequenceNumber>`, and `:<subSequenceNumber>` for a
   * user record of an aggregated record. The same on every retry of the record.
   */
  readonly recordId: string;
  readonly shardId: string;
  /** The Kinesis record's sequence number (the parent's, for a user record of an aggregated record). */
  readonly sequenceNumber: string;
  /** Set for a user record of an aggregated record: its position in the parent, from 0. */
  readonly subSequenceNumber?: number;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  /** When Kinesis received the record (epoch seconds, with fractions). */
  readonly approximateArrivalTimestamp: number;
  /** The data, base64-decoded. */
  readonly data: Buffer;
  /** The data as UTF-8 text. */
  text(): string;
  /** The data parsed as JSON; throws {@link MalformedStreamRecordError} when it is not JSON. */
  json<T = unknown>(): T;
  /** The record as the event delivered it. */
  readonly record: KinesisStreamRecord;
}

/** Options of {@link kinesisStreamItems}. */
export interface KinesisItemOptions {
  /**
   * Split KPL-aggregated records into their user records.
   *
   * @default true
   */
  readonly deaggregate?: boolean;
}

/** The shard of a Kinesis event record: the part of its `eventID` (`shardId-000000000000:4959...`) before the colon. */
export function shardIdOf(record: KinesisStreamRecord): string {
  const id = record.eventID ?? '';
  const colon = id.indexOf(':');
  return colon < 0 ? id : id.slice(0, colon);
}

/**
 * The items of one Kinesis event record: the record itself, or, when it is KPL-aggregated (and
 * `deaggregate` is on), each of its user records in order.
 *
 * @throws KinesisDeaggregationError for an aggregated record that is corrupt
 */
export function kinesisStreamItems(record: KinesisStreamRecord, options: KinesisItemOptions = {}): KinesisStreamItem[] {
  const payload = record.kinesis;
  const shardId = shardIdOf(record);
  const data = Buffer.from(payload.data ?? '', 'base64');
  const base = `${shardId}:${payload.sequenceNumber}`;
  const common = {
    shardId,
    sequenceNumber: payload.sequenceNumber,
    approximateArrivalTimestamp: payload.approximateArrivalTimestamp,
    record,
  };
  const users = options.deaggregate === false ? undefined : deaggregateKplRecord(data);
  if (!users) return [item({ ...common, recordId: base, partitionKey: payload.partitionKey, data })];
  return users.map((u) =>
    item({
      ...common,
      recordId: `${base}:${u.subSequenceNumber}`,
      subSequenceNumber: u.subSequenceNumber,
      partitionKey: u.partitionKey,
      ...(u.explicitHashKey === undefined ? {} : { explicitHashKey: u.explicitHashKey }),
      data: u.data,
    }),
  );
}

function item(fields: Omit<KinesisStreamItem, 'eventSource' | 'text' | 'json'>): KinesisStreamItem {
  return {
    eventSource: 'aws:kinesis',
    ...fields,
    text: () => fields.data.toString('utf8'),
    json<T>(): T {
      try {
        return JSON.parse(fields.data.toString('utf8')) as T;
      } catch (cause) {
        throw new MalformedStreamRecordError(`Kinesis record ${fields.recordId} does not hold valid JSON`, {
          cause,
          context: { recordId: fields.recordId },
        });
      }
    },
  };
}
