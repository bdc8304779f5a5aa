import { SendMessageBatchCommand, type SendMessageBatchCommandOutput, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import {
  ConvoyMessageIdError,
  ConvoyProducer,
  ConvoySendError,
  MessagingPatternsRuntimeError,
  SequentialConvoyConfigurationError,
  SequentialConvoyError,
} from '../../../../lambda/runtime/sequential-convoy';

interface Event {
  readonly entity?: { readonly id?: unknown };
  readonly entityId?: unknown;
  readonly eventId?: string;
  readonly seq: number;
  readonly pad?: string;
}

/** An SQS client that records each SendMessageBatch and accepts every entry unless `refuse` says otherwise. */
function fakeSqs(refuse: (entry: SendMessageBatchRequestEntry, call: number) => boolean = () => false) {
  const calls: SendMessageBatchRequestEntry[][] = [];
  let sequence = 0;
  const client = {
    send: jest.fn(async (command: unknown): Promise<SendMessageBatchCommandOutput> => {
      expect(command).toBeInstanceOf(SendMessageBatchCommand);
      const entries = (command as SendMessageBatchCommand).input.Entries ?? [];
      const call = calls.push(entries) - 1;
      const Successful: NonNullable<SendMessageBatchCommandOutput['Successful']> = [];
      const Failed: NonNullable<SendMessageBatchCommandOutput['Failed']> = [];
      for (const e of entries) {
        if (refuse(e, call)) Failed.push({ Id: e.Id!, Code: 'InvalidParameterValue', Message: 'refused', SenderFault: true });
        else Successful.push({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: '', SequenceNumber: String(++sequence) });
      }
      return { Successful, Failed, $metadata: {} };
    }),
  };
  return { client, calls };
}

const events = (n: number, entities = 3): Event[] =>
  Array.from({ length: n }, (_, i) => ({ entityId: `e${i % entities}`, eventId: `ev-${i}`, seq: Math.floor(i / entities) + 1 }));

describe('Class: ConvoyProducer', () => {
  describe('Method: sendAll', () => {
    it('sends every event with its entity as message group, in order, in batches of 10', async () => {
      // Prepare
      const { client, calls } = fakeSqs();
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', client });
      const list = events(23);
      // Act
      const sent = await producer.sendAll(list);
      // Assess
      expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
      const flat = calls.flat();
      expect(flat.map((e) => JSON.parse(e.MessageBody!))).toEqual(list);
      expect(flat.map((e) => e.MessageGroupId)).toEqual(list.map((e) => e.entityId));
      expect(flat.every((e) => e.MessageDeduplicationId === undefined)).toBe(true);
      expect(sent.map((s) => s.index)).toEqual(list.map((_, i) => i));
      expect(sent.map((s) => s.groupId)).toEqual(list.map((e) => e.entityId));
      expect(client.send.mock.calls[0][0]).toMatchObject({ input: { QueueUrl: 'https://sqs/q.fifo' } });
    });

    it('reads nested property paths and selector functions, and turns numbers into ids', async () => {
      const { client, calls } = fakeSqs();
      const byPath = new ConvoyProducer<Event>({
        queueUrl: 'https://sqs/q.fifo',
        groupBy: 'entity.id',
        deduplicationId: (e) => e.seq,
        client,
      });
      await byPath.sendAll([{ entity: { id: 42 }, seq: 7 }]);
      expect(calls[0][0]).toMatchObject({ MessageGroupId: '42', MessageDeduplicationId: '7' });
    });

    it('sends explicit deduplication ids when asked', async () => {
      const { client, calls } = fakeSqs();
      const producer = new ConvoyProducer<Event>({
        queueUrl: 'https://sqs/q.fifo',
        groupBy: 'entityId',
        deduplicationId: 'eventId',
        client,
      });
      await producer.sendAll(events(3));
      expect(calls[0].map((e) => e.MessageDeduplicationId)).toEqual(['ev-0', 'ev-1', 'ev-2']);
    });

    it('starts a new batch before the 1 MiB request limit', async () => {
      const { client, calls } = fakeSqs();
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', client });
      const big = 'x'.repeat(300_000);
      await producer.sendAll(events(5).map((e) => ({ ...e, pad: big })));
      expect(calls.map((c) => c.length)).toEqual([3, 2]);
    });

    it.each([
      [{ seq: 1 }, /MessageGroupId from 'entityId' must be a non-empty string or a finite number \(given undefined\)/],
      [{ entityId: '', seq: 1 }, /must be a non-empty string or a finite number \(given ""\)/],
      [{ entityId: { nested: true }, seq: 1 }, /must be a non-empty string or a finite number/],
      [{ entityId: 'a b', seq: 1 }, /may only hold letters, digits and ASCII punctuation \(given "a b"\)/],
      [{ entityId: 'é', seq: 1 }, /may only hold letters, digits and ASCII punctuation/],
      [{ entityId: 'x'.repeat(129), seq: 1 }, /must be at most 128 characters \(given 129\)/],
    ])('sends nothing when a group id is invalid (%p)', async (bad, message) => {
      const { client } = fakeSqs();
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', client });
      const error = await producer.sendAll([...events(3), bad as Event]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConvoyMessageIdError);
      expect((error as ConvoyMessageIdError).message).toMatch(message);
      expect((error as ConvoyMessageIdError).index).toBe(3);
      expect((error as ConvoyMessageIdError).field).toBe('MessageGroupId');
      expect(client.send).not.toHaveBeenCalled();
    });

    it('names the deduplication id when that is the bad one', async () => {
      const { client } = fakeSqs();
      const producer = new ConvoyProducer<Event>({
        queueUrl: 'https://sqs/q.fifo',
        groupBy: 'entityId',
        deduplicationId: 'eventId',
        client,
      });
      const error = await producer.sendAll([{ entityId: 'a', seq: 1 }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConvoyMessageIdError);
      expect((error as Error).message).toMatch(/^message 0: MessageDeduplicationId from 'eventId'/);
      expect(error).toMatchObject({ retryable: false, context: { index: 0, field: 'MessageDeduplicationId' } });
    });

    it('refuses a message that serializes to nothing', async () => {
      const { client } = fakeSqs();
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', serialize: () => '', client });
      await expect(producer.sendAll(events(1))).rejects.toThrow(SequentialConvoyError);
    });

    it('stops at the first partly refused batch and says what was sent, what was not, and which groups lost order', async () => {
      // Prepare: in the second batch, event 12 (entity e0) is refused while event 15 (also e0) is accepted.
      const { client, calls } = fakeSqs((e) => e.Id === '12');
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', client });
      // Act
      const error = (await producer.sendAll(events(30)).catch((e: unknown) => e)) as ConvoySendError;
      // Assess
      expect(error).toBeInstanceOf(ConvoySendError);
      expect(calls).toHaveLength(2);
      expect(error.failures).toEqual([{ index: 12, groupId: 'e0', code: 'InvalidParameterValue', message: 'refused', senderFault: true }]);
      expect(error.sent).toEqual([...Array.from({ length: 12 }, (_, i) => i), 13, 14, 15, 16, 17, 18, 19]);
      expect(error.unsent).toEqual([12, ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
      expect(error.outOfOrderGroups).toEqual(['e0']);
      expect(error).toBeInstanceOf(SequentialConvoyError);
      expect(error).toBeInstanceOf(MessagingPatternsRuntimeError);
      expect(error.retryable).toBe(false); // SQS blames the request: the same entry fails again
      expect(error.context).toEqual({ failedIndexes: [12], groups: ['e0'], outOfOrderGroups: ['e0'] });
      expect(error.message).toMatch(
        /SQS refused 1 message\(s\) \(first: message 12 of group 'e0': InvalidParameterValue refused\); 19 sent, 11 unsent; order broken in group\(s\) e0/,
      );
    });

    it('does not report broken order when the refused message is the last of its group in the batch', async () => {
      const { client } = fakeSqs((e) => e.Id === '9');
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', client });
      const error = (await producer.sendAll(events(10)).catch((e: unknown) => e)) as ConvoySendError;
      expect(error.outOfOrderGroups).toEqual([]);
      expect(error.unsent).toEqual([9]);
      expect(error.retryable).toBe(false);
    });
  });

  describe('Method: send', () => {
    it('sends one event and returns its sequence number', async () => {
      const { client } = fakeSqs();
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', client });
      expect(await producer.send({ entityId: 'a', seq: 1 })).toEqual({ index: 0, groupId: 'a', messageId: 'm-0', sequenceNumber: '1' });
    });
  });

  describe('Method: groupIdOf', () => {
    it('gives the message group of an event without sending', () => {
      const producer = new ConvoyProducer<Event>({ queueUrl: 'https://sqs/q.fifo', groupBy: (e) => `tenant-1:${String(e.entityId)}` });
      expect(producer.groupIdOf({ entityId: 'a', seq: 1 })).toBe('tenant-1:a');
    });
  });
});

describe('Class: ConvoyProducer, options', () => {
  it.each([
    ['queueUrl', { queueUrl: 'orders.fifo' }, /queueUrl must be an http\(s\) URL \(given 'orders.fifo'\)/],
    ['queueUrl', { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/orders' }, /queueUrl must be the URL of a FIFO queue/],
    ['groupBy', { groupBy: '' }, /groupBy must be a property path .* or a function \(given ""\)/],
    ['groupBy', { groupBy: 'order..id' }, /groupBy must be a property path/],
    ['groupBy', { groupBy: undefined }, /groupBy must be a property path/],
    ['deduplicationId', { deduplicationId: 7 }, /deduplicationId must be a property path .* \(given 7\)/],
    ['serialize', { serialize: 'json' }, /serialize must be a function/],
    ['client', { client: {} }, /client must be an AWS SDK v3 client/],
  ])('fails with SequentialConvoyConfigurationError for a bad %s', (option, options, message) => {
    const make = () => new ConvoyProducer({ queueUrl: 'https://sqs/q.fifo', groupBy: 'entityId', ...(options as object) } as never);
    expect(make).toThrow(message);
    expect(make).toThrow(SequentialConvoyConfigurationError);
    expect(make).toThrow(expect.objectContaining({ name: 'SequentialConvoyConfigurationError', option, retryable: false }));
  });

  it('fromEnvironment reads CONVOY_QUEUE_URL (set by connectProducer), and fails without it', () => {
    process.env.CONVOY_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/orders.fifo';
    try {
      expect(ConvoyProducer.fromEnvironment({ groupBy: 'entityId' }).groupIdOf({ entityId: 'e1' })).toBe('e1');
    } finally {
      delete process.env.CONVOY_QUEUE_URL;
    }
    expect(() => ConvoyProducer.fromEnvironment({ groupBy: 'entityId' })).toThrow(SequentialConvoyConfigurationError);
  });

  it('marks a send error retryable when SQS blames none of the refused entries on the request', () => {
    const error = new ConvoySendError([{ index: 0, groupId: 'g', code: 'InternalError', senderFault: false }], [], [0], []);
    expect(error.retryable).toBe(true);
  });
});
