/**
 * Sizes as the services count them, so a producer offloads exactly when a message would not fit.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

/** An SQS or SNS message attribute value (the shapes both SDK clients use). */
export interface AttributeValue {
  readonly DataType: string | undefined;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

const utf8 = (s: string | undefined): number => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/**
 * Bytes that message attributes add to an SQS or SNS message: each attribute's name, data type and
 * value count toward the 256 KiB (SNS) or 1 MiB (SQS) limit.
 */
export function messageAttributesBytes(attributes: Readonly<Record<string, AttributeValue>> | undefined): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    bytes += utf8(name) + utf8(value.DataType) + utf8(value.StringValue) + (value.BinaryValue?.byteLength ?? 0);
  }
  return bytes;
}

/**
 * Size of a `PutEvents` entry as EventBridge computes it against its 256 KiB limit: `Time` (14
 * bytes when set), `Source`, `DetailType`, `Detail` and each of `Resources`, in UTF-8.
 */
export function eventEntryBytes(entry: Pick<PutEventsRequestEntry, 'Time' | 'Source' | 'DetailType' | 'Detail' | 'Resources'>): number {
  let bytes = entry.Time ? 14 : 0;
  bytes += utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail);
  for (const r of entry.Resources ?? []) bytes += utf8(r);
  return bytes;
}
