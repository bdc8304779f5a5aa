/** Kinesis and DynamoDB Streams events as the event source mapping delivers them. */
import { createHash } from 'node:crypto';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

let seq = 0;
const nextSequenceNumber = () => String(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(++seq) * 10n);

/** A Kinesis record carrying `data` (bytes, text, or a value sent as JSON). */
export function kinesisRecord(
  data: Uint8Array | string | object,
  opts: { partitionKey?: string; sequenceNumber?: string; shardId?: string } = {},
): KinesisStreamRecord {
  const bytes = data instanceof Uint8Array ? Buffer.from(data) : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
  const sequenceNumber = opts.sequenceNumber ?? nextSequenceNumber();
  const shardId = opts.shardId ?? 'shardId-000000000006';
  return {
    awsRegion: 'us-east-1',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    eventSource: 'aws:kinesis',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/readings',
    eventVersion: '1.0',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/consumer',
    kinesis: {
      approximateArrivalTimestamp: 1_700_000_000.123,
      data: bytes.toString('base64'),
      kinesisSchemaVersion: '1.0',
      partitionKey: opts.partitionKey ?? 'pk',
      sequenceNumber,
    },
  };
}

export const kinesisEvent = (records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });

/** A DynamoDB stream record (images in the stream's attribute-value format). */
export function dynamoDBRecord(opts: {
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  keys?: Record<string, AttributeValue>;
  newImage?: Record<string, AttributeValue>;
  oldImage?: Record<string, AttributeValue>;
  sequenceNumber?: string;
  eventID?: string;
}): DynamoDBRecord {
  seq += 1;
  return {
    awsRegion: 'us-east-1',
    eventID: opts.eventID ?? `ev-${seq}`,
    eventName: opts.eventName ?? 'INSERT',
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2024-01-01T00:00:00.000',
    eventVersion: '1.1',
    dynamodb: {
      ApproximateCreationDateTime: 1_700_000_000,
      Keys: opts.keys ?? { pk: { S: `order#${seq}` } },
      ...(opts.newImage ? { NewImage: opts.newImage } : {}),
      ...(opts.oldImage ? { OldImage: opts.oldImage } : {}),
      SequenceNumber: opts.sequenceNumber ?? String(100_000_000_000_000_000_000n + BigInt(seq)),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

export const dynamoDBEvent = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

// ---- A small protobuf encoder for KPL aggregated records (the format the KPL writes) ----

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
const key = (field: number, wireType: number) => varint(field * 8 + wireType);
const lengthDelimited = (field: number, bytes: Uint8Array) => Buffer.concat([key(field, 2), varint(bytes.length), bytes]);
const varintField = (field: number, value: number) => Buffer.concat([key(field, 0), varint(value)]);

export interface UserRecord {
  readonly partitionKeyIndex: number;
  readonly explicitHashKeyIndex?: number;
  readonly data: Uint8Array | string;
  readonly tags?: ReadonlyArray<{ key: string; value?: string }>;
}

/** The protobuf bytes of an `AggregatedRecord`; `extra` appends raw fields (unknown ones, to be skipped). */
export function encodeAggregatedMessage(
  table: { partitionKeys: string[]; explicitHashKeys?: string[] },
  records: readonly UserRecord[],
  extra: Buffer = Buffer.alloc(0),
): Buffer {
  const parts: Buffer[] = [];
  for (const pk of table.partitionKeys) parts.push(lengthDelimited(1, Buffer.from(pk)));
  for (const ehk of table.explicitHashKeys ?? []) parts.push(lengthDelimited(2, Buffer.from(ehk)));
  for (const r of records) {
    const fields = [varintField(1, r.partitionKeyIndex)];
    if (r.explicitHashKeyIndex !== undefined) fields.push(varintField(2, r.explicitHashKeyIndex));
    fields.push(lengthDelimited(3, typeof r.data === 'string' ? Buffer.from(r.data) : r.data));
    for (const t of r.tags ?? []) {
      const tag = [lengthDelimited(1, Buffer.from(t.key)), ...(t.value === undefined ? [] : [lengthDelimited(2, Buffer.from(t.value))])];
      fields.push(lengthDelimited(4, Buffer.concat(tag)));
    }
    parts.push(lengthDelimited(3, Buffer.concat(fields)));
  }
  parts.push(extra);
  return Buffer.concat(parts);
}

/** A KPL aggregated record: magic, protobuf, MD5 of the protobuf. */
export function aggregate(message: Buffer, digest: Buffer = createHash('md5').update(message).digest()): Buffer {
  return Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), message, digest]);
}

/** Raw protobuf helpers for tests of unusual fields. */
export const proto = { varint, key, lengthDelimited, varintField };
