import { MalformedKafkaRecordError, UnsupportedKafkaEventError } from './errors';

/** A record header as the event delivers it: the header's name, and its value as bytes. */
export interface KafkaEventHeader {
  readonly [name: string]: number[];
}

/** Schema metadata of a key or value, when the mapping has a schema registry. */
export interface KafkaSchemaMetadata {
  readonly dataFormat: string;
  readonly schemaId?: string;
}

/** One record of a Kafka event, as Lambda delivers it (key and value base64-encoded). */
export interface KafkaEventRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME' | string;
  /** Base64; absent (or null) when the record has no key. */
  readonly key?: string | null;
  /** Base64; absent (or null) for a tombstone. */
  readonly value?: string | null;
  readonly headers?: KafkaEventHeader[] | null;
  readonly keySchemaMetadata?: KafkaSchemaMetadata;
  readonly valueSchemaMetadata?: KafkaSchemaMetadata;
}

/**
 * The event of an MSK (`aws:kafka`) or self-managed Kafka (`SelfManagedKafka`, or
 * `aws:SelfManagedKafka`) event source mapping: records grouped by `<topic>-<partition>`, in offset
 * order within each partition.
 */
export interface KafkaEvent {
  readonly eventSource: string;
  /** The MSK cluster's ARN (MSK mappings only). */
  readonly eventSourceArn?: string;
  readonly bootstrapServers?: string;
  readonly records: { readonly [topicPartition: string]: KafkaEventRecord[] };
}

/** One header of a record, decoded. */
export interface KafkaHeader {
  readonly key: string;
  readonly value: Buffer;
}

/** One Kafka record as the record handler sees it. */
export interface KafkaRecord {
  readonly eventSource: 'aws:kafka' | 'SelfManagedKafka';
  /** The MSK cluster's ARN (MSK mappings only). */
  readonly eventSourceArn?: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** `<topic>-<partition>`: the key of the event's `records` and of a partial batch response's `partition`. */
  readonly topicPartition: string;
  /**
   * `<topic>-<partition>:<offset>`: the same on every delivery of the record (a retry, a rebalance,
   * a replay of the partition), so it is the record's idempotency key.
   */
  readonly recordId: string;
  /**
   * The key the idempotency library uses by default (`defaultIdempotencyKey` reads an object's
   * `idempotencyKey`): `recordId`. A producer that retries a send writes the record again at a new
   * offset; give the idempotency library a `keySelector` reading your own id from the value for
   * those (`(r: KafkaRecord) => r.json<Order>().orderId`).
   */
  readonly idempotencyKey: string;
  /** When the record was produced (`CREATE_TIME`) or appended (`LOG_APPEND_TIME`), epoch milliseconds. */
  readonly timestamp: number;
  readonly timestampType: string;
  /** The record's key, base64-decoded; undefined when it has none. */
  readonly key?: Buffer;
  /** The record's value, base64-decoded; empty for a tombstone (see `tombstone`). */
  readonly data: Buffer;
  /** True when the record has no value (a tombstone of a compacted topic). */
  readonly tombstone: boolean;
  /** The headers, in order (a name may repeat). */
  readonly headers: readonly KafkaHeader[];
  /** The key as UTF-8 text; undefined when the record has none. */
  keyText(): string | undefined;
  /** The value as UTF-8 text. */
  text(): string;
  /** The value parsed as JSON; throws {@link MalformedKafkaRecordError} when it is not JSON. */
  json<T = unknown>(): T;
  /** The last header named `name`, as UTF-8 text; undefined when there is none. */
  header(name: string): string | undefined;
  /** The record as the event delivered it. */
  readonly record: KafkaEventRecord;
}

const SOURCES: Record<string, KafkaRecord['eventSource']> = {
  'aws:kafka': 'aws:kafka',
  SelfManagedKafka: 'SelfManagedKafka',
  'aws:SelfManagedKafka': 'SelfManagedKafka',
};

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : v === null ? 'null' : typeof v);

