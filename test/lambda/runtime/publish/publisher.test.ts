import { MessagingPatternsRuntimeError, isRetryable } from '../../../../lambda/runtime/publish';
import { PublishConfigurationError, PublishError, PublishFailedError, PublishInputError } from '../../../../lambda/runtime/publish/errors';
import { BatchPublisher, type EntryOutcome, type PreparedEntry, type PublishEntryBase } from '../../../../lambda/runtime/publish/publisher';
import { backoffDelayMs, isRetryableCallError } from '../../../../lambda/runtime/publish/private/retry';
import { assertAllPublished } from '../../../../lambda/runtime/publish/result';
import { SnsPublisher } from '../../../../lambda/runtime/publish/sns';
import { FakeSns, memoryLogger, prng, snsClientFor } from './fake-services';
import { expectPublishInvariants } from './invariants';

const topicArn = 'arn:aws:sns:us-east-1:000000000000:orders.fifo';
const message = (id: string, group?: string) => ({ id, message: JSON.stringify({ id }), ...(group ? { messageGroupId: group } : {}) });
const sns = (fake: FakeSns, options: Partial<ConstructorParameters<typeof SnsPublisher>[0]> = {}) =>
  new SnsPublisher({ topicArn, client: snsClientFor(fake), logger: null, baseDelayMs: 0, ...options });

