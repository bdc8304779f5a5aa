import type { KafkaEvent, KafkaEventRecord } from '../../../../lambda/runtime/kafka/records';

/** A Kafka record as the event source mapping delivers it (key, value base64; headers as bytes). */
export function kafkaRecord(
  topic: string,
  partition: number,
  offset: number,
  value: unknown,
  opts: { key?: string | null; headers?: Record<string, string>[]; raw?: boolean } = {},
): KafkaEventRecord {
  const text = value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
  return {
    topic,
    partition,
    offset,
    timestamp: 1_796_425_000_000 + offset,
    timestampType: 'CREATE_TIME',
    ...(opts.key === undefined ? {} : { key: opts.key === null ? null : Buffer.from(opts.key).toString('base64') }),
    ...(text === null ? {} : { value: Buffer.from(text).toString('base64') }),
    headers: (opts.headers ?? []).map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [...Buffer.from(v)]]))),
  };
}

/** An MSK event (or a self-managed one, without `eventSourceArn`) of the given records. */
export function kafkaEvent(records: KafkaEventRecord[], opts: { selfManaged?: boolean; source?: string } = {}): KafkaEvent {
  const grouped: Record<string, KafkaEventRecord[]> = {};
  for (const r of records) (grouped[`${r.topic}-${r.partition}`] ??= []).push(r);
  return {
    eventSource: opts.source ?? (opts.selfManaged ? 'SelfManagedKafka' : 'aws:kafka'),
    ...(opts.selfManaged ? {} : { eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/shop/abc-1' }),
    bootstrapServers: 'b-1.example:9098',
    records: grouped,
  };
}
