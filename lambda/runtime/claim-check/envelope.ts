/**
 * Finds the producer's payload (or claim) inside what a consumer receives: an SQS record, an SNS
 * record, an EventBridge event, or a body that one service wrapped for another (SNS to SQS without
 * raw delivery, EventBridge to SQS).
 */
import type { EventBridgeEvent, SNSEventRecord, SQSRecord } from 'aws-lambda';
import { isObject } from './reference';

/** What a consumer can hand to `checkOut`. */
export type ClaimCheckMessage =
  | string
  | SQSRecord
  | SNSEventRecord
  | EventBridgeEvent<string, unknown>
  | { readonly Type: 'Notification'; readonly Message: string; readonly TopicArn: string };

/**
 * How `checkOut` reads a message body:
 * - `auto`: unwrap an SNS notification envelope (SNS to SQS without raw delivery) or an EventBridge
 *   event (EventBridge to SQS) found in the body;
 * - `none`: the body is the payload (or the claim) as the producer sent it.
 */
export type EnvelopeMode = 'auto' | 'none';

/** The payload part of a message: text as sent, or an EventBridge `detail` already parsed. */
export type Unwrapped = { readonly text: string } | { readonly value: unknown };

/** An SNS notification, as SNS delivers it to SQS (non-raw) or HTTP endpoints. */
function isSnsNotification(value: unknown): value is { Message: string } {
  return isObject(value) && value.Type === 'Notification' && typeof value.Message === 'string' && typeof value.TopicArn === 'string';
}

/** An EventBridge event (as EventBridge delivers it to a Lambda function or an SQS queue). */
function isEventBridgeEvent(value: unknown): value is { detail: unknown } {
  return isObject(value) && typeof value['detail-type'] === 'string' && typeof value.source === 'string' && 'detail' in value;
}

function unwrapBody(body: string, mode: EnvelopeMode): Unwrapped {
  if (mode === 'none' || body.trimStart()[0] !== '{') return { text: body };
  const maybeSns = body.includes('"TopicArn"') && body.includes('"Notification"');
  const maybeEvent = body.includes('"detail-type"');
  if (!maybeSns && !maybeEvent) return { text: body };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { text: body };
  }
  if (isSnsNotification(parsed)) return { text: parsed.Message };
  if (isEventBridgeEvent(parsed)) return { value: parsed.detail };
  return { text: body };
}

/** The payload part of `message`. */
export function unwrapMessage(message: ClaimCheckMessage, mode: EnvelopeMode = 'auto'): Unwrapped {
  if (typeof message === 'string') return unwrapBody(message, mode);
  const m = message as unknown as Record<string, unknown>;
  if (typeof m.body === 'string' && ('receiptHandle' in m || m.eventSource === 'aws:sqs')) return unwrapBody(m.body, mode);
  if (isObject(m.Sns) && typeof m.Sns.Message === 'string') return { text: m.Sns.Message };
  if (isSnsNotification(m)) return { text: m.Message };
  if (isEventBridgeEvent(m)) return { value: m.detail };
  throw new TypeError('checkOut expects a message body, an SQS record, an SNS record or an EventBridge event');
}
