/** SQS helpers for integration tests: send in batches, drain a queue into a list. */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { clientConfig } from './env';

export const sqsClient = (): SQSClient => new SQSClient(clientConfig());

/** Sends entries in batches of 10; fails if any entry fails. Returns the message ids by entry id. */
export async function sendAll(client: SQSClient, queueUrl: string, entries: SendMessageBatchRequestEntry[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (let i = 0; i < entries.length; i += 10) {
    const res = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries.slice(i, i + 10) }));
    if (res.Failed && res.Failed.length > 0) throw new Error(`send failed: ${JSON.stringify(res.Failed)}`);
    for (const s of res.Successful ?? []) ids.set(s.Id!, s.MessageId!);
  }
  return ids;
}

/** Receives every message currently available, and deletes what it received. */
export async function drain(client: SQSClient, queueUrl: string, { waitSeconds = 1 } = {}): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const res = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 30,
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) return out;
    out.push(...messages);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/** ApproximateNumberOfMessages + NotVisible + Delayed of a queue. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const res = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = res.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}
