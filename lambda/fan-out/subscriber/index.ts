/**
 * Example fan-out subscriber, used by the integration tests and as a starting point.
 *
 * Each message is a JSON object `{ "id": "...", ... }`, delivered raw (the published message is the
 * body, the kit's default) or in the SNS envelope (raw delivery off): both are read. When
 * `RESULTS_QUEUE_URL` is set, each successful processing is reported there as `{ id, source, group,
 * seq, receiveCount, messageId }`, where `source` is the subscription queue's ARN: one function can
 * consume several subscriptions and the tests still know which subscription processed what. A
 * results queue whose name ends in `.fifo` keeps the order of processing per source and message group.
 *
 * Fault injection (tests only, `FAULT_INJECTION=on`): a message with `"fail": true` always fails,
 * so it is retried and ends in the subscription queue's dead-letter queue.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseJsonBody, processSqsBatch } from '../../runtime/batch/sqs';
import { EXAMPLE_ENV } from '../../../lib/core/wire';

/** A message that can never be processed: not a JSON object with a string `id`. */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

/** A failure asked for by the message itself (fault injection on). */
export class InjectedFaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedFaultError';
  }
}

/** A published message, as this subscriber reads it. */
export interface FanOutMessage {
  readonly id: string;
  readonly seq?: number;
  readonly fail?: boolean;
}

const sqs = new SQSClient({});
const resultsQueueUrl = process.env[EXAMPLE_ENV.resultsQueueUrl];
const faultInjection = process.env[EXAMPLE_ENV.faultInjection] === 'on';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The published message: the body (raw delivery), or the `Message` of an SNS envelope. */
export function readMessage(record: SQSRecord): FanOutMessage {
  let message: unknown = parseJsonBody(record);
  if (isObject(message) && message.Type === 'Notification' && typeof message.TopicArn === 'string' && typeof message.Message === 'string') {
    try {
      message = JSON.parse(message.Message);
    } catch {
      throw new InvalidMessageError(`message ${record.messageId}: the SNS envelope's Message is not JSON`);
    }
  }
  if (!isObject(message) || typeof message.id !== 'string' || message.id === '') {
    throw new InvalidMessageError(`message ${record.messageId}: id must be a non-empty string`);
  }
  return message as unknown as FanOutMessage;
}

async function processMessage(record: SQSRecord): Promise<void> {
  const message = readMessage(record);
  if (faultInjection && message.fail === true) {
    throw new InjectedFaultError(`message ${message.id}: fails on purpose (fault injection)`);
  }
  if (!resultsQueueUrl) return;
  const source = record.eventSourceARN;
  const group = record.attributes.MessageGroupId;
  const fifo = resultsQueueUrl.endsWith('.fifo');
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: resultsQueueUrl,
      MessageBody: JSON.stringify({
        id: message.id,
        source,
        group,
        seq: message.seq,
        receiveCount: Number(record.attributes.ApproximateReceiveCount),
        messageId: record.messageId,
      }),
      // One results group per subscription and message group; every processing is a new message.
      ...(fifo
        ? {
            MessageGroupId: `${createHash('sha256').update(source).digest('hex').slice(0, 16)}:${group ?? 'none'}`,
            MessageDeduplicationId: randomUUID(),
          }
        : {}),
    }),
  );
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processSqsBatch(event, processMessage, { context, throwOnFullBatchFailure: false });
