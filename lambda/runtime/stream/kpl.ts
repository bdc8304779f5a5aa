/**
 * De-aggregation of records written by the Kinesis Producer Library (KPL) with aggregation on: one
 * Kinesis record that carries many user records. The format
 * (github.com/awslabs/amazon-kinesis-producer, aggregation-format.md):
 *
 *   0xF3 0x89 0x9A 0xC2 | protobuf AggregatedRecord | MD5 of the protobuf bytes (16 bytes)
 *
 *   message AggregatedRecord {
 *     repeated string partition_key_table     = 1;
 *     repeated string explicit_hash_key_table = 2;
 *     repeated Record records                 = 3;
 *   }
 *   message Record {
 *     required uint64 partition_key_index     = 1;
 *     optional uint64 explicit_hash_key_index = 2;
 *     required bytes  data                    = 3;
 *     repeated Tag    tags                    = 4;  // skipped
 *   }
 */
import { createHash } from 'node:crypto';
import { KinesisDeaggregationError } from './errors';
import { ProtobufReader, WireType } from './private/protobuf';

/** The four bytes every aggregated record starts with. */
export const KPL_AGGREGATION_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
const DIGEST_BYTES = 16;

/** One user record of an aggregated record. */
export interface KplUserRecord {
  /** Its position in the aggregated record, from 0: with the parent's sequence number, it identifies the user record. */
  readonly subSequenceNumber: number;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly data: Buffer;
}

/** Whether `data` starts with the KPL aggregation magic bytes. */
export function isKplAggregated(data: Uint8Array): boolean {
  return data.length >= KPL_AGGREGATION_MAGIC.length && KPL_AGGREGATION_MAGIC.every((b, i) => data[i] === b);
}

/**
 * The user records of an aggregated Kinesis record, in order; `undefined` when `data` is not
 * aggregated (it does not start with the magic bytes).
 *
 * @throws KinesisDeaggregationError when `data` starts with the magic bytes but its MD5 trailer
 *   does not match, its protobuf is malformed, or a record points outside the key tables
 */
export function deaggregateKplRecord(data: Uint8Array): KplUserRecord[] | undefined {
  if (!isKplAggregated(data)) return undefined;
  const fail = (problem: string, cause?: unknown) =>
    new KinesisDeaggregationError(`the record starts with the KPL aggregation magic bytes but ${problem}`, {
      cause,
      context: { dataBytes: data.length },
    });
  if (data.length < KPL_AGGREGATION_MAGIC.length + DIGEST_BYTES)
    throw fail(`is only ${data.length} bytes long, too short for the MD5 trailer`);

  const message = data.subarray(KPL_AGGREGATION_MAGIC.length, data.length - DIGEST_BYTES);
  const trailer = Buffer.from(data.subarray(data.length - DIGEST_BYTES));
  const digest = createHash('md5').update(message).digest();
  if (!digest.equals(trailer)) {
    throw fail(`its MD5 trailer (${trailer.toString('hex')}) does not match its content (${digest.toString('hex')}): it is corrupt`);
  }

  const partitionKeys: string[] = [];
  const explicitHashKeys: string[] = [];
  const records: Array<{ partitionKeyIndex: number; explicitHashKeyIndex?: number; data: Uint8Array }> = [];
  try {
    const reader = new ProtobufReader(message);
    while (!reader.done) {
      const { field, wireType } = reader.tag();
      if (field <= 3 && wireType !== WireType.lengthDelimited) throw new Error(`field ${field} has wire type ${wireType}, expected 2`);
      if (field === 1) partitionKeys.push(Buffer.from(reader.lengthDelimited()).toString('utf8'));
      else if (field === 2) explicitHashKeys.push(Buffer.from(reader.lengthDelimited()).toString('utf8'));
      else if (field === 3) records.push(readRecord(reader.lengthDelimited()));
      else reader.skip(wireType);
    }
  } catch (cause) {
    throw fail(`its protobuf is malformed: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }

  return records.map((r, subSequenceNumber): KplUserRecord => {
    const partitionKey = partitionKeys[r.partitionKeyIndex];
    if (partitionKey === undefined) {
      throw fail(`user record ${subSequenceNumber} points at partition key ${r.partitionKeyIndex} of a table of ${partitionKeys.length}`);
    }
    const explicitHashKey = r.explicitHashKeyIndex === undefined ? undefined : explicitHashKeys[r.explicitHashKeyIndex];
    if (r.explicitHashKeyIndex !== undefined && explicitHashKey === undefined) {
      throw fail(
        `user record ${subSequenceNumber} points at explicit hash key ${r.explicitHashKeyIndex} of a table of ${explicitHashKeys.length}`,
      );
    }
    const bytes = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    return { subSequenceNumber, partitionKey, ...(explicitHashKey === undefined ? {} : { explicitHashKey }), data: bytes };
  });
}

function readRecord(bytes: Uint8Array): { partitionKeyIndex: number; explicitHashKeyIndex?: number; data: Uint8Array } {
  const reader = new ProtobufReader(bytes);
  let partitionKeyIndex: number | undefined;
  let explicitHashKeyIndex: number | undefined;
  let data: Uint8Array | undefined;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    const expected = field === 3 ? WireType.lengthDelimited : WireType.varint;
    if (field <= 3 && wireType !== expected) throw new Error(`record field ${field} has wire type ${wireType}, expected ${expected}`);
    if (field === 1) partitionKeyIndex = reader.varint();
    else if (field === 2) explicitHashKeyIndex = reader.varint();
    else if (field === 3) data = reader.lengthDelimited();
    else reader.skip(wireType);
  }
  if (partitionKeyIndex === undefined) throw new Error('a record has no partition_key_index (required)');
  if (data === undefined) throw new Error('a record has no data (required)');
  return { partitionKeyIndex, explicitHashKeyIndex, data };
}