/**
 * Checks that `event` is a Kafka batch and returns its event source; throws
 * {@link UnsupportedKafkaEventError} otherwise.
 */
export function kafkaEventSource(event: unknown): KafkaRecord['eventSource'] {
  const e = event as Partial<KafkaEvent> | null | undefined;
  const records = e?.records as unknown;
  if (typeof records !== 'object' || records === null || Array.isArray(records) || !Object.values(records).every(Array.isArray)) {
    throw new UnsupportedKafkaEventError('the event has no records map of arrays: it is not the batch of a Kafka event source mapping');
  }
  const source = SOURCES[String(e?.eventSource)];
  if (!source) {
    throw new UnsupportedKafkaEventError(
      `the event comes from ${show(e?.eventSource)}, not from an MSK or self-managed Kafka event source mapping (aws:kafka, SelfManagedKafka)`,
      { context: { eventSource: e?.eventSource } },
    );
  }
  return source;
}

/** One record of the event, decoded. */
function kafkaRecord(event: KafkaEvent, eventSource: KafkaRecord['eventSource'], record: KafkaEventRecord): KafkaRecord {
  const topicPartition = `${record.topic}-${record.partition}`;
  const recordId = `${topicPartition}:${record.offset}`;
  const key = record.key === undefined || record.key === null ? undefined : Buffer.from(record.key, 'base64');
  const tombstone = record.value === undefined || record.value === null;
  const data = tombstone ? Buffer.alloc(0) : Buffer.from(record.value as string, 'base64');
  const headers: KafkaHeader[] = (record.headers ?? []).flatMap((h) =>
    Object.entries(h).map(([k, bytes]) => ({ key: k, value: Buffer.from(bytes ?? []) })),
  );
  return {
    eventSource,
    ...(event.eventSourceArn === undefined ? {} : { eventSourceArn: event.eventSourceArn }),
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    topicPartition,
    recordId,
    idempotencyKey: recordId,
    timestamp: record.timestamp,
    timestampType: record.timestampType,
    ...(key === undefined ? {} : { key }),
    data,
    tombstone,
    headers,
    keyText: () => key?.toString('utf8'),
    text: () => data.toString('utf8'),
    json<T>(): T {
      try {
        return JSON.parse(data.toString('utf8')) as T;
      } catch (cause) {
        throw new MalformedKafkaRecordError(recordId, `Kafka record ${recordId} does not hold valid JSON`, { cause });
      }
    },
    header(name: string): string | undefined {
      for (let i = headers.length - 1; i >= 0; i--) if (headers[i].key === name) return headers[i].value.toString('utf8');
      return undefined;
    },
    record,
  };
}

/** The records of one partition of a batch, in offset order. */
export interface KafkaPartitionBatch {
  /** `<topic>-<partition>`. */
  readonly topicPartition: string;
  readonly records: readonly KafkaRecord[];
}

/**
 * The batch's records by partition, each partition's in offset order (as Lambda delivers them).
 *
 * @throws UnsupportedKafkaEventError when the event is not a Kafka batch
 */
export function kafkaPartitions(event: KafkaEvent): KafkaPartitionBatch[] {
  const source = kafkaEventSource(event);
  return Object.entries(event.records).map(([topicPartition, records]) => ({
    topicPartition,
    records: [...records].sort((a, b) => a.offset - b.offset).map((r) => kafkaRecord(event, source, r)),
  }));
}

/**
 * Every record of an MSK or self-managed Kafka batch, decoded: key and value base64-decoded,
 * headers as bytes, `text()`, `json()`, `recordId` (`<topic>-<partition>:<offset>`, the idempotency
 * key). Partition after partition, in offset order within each.
 *
 * @throws UnsupportedKafkaEventError when the event is not a Kafka batch
 *
 * @example
 * for (const record of kafkaRecords(event)) console.log(record.recordId, record.json());
 */
export function kafkaRecords(event: KafkaEvent): KafkaRecord[] {
  return kafkaPartitions(event).flatMap((p) => p.records);
}