describe('Class: BatchPublisher', () => {
  afterEach(() => jest.restoreAllMocks());

  describe('Method: publish', () => {
    it('sends nothing for no entries', async () => {
      const fake = new FakeSns();
      expect(await sns(fake).publish([])).toEqual({ published: [], failed: [] });
      expect(fake.calls).toHaveLength(0);
    });

    it('reports every entry of a call refused as a whole, and holds back their keys', async () => {
      const fake = new FakeSns({ call: (c) => (c === 0 ? 'AuthorizationError' : undefined) });

      const result = await sns(fake).publish([message('a1', 'a'), message('b1', 'b'), message('a2', 'a')]);

      expect(fake.calls).toHaveLength(1);
      expect(result.published).toEqual([]);
      expect(result.failed).toEqual([
        { id: 'a1', errorCode: 'AuthorizationErrorException', errorMessage: 'injected AuthorizationError', attempts: 1, retryable: false },
        { id: 'b1', errorCode: 'AuthorizationErrorException', errorMessage: 'injected AuthorizationError', attempts: 1, retryable: false },
        { id: 'a2', errorCode: 'HeldBack', errorMessage: 'held back behind a1', attempts: 0, retryable: true, heldBackBehind: 'a1' },
      ]);
    });

    it('retries a whole call that was throttled or failed with a 5xx', async () => {
      const fake = new FakeSns({ call: (c) => (c === 0 ? 'Throttled' : c === 1 ? 'InternalError' : undefined) });
      const entries = Array.from({ length: 10 }, (_, i) => message(`m${i}`));

      const result = await sns(fake).publish(entries);

      expect(fake.calls.map((c) => c.length)).toEqual([10, 10, 10]);
      expect(result.published.every((p) => p.attempts === 3)).toBe(true);
    });

    it('retries a call that failed on the network', async () => {
      const fake = new FakeSns();
      let failures = 1;
      const handle = fake.handle.bind(fake);
      fake.handle = async (request) => {
        if (failures-- > 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return handle(request);
      };

      const result = await sns(fake).publish([message('a')]);

      expect(result.published).toEqual([expect.objectContaining({ id: 'a', attempts: 2 })]);
    });

    it('backs off before a retry while other keys go on', async () => {
      // Prepare: full jitter drawn at its top, so the delay is the ceiling (base 40 ms)
      jest.spyOn(Math, 'random').mockReturnValue(0.999);
      const fake = new FakeSns({
        entry: (e, call) => (e.id === 'a1' && call === 0 ? { code: 'InternalError', senderFault: false } : undefined),
      });
      const started = Date.now();
      const sentAt: Record<string, number> = {};
      const handle = fake.handle.bind(fake);
      fake.handle = async (request) => {
        const reply = await handle(request);
        for (const e of fake.calls[fake.calls.length - 1]) sentAt[`${e.id}@${fake.calls.length}`] = Date.now() - started;
        return reply;
      };

      // Act
      const result = await sns(fake, { baseDelayMs: 40 }).publish([
        message('a1', 'a'),
        message('b1', 'b'),
        message('b2', 'b'),
        message('b3', 'b'),
      ]);

      // Assess: b goes on at once; a1 is sent again only after ~40 ms
      expect(fake.calls.map((c) => c.map((e) => e.id))).toEqual([['a1', 'b1'], ['b2'], ['b3'], ['a1']]);
      expect(sentAt['a1@4']).toBeGreaterThanOrEqual(38);
      expect(result.failed).toEqual([]);
    });

    it('keeps per-key order with several calls in flight', async () => {
      // Prepare: 40 message groups, so each round of the strict mode fills four calls
      const random = prng(7);
      const fake = new FakeSns({ entry: () => (random() < 0.2 ? { code: 'InternalError', senderFault: false } : undefined) }, () =>
        Math.floor(random() * 5),
      );
      const entries = Array.from({ length: 300 }, (_, i) => message(`m${i}`, `g${i % 40}`));

      // Act
      const result = await sns(fake, { maxConcurrentCalls: 4, maxAttempts: 10 }).publish(entries);

      // Assess
      expect(fake.maxInFlight).toBeGreaterThan(1);
      expect(fake.maxInFlight).toBeLessThanOrEqual(4);
      expectPublishInvariants(
        entries.map((e) => ({ id: e.id, key: e.messageGroupId })),
        result,
        fake.accepted,
      );
    });

    it.each([
      [{} as unknown, /entries must be an array \(given object\)/],
      [[{ message: 'x' }], /entry 0 has no id/],
      [[message('a'), message('a')], /two entries have the id 'a'/],
    ])('fails before any call if the entries are unusable (%j)', async (entries, error) => {
      const fake = new FakeSns();
      await expect(sns(fake).publish(entries as never)).rejects.toThrow(PublishInputError);
      await expect(sns(fake).publish(entries as never)).rejects.toThrow(error);
      expect(fake.calls).toHaveLength(0);
    });

    it('throws PublishFailedError with the failed ids when asked to', async () => {
      const fake = new FakeSns({ entry: (e) => (e.id === 'bad' ? { code: 'InvalidParameter' } : undefined) });

      const error = await sns(fake, { throwOnFailure: true })
        .publish([message('ok'), message('bad')])
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(PublishFailedError);
      expect(error).toBeInstanceOf(PublishError);
      expect(error).toBeInstanceOf(MessagingPatternsRuntimeError);
      const failed = error as PublishFailedError;
      expect(failed.name).toBe('PublishFailedError');
      expect(failed.message).toBe('1 of 2 entries were not published: bad');
      expect(failed.failedIds).toEqual(['bad']);
      expect(failed.result.published.map((p) => p.id)).toEqual(['ok']);
      expect(failed.context).toEqual({ failedIds: ['bad'], publishedCount: 1 });
      expect(isRetryable(failed)).toBe(false);
    });

    it('marks PublishFailedError retryable when every failure may succeed later', () => {
      const error = new PublishFailedError({
        published: [],
        failed: [{ id: 'a', errorCode: 'ThrottlingException', errorMessage: '', attempts: 5, retryable: true }],
      });
      expect(isRetryable(error)).toBe(true);
      expect(() => assertAllPublished({ published: [], failed: error.failed })).toThrow(PublishFailedError);
      const ok = { published: [{ id: 'a', attempts: 1 }], failed: [] };
      expect(assertAllPublished(ok)).toBe(ok);
    });

    it('logs one structured warning for the entries not published, and retries at debug level', async () => {
      const fake = new FakeSns({
        entry: (e, call) =>
          e.id === 'bad'
            ? { code: 'InvalidParameter' }
            : e.id === 'slow' && call === 0
              ? { code: 'InternalError', senderFault: false }
              : undefined,
      });
      const logger = memoryLogger();

      await sns(fake, { logger }).publish([message('bad'), message('slow')]);

      expect(logger.lines).toEqual([
        { level: 'debug', message: 'retrying entries', fields: { service: 'SNS', entries: 1 } },
        {
          level: 'warn',
          message: 'entries not published',
          fields: {
            service: 'SNS',
            publishedCount: 1,
            failedCount: 1,
            failures: [{ id: 'bad', errorCode: 'InvalidParameter', attempts: 1 }],
          },
        },
      ]);
    });

    it('logs nothing with logger null', async () => {
      const warn = jest.spyOn(console, 'warn');
      const fake = new FakeSns({ entry: () => ({ code: 'InvalidParameter' }) });
      await sns(fake, { logger: null }).publish([message('a')]);
      expect(warn).not.toHaveBeenCalled();
    });
  });

  describe('Extension', () => {
    interface Line extends PublishEntryBase {
      readonly text: string;
    }
    class ArrayPublisher extends BatchPublisher<Line, string, { readonly position: number }> {
      public readonly stored: string[] = [];
      constructor() {
        super('Array', { maxEntriesPerCall: 3, maxEntrySizeBytes: 5, maxCallSizeBytes: 100 }, { logger: null, baseDelayMs: 0 });
      }
      protected _prepare(entry: Line): PreparedEntry<string> {
        return { request: entry.text, sizeBytes: entry.text.length };
      }
      protected async _send(requests: readonly string[]): Promise<ReadonlyArray<EntryOutcome<{ position: number }>>> {
        return requests.map((r) => ({ ok: true as const, detail: { position: this.stored.push(r) } }));
      }
    }

    it('runs another batch API through the same engine', async () => {
      const publisher = new ArrayPublisher();

      const result = await publisher.publish(['a', 'b', 'c', 'd', 'toolong'].map((text, i) => ({ id: `l${i}`, text })));

      expect(publisher.stored).toEqual(['a', 'b', 'c', 'd']);
      expect(result.published.map((p) => [p.id, p.position])).toEqual([
        ['l0', 1],
        ['l1', 2],
        ['l2', 3],
        ['l3', 4],
      ]);
      expect(result.failed.map((f) => f.errorCode)).toEqual(['EntryTooLarge']);
    });
  });

  describe('Options', () => {
    it.each([
      [{ maxAttempts: 0 }, 'maxAttempts', /maxAttempts must be an integer between 1 and 100 \(given 0\)/],
      [{ maxAttempts: 2.5 }, 'maxAttempts', /given 2.5/],
      [{ baseDelayMs: -1 }, 'baseDelayMs', /baseDelayMs must be a number between 0 and 60000 \(given -1\)/],
      [{ baseDelayMs: 500, maxDelayMs: 100 }, 'maxDelayMs', /maxDelayMs must be a number between 500 and 300000 \(given 100\)/],
      [{ maxConcurrentCalls: 0 }, 'maxConcurrentCalls', /maxConcurrentCalls must be an integer between 1 and 100 \(given 0\)/],
      [{ throwOnFailure: 'yes' }, 'throwOnFailure', /throwOnFailure must be true or false \(given 'yes'\)/],
      [{ logger: {} }, 'logger', /logger must have a warn method/],
      [{ ordering: 'fifo' }, 'ordering', /ordering must be one of 'strict', 'batched' \(given 'fifo'\)/],
    ])('fails if an option is invalid (%j)', (options, option, message) => {
      const create = () => new SnsPublisher({ topicArn, ...(options as object) });
      expect(create).toThrow(PublishConfigurationError);
      expect(create).toThrow(message);
      try {
        create();
      } catch (error) {
        expect((error as PublishConfigurationError).option).toBe(option);
        expect((error as PublishConfigurationError).name).toBe('PublishConfigurationError');
        expect((error as PublishConfigurationError).retryable).toBe(false);
      }
    });
  });
});

describe('Function: backoffDelayMs', () => {
  it('draws between 0 and min(max, base * 2^(attempt - 1))', () => {
    expect(backoffDelayMs(1, 100, 2000, 0.999)).toBe(99);
    expect(backoffDelayMs(3, 100, 2000, 0.5)).toBe(200);
    expect(backoffDelayMs(10, 100, 2000, 0.999)).toBe(1998);
    expect(backoffDelayMs(4, 100, 2000, 0)).toBe(0);
  });
});

describe('Function: isRetryableCallError', () => {
  it.each([
    [{ name: 'ThrottlingException' }, true],
    [{ name: 'Whatever', $retryable: { throttling: true } }, true],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 503 } }, true],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 429 } }, true],
    [Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), true],
    [{ name: 'TimeoutError' }, true],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }, false],
    [{ name: 'ResourceNotFoundException' }, false],
    ['a string', false],
  ])('%j -> %s', (error, expected) => {
    expect(isRetryableCallError(error)).toBe(expected);
  });
});
