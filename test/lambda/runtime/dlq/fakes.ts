/**
 * In-memory stand-ins for the SQS and S3 clients, for unit tests of the dead-letter-queue helpers.
 * They keep state (messages with visibility and receive counts, move tasks, objects) so the tests
 * assess outcomes, not call sequences. The integration test runs the same helpers against the
 * emulator.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';

interface FakeMessage {
  id: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, { DataType: string; StringValue: string }>;
  receiveCount: number;
  invisibleUntil: number;
  receiptHandle?: string;
}

interface FakeQueue {
  url: string;
  arn: string;
  name: string;
  messages: FakeMessage[];
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
  tags: Record<string, string>;
}

export interface FakeMoveTask {
  TaskHandle?: string;
  Status: string;
  SourceArn: string;
  DestinationArn?: string;
  MaxNumberOfMessagesPerSecond?: number;
  ApproximateNumberOfMessagesMoved: number;
  ApproximateNumberOfMessagesToMove: number;
  FailureReason?: string;
  StartedTimestamp: number;
}

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let handles = 0;

/** A tiny SQS: enough of ReceiveMessage, visibility, move tasks, tags and purge for the helpers. */
export class FakeSqs {
  public readonly queues = new Map<string, FakeQueue>();
  public readonly moveTasks: FakeMoveTask[] = [];
  public readonly calls: Array<{ command: string; input: Input }> = [];
  /** Errors to throw, by command name (once each). */
  public readonly failNext = new Map<string, Error>();
  private clock = 1_700_000_000_000;

  public addQueue(name: string, opts: { deadLetterTargetArn?: string; tags?: Record<string, string> } = {}): FakeQueue {
    const q: FakeQueue = {
      url: `https://sqs.us-east-1.amazonaws.com/111122223333/${name}`,
      arn: `arn:aws:sqs:us-east-1:111122223333:${name}`,
      name,
      messages: [],
      redrivePolicy: opts.deadLetterTargetArn ? { deadLetterTargetArn: opts.deadLetterTargetArn, maxReceiveCount: 3 } : undefined,
      tags: opts.tags ?? {},
    };
    this.queues.set(q.url, q);
    return q;
  }

  public addMessage(queue: FakeQueue, id: string, body: string, attributes: Record<string, string> = {}, receiveCount = 0): void {
    queue.messages.push({
      id,
      body,
      attributes: { SentTimestamp: String(this.clock), ...attributes },
      messageAttributes: {},
      receiveCount,
      invisibleUntil: 0,
    });
  }

  /** Moves the fake clock (visibility timeouts). */
  public advance(ms: number): void {
    this.clock += ms;
  }

  public now(): number {
    return this.clock;
  }

  public visible(queue: FakeQueue): FakeMessage[] {
    return queue.messages.filter((m) => m.invisibleUntil <= this.clock);
  }

  public get client(): SQSClient {
    return { send: (command: { constructor: { name: string }; input: Input }) => this.send(command) } as unknown as SQSClient;
  }

  private byUrl(url: string): FakeQueue {
    const q = this.queues.get(url);
    if (!q) throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
    return q;
  }

  private byArn(arn: string): FakeQueue {
    const q = [...this.queues.values()].find((x) => x.arn === arn);
    if (!q)
      throw Object.assign(new Error("The resource that you specified for the SourceArn parameter doesn't exist."), {
        name: 'ResourceNotFoundException',
      });
    return q;
  }

