/**
 * In-memory stand-ins for the SQS and Lambda clients, for unit tests of the priority-queue helpers.
 * They keep state (queued and in-flight messages, invocations) so tests assess outcomes. The
 * integration test runs the same helpers against the emulator.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface FakeMessage {
  id: string;
  body: string;
  messageAttributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: Uint8Array }>;
  receiveCount: number;
  inFlight: boolean;
  receiptHandle?: string;
}

let seq = 0;

/** A tiny SQS: send (single and batch), receive (no visibility expiry), delete, change visibility. */
export class FakeSqs {
  public readonly queues = new Map<string, FakeMessage[]>();
  public readonly calls: Array<{ command: string; input: Input }> = [];
  /** Batch entry ids that SendMessageBatch reports as failed. */
  public readonly failEntryIds = new Set<string>();
  /** Set to make every ReceiveMessage call fail (a persistent error: access denied, queue deleted). */
  public failReceive?: Error;
  /** Messages that arrive on a queue during the next long poll (WaitTimeSeconds > 0) of it. */
  public readonly arriveOnLongPoll = new Map<string, string[]>();

  public url(name: string): string {
    return `https://sqs.eu-west-1.amazonaws.com/111122223333/${name}`;
  }

  public arn(name: string): string {
    return `arn:aws:sqs:eu-west-1:111122223333:${name}`;
  }

  /** Puts messages on a queue; returns their ids. */
  public put(name: string, bodies: string[], attributes: FakeMessage['messageAttributes'] = {}): string[] {
    const list = this.queues.get(this.url(name)) ?? [];
    this.queues.set(this.url(name), list);
    return bodies.map((body) => {
      seq += 1;
      const id = `m-${seq}`;
      list.push({ id, body, messageAttributes: attributes, receiveCount: 0, inFlight: false });
      return id;
    });
  }

  /** Messages still in a queue (in flight or not). */
  public remaining(name: string): string[] {
    return (this.queues.get(this.url(name)) ?? []).map((m) => m.body);
  }

  public count(command: string): number {
    return this.calls.filter((c) => c.command === command).length;
  }

  public readonly client = {
    send: async (command: { constructor: { name: string }; input: Input }) => this.handle(command.constructor.name, command.input),
  } as unknown as SQSClient;

  private handle(command: string, input: Input): unknown {
    this.calls.push({ command, input });
    const queue = () => {
      const list = this.queues.get(input.QueueUrl) ?? [];
      this.queues.set(input.QueueUrl, list);
      return list;
    };
    switch (command) {
      case 'SendMessageCommand': {
        seq += 1;
        queue().push({
          id: `m-${seq}`,
          body: input.MessageBody,
          messageAttributes: input.MessageAttributes ?? {},
          receiveCount: 0,
          inFlight: false,
        });
        return { MessageId: `m-${seq}` };
      }
      case 'SendMessageBatchCommand': {
        const Successful: Input[] = [];
        const Failed: Input[] = [];
        for (const e of input.Entries as Input[]) {
          if (this.failEntryIds.has(e.Id)) {
            Failed.push({ Id: e.Id, Code: 'InternalError', Message: 'try again', SenderFault: false });
            continue;
          }
          seq += 1;
          queue().push({
            id: `m-${seq}`,
            body: e.MessageBody,
            messageAttributes: e.MessageAttributes ?? {},
            receiveCount: 0,
            inFlight: false,
          });
          Successful.push({ Id: e.Id, MessageId: `m-${seq}` });
        }
        return { Successful, Failed };
      }
      case 'ReceiveMessageCommand': {
        if (this.failReceive) throw this.failReceive;
        const name = String(input.QueueUrl).split('/').pop()!;
        if (input.WaitTimeSeconds > 0 && this.arriveOnLongPoll.has(name)) {
          this.put(name, this.arriveOnLongPoll.get(name)!);
          this.arriveOnLongPoll.delete(name);
        }
        const taken = queue()
          .filter((m) => !m.inFlight)
          .slice(0, input.MaxNumberOfMessages ?? 1);
        return {
          Messages: taken.map((m) => {
            m.inFlight = true;
            m.receiveCount += 1;
            m.receiptHandle = `rh-${m.id}-${m.receiveCount}`;
            return {
              MessageId: m.id,
              ReceiptHandle: m.receiptHandle,
              Body: m.body,
              MD5OfBody: 'md5',
              Attributes: {
                ApproximateReceiveCount: String(m.receiveCount),
                SentTimestamp: '1700000000000',
                SenderId: 'AIDA',
                ApproximateFirstReceiveTimestamp: '1700000000001',
              },
              MessageAttributes: Object.keys(m.messageAttributes).length > 0 ? m.messageAttributes : undefined,
            };
          }),
        };
      }
      case 'DeleteMessageBatchCommand': {
        const handles = new Set((input.Entries as Input[]).map((e) => e.ReceiptHandle));
        this.queues.set(
          input.QueueUrl,
          queue().filter((m) => !handles.has(m.receiptHandle)),
        );
        return { Successful: (input.Entries as Input[]).map((e) => ({ Id: e.Id })), Failed: [] };
      }
      case 'ChangeMessageVisibilityBatchCommand': {
        const handles = new Set((input.Entries as Input[]).filter((e) => e.VisibilityTimeout === 0).map((e) => e.ReceiptHandle));
        for (const m of queue()) if (handles.has(m.receiptHandle)) m.inFlight = false;
        return { Successful: (input.Entries as Input[]).map((e) => ({ Id: e.Id })), Failed: [] };
      }
      default:
        throw new Error(`FakeSqs: ${command} is not supported`);
    }
  }

  /**
   * Makes every in-flight message visible again: what SQS does when the visibility timeout of a
   * message that was not deleted expires.
   */
  public expireVisibility(): void {
    for (const list of this.queues.values()) for (const m of list) m.inFlight = false;
  }
}

/** What the fake consumer returns (or throws) for a batch. */
export type FakeConsumer = (event: { Records: Array<Record<string, any>> }) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A tiny Lambda: Invoke runs `consumer` in-process and returns its result as the payload. */
export class FakeLambda {
  public readonly invocations: Array<{ functionName: string; event: { Records: Array<Record<string, any>> } }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Set to make the next Invoke call itself fail (throttled, network). */
  public failNextCall?: Error;

  constructor(private consumer: FakeConsumer = () => ({ batchItemFailures: [] })) {}

  public setConsumer(consumer: FakeConsumer): void {
    this.consumer = consumer;
  }

  public readonly client = {
    send: async (command: { constructor: { name: string }; input: Input }) => {
      if (command.constructor.name !== 'InvokeCommand') throw new Error(`FakeLambda: ${command.constructor.name} is not supported`);
      if (this.failNextCall) {
        const e = this.failNextCall;
        this.failNextCall = undefined;
        throw e;
      }
      const event = JSON.parse(command.input.Payload as string);
      this.invocations.push({ functionName: command.input.FunctionName, event });
      try {
        const result = await this.consumer(event);
        return { StatusCode: 200, Payload: new TextEncoder().encode(result === undefined ? 'null' : JSON.stringify(result)) };
      } catch (error) {
        return {
          StatusCode: 200,
          FunctionError: 'Unhandled',
          Payload: new TextEncoder().encode(JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message })),
        };
      }
    },
  } as unknown as LambdaClient;

  /** Level of each invocation, from the event source ARN of its first record. */
  public levelsServed(): string[] {
    return this.invocations.map((i) => String(i.event.Records[0].eventSourceARN).split(':').pop()!);
  }
}
