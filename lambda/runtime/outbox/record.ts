/**
 * The outbox record: how an event is stored in the outbox table, and the envelope consumers receive.
 *
 * | attribute | type | meaning |
 * |---|---|---|
 * | `pk` | S | `outbox#<aggregateId>`: every record of an aggregate in one partition, so the stream keeps them in order on one shard |
 * | `sk` | S | the sequence: a number zero-padded to 20 digits (`00000000000000000042`), or the text given, or a time-ordered id the writer generates |
 * | `recordType` | S | `outbox` (what the relay's stream filter selects) |
 * | `eventId` | S | the event's stable id: consumers deduplicate by it (a UUID unless given) |
 * | `aggregateId`, `sequence`, `type` | S, N or S, S | the event's aggregate, its position, its type |
 * | `data` | S | the event's data as JSON text |
 * | `occurredAt` | S | ISO 8601 |
 * | `metadata` | M | optional, your fields (correlation id, causation id, ...) |
 * | `createdAt` | N | epoch milliseconds of the write |
 * | `publishedAt`, `expiresAt` | N | set by the relay once published: epoch milliseconds, and the TTL (epoch seconds) |
 * | `attempts`, `lastErrorCode`, `lastErrorMessage` | N, S, S | set by the relay when a publish failed |
 * | `deadLetteredAt`, `failureCode`, `failureMessage` | N, S, S | set by the relay when it gave up on the record |
 *
 * Besides records, the table holds a command record per command id (`pk` `outbox-command#<id>`,
 * `recordType` `command`) and, for an aggregate the relay holds back, a marker (`sk` `!blocked`).
 */
import { randomUUID } from 'node:crypto';
import { RECORD_ATTRIBUTE, RECORD_TYPE } from '../../../lib/core/wire';
import { MalformedOutboxRecordError, OutboxInputError } from './errors';

/** Attribute names of outbox records. */
export const OUTBOX_ATTRIBUTE = {
  partitionKey: RECORD_ATTRIBUTE.partitionKey,
  sortKey: RECORD_ATTRIBUTE.sortKey,
  recordType: RECORD_ATTRIBUTE.recordType,
  expiresAt: RECORD_ATTRIBUTE.timeToLive,
  eventId: 'eventId',
  aggregateId: 'aggregateId',
  sequence: 'sequence',
  type: 'type',
  data: 'data',
  occurredAt: 'occurredAt',
  metadata: 'metadata',
  createdAt: 'createdAt',
  publishedAt: 'publishedAt',
  attempts: 'attempts',
  lastErrorCode: 'lastErrorCode',
  lastErrorMessage: 'lastErrorMessage',
  deadLetteredAt: 'deadLetteredAt',
  failureCode: 'failureCode',
  failureMessage: 'failureMessage',
} as const;

/** `recordType` of an outbox record (the relay's filter), and of a command record. */
export const OUTBOX_RECORD_TYPE = RECORD_TYPE.outbox;
export const COMMAND_RECORD_TYPE = 'command';
/** Prefix of an outbox record's partition key. */
export const OUTBOX_KEY_PREFIX = 'outbox#';
/** Prefix of a command record's partition key. */
export const COMMAND_KEY_PREFIX = 'outbox-command#';
/** Sort key of the marker of an aggregate the relay holds back (sorts before every sequence). */
export const BLOCKED_SORT_KEY = '!blocked';