  private async send(command: { constructor: { name: string }; input: Input }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    this.calls.push({ command: name, input });
    const failure = this.failNext.get(name);
    if (failure) {
      this.failNext.delete(name);
      throw failure;
    }
    switch (name) {
      case 'GetQueueUrl': {
        const q = [...this.queues.values()].find((x) => x.name === input.QueueName);
        if (!q) throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
        return { QueueUrl: q.url };
      }
      case 'GetQueueAttributes': {
        const q = this.byUrl(input.QueueUrl);
        return {
          Attributes: {
            QueueArn: q.arn,
            ApproximateNumberOfMessages: String(this.visible(q).length),
            ApproximateNumberOfMessagesNotVisible: String(q.messages.length - this.visible(q).length),
            ...(q.redrivePolicy ? { RedrivePolicy: JSON.stringify(q.redrivePolicy) } : {}),
          },
        };
      }
      case 'ListDeadLetterSourceQueues': {
        const q = this.byUrl(input.QueueUrl);
        return { queueUrls: [...this.queues.values()].filter((x) => x.redrivePolicy?.deadLetterTargetArn === q.arn).map((x) => x.url) };
      }
      case 'ListQueueTags':
        return { Tags: this.byUrl(input.QueueUrl).tags };
      case 'ReceiveMessage': {
        const q = this.byUrl(input.QueueUrl);
        const out = this.visible(q).slice(0, input.MaxNumberOfMessages ?? 1);
        for (const m of out) {
          m.receiveCount += 1;
          m.invisibleUntil = this.clock + (input.VisibilityTimeout ?? 30) * 1000;
          m.receiptHandle = `rh-${++handles}`;
        }
        return {
          Messages: out.length
            ? out.map((m) => ({
                MessageId: m.id,
                Body: m.body,
                ReceiptHandle: m.receiptHandle,
                Attributes: { ...m.attributes, ApproximateReceiveCount: String(m.receiveCount) },
                MessageAttributes: m.messageAttributes,
              }))
            : undefined,
        };
      }
      case 'ChangeMessageVisibilityBatch': {
        const q = this.byUrl(input.QueueUrl);
        const failed: unknown[] = [];
        for (const e of input.Entries) {
          const m = q.messages.find((x) => x.receiptHandle === e.ReceiptHandle);
          if (m) m.invisibleUntil = this.clock + e.VisibilityTimeout * 1000;
          else failed.push({ Id: e.Id, Code: 'ReceiptHandleIsInvalid' });
        }
        return { Successful: [], Failed: failed };
      }
      case 'DeleteMessageBatch': {
        const q = this.byUrl(input.QueueUrl);
        for (const e of input.Entries) q.messages = q.messages.filter((x) => x.receiptHandle !== e.ReceiptHandle);
        return { Successful: input.Entries.map((e: Input) => ({ Id: e.Id })), Failed: [] };
      }
      case 'PurgeQueue':
        this.byUrl(input.QueueUrl).messages = [];
        return {};
      case 'ListMessageMoveTasks': {
        const tasks = this.moveTasks.filter((t) => t.SourceArn === input.SourceArn).sort((a, b) => b.StartedTimestamp - a.StartedTimestamp);
        return { Results: tasks.slice(0, input.MaxResults ?? 1) };
      }
      case 'StartMessageMoveTask': {
        const q = this.byArn(input.SourceArn);
        if (![...this.queues.values()].some((x) => x.redrivePolicy?.deadLetterTargetArn === q.arn)) {
          throw Object.assign(new Error('Source queue must be configured as a Dead Letter Queue.'), {
            name: 'InvalidParameterValueException',
          });
        }
        this.advance(1);
        const handle = `task-${++handles}`;
        this.moveTasks.push({
          TaskHandle: handle,
          Status: 'RUNNING',
          SourceArn: q.arn,
          DestinationArn: input.DestinationArn,
          MaxNumberOfMessagesPerSecond: input.MaxNumberOfMessagesPerSecond,
          ApproximateNumberOfMessagesMoved: 0,
          ApproximateNumberOfMessagesToMove: q.messages.length,
          StartedTimestamp: this.clock,
        });
        return { TaskHandle: handle };
      }
      case 'CancelMessageMoveTask': {
        const t = this.moveTasks.find((x) => x.TaskHandle === input.TaskHandle);
        if (!t) throw Object.assign(new Error('Task does not exist.'), { name: 'ResourceNotFoundException' });
        t.Status = 'CANCELLING';
        return { ApproximateNumberOfMessagesMoved: t.ApproximateNumberOfMessagesMoved };
      }
      default:
        throw new Error(`FakeSqs: ${name} is not implemented`);
    }
  }
}

/** A tiny S3: PutObject and GetObject on one map. */
export class FakeS3 {
  public readonly objects = new Map<string, { body: string; contentType?: string }>();
  public readonly calls: Array<{ command: string; input: Input }> = [];
  public failNext?: Error;

  public get client(): S3Client {
    return { send: (command: { constructor: { name: string }; input: Input }) => this.send(command) } as unknown as S3Client;
  }

  private async send(command: { constructor: { name: string }; input: Input }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    this.calls.push({ command: name, input });
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    const key = `${input.Bucket}/${input.Key}`;
    if (name === 'PutObject') {
      this.objects.set(key, { body: String(input.Body), contentType: input.ContentType });
      return {};
    }
    if (name === 'GetObject') {
      const o = this.objects.get(key);
      if (!o) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      return { Body: { transformToString: async () => o.body } };
    }
    throw new Error(`FakeS3: ${name} is not implemented`);
  }
}
