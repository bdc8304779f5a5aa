import { PublishConfigurationError } from '../../../../lambda/runtime/publish/errors';
import { EventBridgePublisher, eventBridgeEntrySize, type EventBridgePublishEntry } from '../../../../lambda/runtime/publish/eventbridge';
import { FakeEventBridge, eventBridgeClientFor, randomFaults } from './fake-services';
import { expectPublishInvariants } from './invariants';

const event = (id: string, key?: string, extra: Partial<EventBridgePublishEntry> = {}): EventBridgePublishEntry => ({
  id,
  source: 'orders',
  detailType: 'OrderChanged',
  detail: { id, ...(key ? { key } : {}) },
  ...(key ? { orderingKey: key } : {}),
  ...extra,
});
const publisherFor = (fake: FakeEventBridge, options: ConstructorParameters<typeof EventBridgePublisher>[0] = {}) =>
  new EventBridgePublisher({ client: eventBridgeClientFor(fake), logger: null, baseDelayMs: 0, ...options });

describe('Class: EventBridgePublisher', () => {
  describe('Method: publish', () => {
    it('publishes in ⌈n/10⌉ PutEvents calls when nothing fails', async () => {
      const fake = new FakeEventBridge();
      const entries = Array.from({ length: 200 }, (_, i) => event(`e${i}`));

      const result = await publisherFor(fake).publish(entries);

      expect(fake.calls).toHaveLength(20);
      expect(result.published.map((p) => p.id)).toEqual(entries.map((e) => e.id));
      expect(result.published[0]).toEqual({ id: 'e0', eventId: 'ev-1', attempts: 1 });
    });

    it('reports an entry over 256 KiB (as AWS counts it) without a call, and sends the rest', async () => {
      const fake = new FakeEventBridge();
      // Source 6 + DetailType 12 + Detail: just over the limit once Time's 14 bytes count.
      const overhead = JSON.stringify({ id: 'big', pad: '' }).length;
      const detail = JSON.stringify({ id: 'big', pad: 'x'.repeat(262_145 - 14 - 6 - 12 - overhead) });
      const big = event('big', undefined, { detail, time: new Date() });
      expect(eventBridgeEntrySize({ Source: 'orders', DetailType: 'OrderChanged', Detail: detail, Time: new Date() })).toBe(262_145);

      const result = await publisherFor(fake).publish([big, event('ok')]);

      expect(fake.calls).toEqual([[expect.objectContaining({ id: 'ok' })]]);
      expect(result.failed).toEqual([
        {
          id: 'big',
          errorCode: 'EntryTooLarge',
          errorMessage: 'entry is 262145 bytes, more than the 262144 bytes EventBridge accepts',
          attempts: 0,
          retryable: false,
        },
      ]);
    });

    it('splits calls at 256 KiB in total', async () => {
      const fake = new FakeEventBridge();
      const entries = ['a', 'b', 'c'].map((id) => event(id, undefined, { detail: JSON.stringify({ id, pad: 'x'.repeat(100_000) }) }));

      await publisherFor(fake).publish(entries);

      expect(fake.calls.map((c) => c.length)).toEqual([2, 1]);
    });

    it('retries ThrottlingException and InternalFailure entries, and reports MalformedDetail at once', async () => {
      const fake = new FakeEventBridge({
        entry: (e, call) =>
          e.id === 'throttled' && call < 2
            ? { code: 'ThrottlingException' }
            : e.id === 'internal' && call === 0
              ? { code: 'InternalFailure' }
              : e.id === 'malformed'
                ? { code: 'MalformedDetail', message: 'Detail is malformed.' }
                : undefined,
      });

      const result = await publisherFor(fake).publish([event('throttled'), event('internal'), event('malformed')]);

      expect(Object.fromEntries(result.published.map((p) => [p.id, p.attempts]))).toEqual({ throttled: 3, internal: 2 });
      expect(result.failed).toEqual([
        { id: 'malformed', errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.', attempts: 1, retryable: false },
      ]);
    });

    it('gives up after maxAttempts and reports the entry as retryable', async () => {
      const fake = new FakeEventBridge({ entry: () => ({ code: 'ThrottlingException', message: 'Rate exceeded' }) });

      const result = await publisherFor(fake, { maxAttempts: 3 }).publish([event('a')]);

      expect(fake.calls).toHaveLength(3);
      expect(result.failed).toEqual([
        { id: 'a', errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded', attempts: 3, retryable: true },
      ]);
    });

    it.each([
      [11, 0.1],
      [12, 0.3],
      [13, 0.3],
    ])('loses nothing and keeps each ordering key in order under faults (seed %i, %f of entries fail)', async (seed, share) => {
      const fake = new FakeEventBridge(
        randomFaults(
          seed,
          { entry: share, call: 0.1, permanent: 0.2 },
          { retryable: 'ThrottlingException', permanent: 'InvalidArgument', call: 'ThrottlingException' },
        ),
      );
      const entries = Array.from({ length: 200 }, (_, i) => event(`e${i}`, i % 3 === 0 ? undefined : `k${i % 9}`));

      const result = await publisherFor(fake).publish(entries);

      expectPublishInvariants(
        entries.map((e) => ({ id: e.id, key: e.orderingKey ?? undefined })),
        result,
        fake.accepted,
      );
    });

    it('sends the EventBridge fields, with the publisher bus and endpoint as defaults', async () => {
      const fake = new FakeEventBridge();
      const client = eventBridgeClientFor(fake);
      const inputs: unknown[] = [];
      client.middlewareStack.add(
        (next) => async (args) => {
          inputs.push(args.input);
          return next(args);
        },
        { step: 'initialize', name: 'spy' },
      );
      const time = new Date('2024-01-02T03:04:05Z');

      await publisherFor(fake, { client, eventBusName: 'orders-bus', endpointId: 'abcde.veo' }).publish([
        event('a', undefined, { resources: ['arn:r'], time, traceHeader: 'Root=1' }),
        event('b', undefined, { eventBusName: 'other', detail: '{"id":"b"}' }),
      ]);

      expect(inputs).toEqual([
        {
          EndpointId: 'abcde.veo',
          Entries: [
            {
              Source: 'orders',
              DetailType: 'OrderChanged',
              Detail: '{"id":"a"}',
              Resources: ['arn:r'],
              Time: time,
              EventBusName: 'orders-bus',
              TraceHeader: 'Root=1',
            },
            expect.objectContaining({ Detail: '{"id":"b"}', EventBusName: 'other' }),
          ],
        },
      ]);
    });

    it('refuses an entry whose detail cannot be serialised, without a call', async () => {
      const fake = new FakeEventBridge();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;

      const result = await publisherFor(fake).publish([event('cyclic', undefined, { detail: cyclic })]);

      expect(fake.calls).toHaveLength(0);
      expect(result.failed).toEqual([expect.objectContaining({ id: 'cyclic', errorCode: 'InvalidEntry', retryable: false })]);
    });
  });

  describe('Function: eventBridgeEntrySize', () => {
    it('counts Time as 14 bytes and Source, DetailType, Detail and Resources as UTF-8', () => {
      expect(eventBridgeEntrySize({ Source: 'a', DetailType: 'bb', Detail: '{"é":1}' })).toBe(1 + 2 + 8);
      expect(eventBridgeEntrySize({ Source: 'a', DetailType: 'b', Time: new Date(), Resources: ['r1', 'ré'] })).toBe(14 + 1 + 1 + 2 + 3);
    });
  });

  describe('Options', () => {
    it.each([
      [{ eventBusName: '' }, /eventBusName must be a non-empty string \(given ''\)/],
      [{ maxEntrySizeBytes: 10 }, /maxEntrySizeBytes must be an integer between 1024 and 1048576 \(given 10\)/],
      [{ endpointId: 5 }, /endpointId must be a non-empty string \(given 5\)/],
    ])('fails if an option is invalid (%j)', (options, message) => {
      expect(() => new EventBridgePublisher(options as never)).toThrow(PublishConfigurationError);
      expect(() => new EventBridgePublisher(options as never)).toThrow(message);
    });

    it('creates a client when none is given', () => {
      expect(new EventBridgePublisher().eventBusName).toBeUndefined();
    });
  });
});