/** An event to write to the outbox. */
export interface OutboxEvent {
  /** The aggregate the event belongs to: its events are published in order. */
  readonly aggregateId: string;
  /** The event's type: EventBridge's `detail-type`, the `eventType` message attribute on SNS. */
  readonly type: string;
  /** The event's data: anything `JSON.stringify` accepts (sent inside the envelope's `data`). */
  readonly data: unknown;
  /**
   * The event's position in its aggregate: a non-negative integer (an aggregate version: a second
   * write of the same version fails with `OutboxSequenceConflictError`) or a string that sorts in
   * order. Use one kind per aggregate.
   *
   * @default - a time-ordered id (milliseconds, then a counter), unique within this process
   */
  readonly sequence?: number | string;
  /**
   * The event's stable id, the one consumers deduplicate by.
   *
   * @default - a random UUID
   */
  readonly eventId?: string;
  /**
   * When the event happened.
   *
   * @default - now
   */
  readonly occurredAt?: Date | string;
  /**
   * Fields of your own that travel with the event (correlation and causation ids, the actor...).
   *
   * @default - none
   */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** An outbox record as stored (and as the relay reads it from the stream). */
export interface OutboxRecord {
  readonly pk: string;
  readonly sk: string;
  readonly eventId: string;
  readonly aggregateId: string;
  readonly sequence: number | string;
  readonly type: string;
  /** The data's JSON text. */
  readonly data: string;
  readonly occurredAt: string;
  readonly metadata?: Record<string, unknown>;
  readonly createdAt: number;
}

/** What consumers receive: EventBridge's `detail`, the SNS message, the Kinesis record's data (as JSON). */
export interface OutboxEnvelope<T = unknown> {
  /** The stable id: deduplicate by it (`outboxEventId` reads it from any delivery). */
  readonly eventId: string;
  readonly aggregateId: string;
  readonly sequence: number | string;
  readonly type: string;
  readonly occurredAt: string;
  readonly data: T;
  readonly metadata?: Record<string, unknown>;
}

const SEQUENCE_DIGITS = 20;
let lastMillis = 0;
let counter = 0;

/** A time-ordered sequence, increasing within this process: 16 digits of milliseconds, a counter, a random suffix. */
export function generatedSequence(now = Date.now()): string {
  if (now > lastMillis) {
    lastMillis = now;
    counter = 0;
  } else {
    counter += 1;
  }
  return `${String(lastMillis).padStart(16, '0')}-${String(counter).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
}

/** The sort key of a sequence: integers zero-padded to 20 digits (so they sort as numbers), strings as they are. */
export function sortKeyOf(sequence: number | string): string {
  return typeof sequence === 'number' ? String(sequence).padStart(SEQUENCE_DIGITS, '0') : sequence;
}

/** The partition key of an aggregate's outbox records. */
export const outboxPartitionKey = (aggregateId: string): string => `${OUTBOX_KEY_PREFIX}${aggregateId}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `event` and turns it into the record to store; throws {@link OutboxInputError} for an unusable event. */
export function toOutboxRecord(event: OutboxEvent, index: number, now = Date.now()): OutboxRecord {
  if (!isObject(event)) throw new OutboxInputError(`event ${index} must be an object (given ${typeof event})`, { context: { index } });
  const { aggregateId, type, sequence } = event;
  if (typeof aggregateId !== 'string' || aggregateId === '' || Buffer.byteLength(aggregateId) > 1000) {
    throw new OutboxInputError(`event ${index}: aggregateId must be a string of 1 to 1000 bytes (given ${JSON.stringify(aggregateId)})`, {
      context: { index },
    });
  }
  if (typeof type !== 'string' || type === '' || type.length > 128) {
    throw new OutboxInputError(`event ${index}: type must be a string of 1 to 128 characters (given ${JSON.stringify(type)})`, {
      context: { index, aggregateId },
    });
  }
  if (
    sequence !== undefined &&
    !(typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 0) &&
    !(typeof sequence === 'string' && sequence !== '' && !sequence.startsWith('!') && sequence.length <= 256)
  ) {
    throw new OutboxInputError(
      `event ${index}: sequence must be a non-negative integer or a string of 1 to 256 characters not starting with '!' (given ${JSON.stringify(sequence)})`,
      { context: { index, aggregateId } },
    );
  }
  let data: string | undefined;
  try {
    data = JSON.stringify(event.data);
  } catch (cause) {
    throw new OutboxInputError(`event ${index}: data cannot be serialised to JSON`, { cause, context: { index, aggregateId } });
  }
  if (data === undefined) throw new OutboxInputError(`event ${index}: data must be a JSON value (given undefined)`, { context: { index } });
  if (event.eventId !== undefined && (typeof event.eventId !== 'string' || event.eventId === '' || event.eventId.length > 256)) {
    throw new OutboxInputError(`event ${index}: eventId must be a string of 1 to 256 characters (given ${JSON.stringify(event.eventId)})`);
  }
  if (event.metadata !== undefined && !isObject(event.metadata)) {
    throw new OutboxInputError(`event ${index}: metadata must be an object (given ${typeof event.metadata})`);
  }
  const occurredAt = event.occurredAt === undefined ? new Date(now) : new Date(event.occurredAt);
  if (Number.isNaN(occurredAt.getTime())) {
    throw new OutboxInputError(`event ${index}: occurredAt must be a date (given ${JSON.stringify(event.occurredAt)})`);
  }
  const seq = sequence ?? generatedSequence(now);
  return {
    pk: outboxPartitionKey(aggregateId),
    sk: sortKeyOf(seq),
    eventId: event.eventId ?? randomUUID(),
    aggregateId,
    sequence: seq,
    type,
    data,
    occurredAt: occurredAt.toISOString(),
    ...(event.metadata && Object.keys(event.metadata).length > 0 ? { metadata: { ...event.metadata } } : {}),
    createdAt: now,
  };
}

/** The item of a record, as DynamoDB stores it (native values). */
export function recordItem(record: OutboxRecord): Record<string, unknown> {
  return { ...record, [OUTBOX_ATTRIBUTE.recordType]: OUTBOX_RECORD_TYPE };
}

/** Reads an outbox record from an item (a stream image, a query result); throws {@link MalformedOutboxRecordError}. */
export function parseOutboxRecord(item: Record<string, unknown> | undefined): OutboxRecord {
  if (!item) throw new MalformedOutboxRecordError('the stream record has no NewImage: the stream must show new images (NEW_IMAGE)');
  const str = (name: string): string => {
    const v = item[name];
    if (typeof v !== 'string' || v === '') {
      throw new MalformedOutboxRecordError(`outbox record ${String(item.pk)}/${String(item.sk)} has no ${name}`, {
        context: { pk: item.pk, sk: item.sk },
      });
    }
    return v;
  };
  const sequence =
    typeof item.sequence === 'number' ? item.sequence : typeof item.sequence === 'bigint' ? Number(item.sequence) : str('sequence');
  const data = str('data');
  try {
    JSON.parse(data);
  } catch (cause) {
    throw new MalformedOutboxRecordError(`outbox record ${String(item.pk)}/${String(item.sk)}: data is not JSON`, { cause });
  }
  return {
    pk: str('pk'),
    sk: str('sk'),
    eventId: str('eventId'),
    aggregateId: str('aggregateId'),
    sequence,
    type: str('type'),
    data,
    occurredAt: str('occurredAt'),
    ...(isObject(item.metadata) ? { metadata: item.metadata } : {}),
    createdAt: typeof item.createdAt === 'number' ? item.createdAt : 0,
  };
}

/** The envelope's JSON text: built by hand around the stored data text, so the data goes out byte for byte as written. */
export function envelopeText(record: OutboxRecord): string {
  const head = JSON.stringify({
    eventId: record.eventId,
    aggregateId: record.aggregateId,
    sequence: record.sequence,
    type: record.type,
    occurredAt: record.occurredAt,
    ...(record.metadata ? { metadata: record.metadata } : {}),
  });
  return `${head.slice(0, -1)},"data":${record.data}}`;
}
