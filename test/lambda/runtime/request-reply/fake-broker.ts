/**
 * An in-memory SQS for unit tests of request-reply: queues created at run time, messages with
 * attributes, long polling that wakes when a message arrives (WaitTimeSeconds scaled down so tests
 * stay fast), tags, deletion. The integration test runs the same helpers against the emulator.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface BrokerMessage {
  MessageId: string;
  Body: string;
  MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
  ReceiptHandle?: string;
}

export interface BrokerQueue {
  url: string;
  name: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  visible: BrokerMessage[];
  inFlight: Map<string, BrokerMessage>;
  wake: Array<() => void>;
  createdTimestamp: number;
}

const ACCOUNT = '111122223333';
let ids = 0;

export class FakeBroker {
  public readonly queues = new Map<string, BrokerQueue>();
  public readonly calls: Array<{ command: string; input: Input }> = [];
  /** Errors to throw once, by command name. */
  public readonly failNext = new Map<string, Error>();

  /** @param waitScale milliseconds of real time per second of WaitTimeSeconds */
  constructor(private readonly waitScale = 20) {}

  public createQueue(name: string): BrokerQueue {
    const q: BrokerQueue = {
      url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`,
      name,
      attributes: {},
      tags: {},
      visible: [],
      inFlight: new Map(),
      wake: [],
      createdTimestamp: Math.floor(Date.now() / 1000),
    };
    this.queues.set(q.url, q);
    return q;
  }

  public arnOf(q: BrokerQueue): string {
    return `arn:aws:sqs:us-east-1:${ACCOUNT}:${q.name}`;
  }

  public count(command: string): number {
    return this.calls.filter((c) => c.command === command).length;
  }

  public get client(): SQSClient {
    return { send: (command: { constructor: { name: string }; input: Input }) => this.send(command) } as unknown as SQSClient;
  }

  /** Takes every visible message off a queue (a responder receiving), as Lambda records. */
  public takeRecords(q: BrokerQueue): SQSRecord[] {
    const out = q.visible.splice(0);
    return out.map((m) => ({
      messageId: m.MessageId,
      receiptHandle: `rh-${m.MessageId}`,
      body: m.Body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(m.MessageAttributes).map(([k, v]) => [k, { dataType: v.DataType, stringValue: v.StringValue }]),
      ) as SQSRecord['messageAttributes'],
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.arnOf(q),
      awsRegion: 'us-east-1',
    }));
  }

  /** Puts a message on a queue directly (a forged or late reply). */
  public put(q: BrokerQueue, body: string, attributes: Record<string, string>): void {
    q.visible.push({
      MessageId: `m-${++ids}`,
      Body: body,
      MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
    });
    for (const w of q.wake.splice(0)) w();
  }

  private byUrl(url: string): BrokerQueue {
    const q = this.queues.get(url);
    if (!q) throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
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
      case 'CreateQueue': {
        const q = this.createQueue(input.QueueName);
        q.attributes = { ...input.Attributes };
        q.tags = { ...input.tags };
        return { QueueUrl: q.url };
      }
      case 'DeleteQueue':
        this.byUrl(input.QueueUrl);
        this.queues.delete(input.QueueUrl);
        return {};
      case 'TagQueue':
        Object.assign(this.byUrl(input.QueueUrl).tags, input.Tags);
        return {};
      case 'ListQueueTags':
        return { Tags: this.byUrl(input.QueueUrl).tags };
      case 'GetQueueAttributes':
        return { Attributes: { CreatedTimestamp: String(this.byUrl(input.QueueUrl).createdTimestamp) } };
      case 'ListQueues': {
        const urls = [...this.queues.values()].filter((q) => q.name.startsWith(input.QueueNamePrefix ?? '')).map((q) => q.url);
        return { QueueUrls: urls.length ? urls : undefined };
      }
      case 'SendMessage': {
        this.put(
          this.byUrl(input.QueueUrl),
          input.MessageBody,
          Object.fromEntries(
            Object.entries((input.MessageAttributes ?? {}) as Record<string, { StringValue: string }>).map(([k, v]) => [k, v.StringValue]),
          ),
        );
        return { MessageId: `m-${ids}` };
      }
      case 'ReceiveMessage': {
        const q = this.byUrl(input.QueueUrl);
        if (q.visible.length === 0 && input.WaitTimeSeconds) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, input.WaitTimeSeconds * this.waitScale);
            q.wake.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        if (!this.queues.has(q.url)) throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
        const out = q.visible.splice(0, input.MaxNumberOfMessages ?? 1);
        for (const m of out) {
          m.ReceiptHandle = `rh-${++ids}`;
          q.inFlight.set(m.ReceiptHandle, m);
        }
        return { Messages: out.length ? out.map((m) => ({ ...m })) : undefined };
      }
      case 'DeleteMessageBatch': {
        const q = this.byUrl(input.QueueUrl);
        for (const e of input.Entries) q.inFlight.delete(e.ReceiptHandle);
        return { Successful: input.Entries.map((e: Input) => ({ Id: e.Id })), Failed: [] };
      }
      default:
        throw new Error(`FakeBroker: ${name} is not implemented`);
    }
  }
}
