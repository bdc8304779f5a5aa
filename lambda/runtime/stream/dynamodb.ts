import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type unmarshallOptions as UnmarshallOptions, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, AttributeValue as StreamAttributeValue } from 'aws-lambda';
import { MalformedStreamRecordError } from './errors';

/** One DynamoDB stream record as the record handler sees it, images unmarshalled. */
export interface DynamoDBStreamItem<T = Record<string, unknown>> {
  readonly eventSource: 'aws:dynamodb';
  /** The record's `eventID`: a stable id for idempotency, the same on every retry. */
  readonly recordId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly sequenceNumber: string;
  /** The item's key attributes, unmarshalled. */
  readonly keys: Record<string, unknown>;
  /** The item after the change (`NEW_IMAGE` or `NEW_AND_OLD_IMAGES` streams; not for `REMOVE`). */
  readonly newImage?: T;
  /** The item before the change (`OLD_IMAGE` or `NEW_AND_OLD_IMAGES` streams; not for `INSERT`). */
  readonly oldImage?: T;
  /** When the change was made (epoch seconds). */
  readonly approximateCreationDateTime?: number;
  /** The record as the event delivered it (`userIdentity` tells a TTL deletion). */
  readonly record: DynamoDBRecord;
}

/** Options of {@link dynamoDBStreamItem}. */
export interface DynamoDBItemOptions {
  /**
   * Passed to `unmarshall` of `@aws-sdk/util-dynamodb`. By default numbers become `number`, or
   * `bigint` for integers beyond 2^53, and a fraction beyond double precision fails the record;
   * `{ wrapNumbers: true }` keeps every number as a `NumberValue` (its exact text).
   *
   * @default - `unmarshall`'s defaults
   */
  readonly unmarshallOptions?: UnmarshallOptions;
}

type Image = Record<string, StreamAttributeValue>;

/** A stream attribute value as the SDK's: the event carries binary (`B`, `BS`) as base64 text, the SDK as bytes. */
function toSdkValue(value: StreamAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B, 'base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b, 'base64')) };
  if (value.M !== undefined) return { M: toSdkImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toSdkValue) };
  return value as AttributeValue;
}

function toSdkImage(image: Image): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toSdkValue(v)]));
}

/**
 * A DynamoDB stream record with its keys and images unmarshalled (binary attributes as bytes).
 *
 * @throws MalformedStreamRecordError when an image cannot be unmarshalled
 */
export function dynamoDBStreamItem<T = Record<string, unknown>>(
  record: DynamoDBRecord,
  options: DynamoDBItemOptions = {},
): DynamoDBStreamItem<T> {
  const change = record.dynamodb ?? {};
  const recordId = record.eventID ?? `${change.SequenceNumber}`;
  const convert = (image: Image | undefined, part: string) => {
    if (image === undefined) return undefined;
    try {
      return unmarshall(toSdkImage(image), options.unmarshallOptions);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MalformedStreamRecordError(`DynamoDB stream record ${recordId}: ${part} cannot be unmarshalled: ${reason}`, {
        cause,
        context: { recordId, part },
      });
    }
  };
  const newImage = convert(change.NewImage, 'NewImage') as T | undefined;
  const oldImage = convert(change.OldImage, 'OldImage') as T | undefined;
  return {
    eventSource: 'aws:dynamodb',
    recordId,
    eventName: record.eventName as DynamoDBStreamItem['eventName'],
    sequenceNumber: change.SequenceNumber ?? '',
    keys: convert(change.Keys, 'Keys') ?? {},
    ...(newImage === undefined ? {} : { newImage }),
    ...(oldImage === undefined ? {} : { oldImage }),
    ...(change.ApproximateCreationDateTime === undefined ? {} : { approximateCreationDateTime: change.ApproximateCreationDateTime }),
    record,
  };
}
