/**
 * The consumer side: the envelope of an outbox event and its stable id, from whatever delivered it
 * (an SQS message from an EventBridge rule or an SNS subscription, raw or not; an SNS record; an
 * EventBridge event; a Kinesis record), for deduplication with the idempotency library.
 */
import { MESSAGE_ATTRIBUTE } from '../../../lib/core/wire';
import type { OutboxEnvelope } from './record';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function parse(text: unknown): unknown {
  if (typeof text !== 'string' || !text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isEnvelope = (v: unknown): v is OutboxEnvelope =>
  isObject(v) && typeof v.eventId === 'string' && typeof v.aggregateId === 'string' && typeof v.type === 'string' && 'data' in v;

/** The envelope in a JSON value: itself, an EventBridge event's detail, or an SNS notification's message. */
function fromValue(value: unknown): OutboxEnvelope | undefined {
  if (isEnvelope(value)) return value;
  if (!isObject(value)) return undefined;
  if (typeof value['detail-type'] === 'string' && isEnvelope(value.detail)) return value.detail;
  if (value.Type === 'Notification' && typeof value.Message === 'string') return fromValue(parse(value.Message));
  return undefined;
}

/**
 * The outbox envelope a delivery carries, or `undefined` when it carries none: an SQS record (its
 * body an envelope, an EventBridge event or an SNS notification), an SNS record, an EventBridge
 * event, or a Kinesis record (its base64 data).
 */
export function outboxEnvelope<T = unknown>(delivery: unknown): OutboxEnvelope<T> | undefined {
  if (!isObject(delivery)) return typeof delivery === 'string' ? (fromValue(parse(delivery)) as OutboxEnvelope<T> | undefined) : undefined;
  if (typeof delivery.body === 'string') return fromValue(parse(delivery.body)) as OutboxEnvelope<T> | undefined;
  if (isObject(delivery.Sns)) return fromValue(parse(delivery.Sns.Message)) as OutboxEnvelope<T> | undefined;
  if (isObject(delivery.kinesis) && typeof delivery.kinesis.data === 'string') {
    return fromValue(parse(Buffer.from(delivery.kinesis.data, 'base64').toString('utf8'))) as OutboxEnvelope<T> | undefined;
  }
  return fromValue(delivery) as OutboxEnvelope<T> | undefined;
}

/**
 * The stable id of the outbox event a delivery carries (its outbox record's `eventId`): the same on
 * every re-publication, whichever the target. Use it as the idempotency library's key selector, so
 * an event the relay published twice is applied once:
 *
 * @example
 * const idempotency = new TransactionalIdempotency({ keySelector: outboxEventId });
 *
 * Reads the `idempotencyKey` message attribute first (SNS, and SQS subscriptions with raw delivery),
 * then the envelope.
 */
export function outboxEventId(delivery: unknown): string | undefined {
  if (isObject(delivery)) {
    const sqsAttribute = isObject(delivery.messageAttributes) ? delivery.messageAttributes[MESSAGE_ATTRIBUTE.idempotencyKey] : undefined;
    if (isObject(sqsAttribute) && typeof sqsAttribute.stringValue === 'string' && sqsAttribute.stringValue) return sqsAttribute.stringValue;
    const snsAttributes = isObject(delivery.Sns) && isObject(delivery.Sns.MessageAttributes) ? delivery.Sns.MessageAttributes : undefined;
    const snsAttribute = snsAttributes?.[MESSAGE_ATTRIBUTE.idempotencyKey];
    if (isObject(snsAttribute) && typeof snsAttribute.Value === 'string' && snsAttribute.Value) return snsAttribute.Value;
  }
  return outboxEnvelope(delivery)?.eventId;
}
