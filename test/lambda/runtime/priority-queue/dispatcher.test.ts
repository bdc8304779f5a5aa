import {
  type DispatchStats,
  PriorityQueueConfigurationError,
  StrictPriorityDispatcher,
  type StrictPriorityDispatcherOptions,
  failuresOf,
  parseDispatcherLevels,
  priorityOf,
  toSqsRecord,
} from '../../../../lambda/runtime/priority-queue';
import { MAX_INVOKE_PAYLOAD_BYTES, dispatcherEnvironment } from '../../../../lambda/runtime/priority-queue/dispatcher';
import { FakeLambda, FakeSqs } from './fakes';

const LEVELS = ['high', 'normal', 'low'];

function setup(options: Partial<StrictPriorityDispatcherOptions> = {}) {
  const sqs = new FakeSqs();
  const lambda = new FakeLambda();
  const dispatcher = new StrictPriorityDispatcher({
    levels: LEVELS.map((name) => ({ name, queueUrl: sqs.url(name), queueArn: sqs.arn(name) })),
    consumer: 'consumer-fn',
    sqs: sqs.client,
    lambda: lambda.client,
    batchSize: 2,
    lowestLevelEvery: 0,
    idleWaitSeconds: 1,
    consumerTimeoutSeconds: 10,
    logger: null,
    ...options,
  });
  return { sqs, lambda, dispatcher };
}

const bodies = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Runs rounds until every queue is empty (bounded). */
async function drainAll(dispatcher: StrictPriorityDispatcher, sqs: FakeSqs): Promise<DispatchStats> {
  const stats: DispatchStats = { batches: 0, dispatched: {}, failed: {}, guardTurns: 0, released: 0 };
  for (let i = 0; i < 100 && LEVELS.some((l) => sqs.remaining(l).length > 0); i++) await dispatcher.dispatchNext(stats);
  return stats;
}

describe('Class: StrictPriorityDispatcher', () => {
  describe('Method: dispatchNext', () => {
    it('serves a level only when every higher level is empty', async () => {
      // Prepare
      const { sqs, lambda, dispatcher } = setup();
      sqs.put('low', bodies('l', 2));
      sqs.put('normal', bodies('n', 4));
      sqs.put('high', bodies('h', 6));
      // Act
      const stats = await drainAll(dispatcher, sqs);
      // Assess
      expect(lambda.levelsServed()).toEqual(['high', 'high', 'high', 'normal', 'normal', 'low']);
      expect(stats).toEqual({
        batches: 6,
        dispatched: { high: 6, normal: 4, low: 2 },
        failed: { high: 0, normal: 0, low: 0 },
        guardTurns: 0,
        released: 0,
      });
      expect(lambda.invocations.every((i) => i.functionName === 'consumer-fn')).toBe(true);
    });

    it('takes every n-th batch from the lowest level that has messages (starvation guard)', async () => {
      const { sqs, lambda, dispatcher } = setup({ lowestLevelEvery: 3 });
      sqs.put('high', bodies('h', 16));
      sqs.put('low', bodies('l', 4));
      const stats = await drainAll(dispatcher, sqs);
      expect(lambda.levelsServed()).toEqual(['high', 'high', 'low', 'high', 'high', 'low', 'high', 'high', 'high', 'high']);
      expect(stats.guardTurns).toBe(2);
    });

    it('gives the guard turn to the next lowest level when the lowest is empty', async () => {
      const { sqs, lambda, dispatcher } = setup({ lowestLevelEvery: 2 });
      sqs.put('high', bodies('h', 6));
      sqs.put('normal', bodies('n', 2));
      await drainAll(dispatcher, sqs);
      expect(lambda.levelsServed()).toEqual(['high', 'normal', 'high', 'high']);
    });

    it('when every level is empty, long-polls every level at once and serves what arrives highest first', async () => {
      const { sqs, lambda, dispatcher } = setup();
      sqs.arriveOnLongPoll.set('low', ['l-late']);
      sqs.arriveOnLongPoll.set('high', ['h-late']);
      const round = await dispatcher.dispatchNext();
      expect(round).toEqual({
        served: [
          { level: 'high', messages: 1 },
          { level: 'low', messages: 1 },
        ],
        guardTurn: false,
      });
      expect(lambda.levelsServed()).toEqual(['high', 'low']);
      const longPolls = sqs.calls.filter((c) => c.command === 'ReceiveMessageCommand' && c.input.WaitTimeSeconds === 1);
      expect(longPolls.map((c) => String(c.input.QueueUrl).split('/').pop())).toEqual(['high', 'normal', 'low']);
    });

    it('sweeps with short polls before it waits', async () => {
      const { sqs, dispatcher } = setup();
      sqs.put('normal', ['n-0']);
      await dispatcher.dispatchNext();
      const receives = sqs.calls.filter((c) => c.command === 'ReceiveMessageCommand');
      expect(
        receives.map((c) => [String(c.input.QueueUrl).split('/').pop(), c.input.WaitTimeSeconds, c.input.MaxNumberOfMessages]),
      ).toEqual([
        ['high', 0, 2],
        ['normal', 0, 2],
      ]);
      expect(receives[0].input.MessageAttributeNames).toEqual(['All']);
    });
  });

  describe('partial batch responses', () => {
    it('deletes the messages that succeeded and leaves the failed ones for redelivery', async () => {
      // Prepare
      const { sqs, lambda, dispatcher } = setup({ batchSize: 3 });
      sqs.put('high', ['ok-1', 'bad', 'ok-2']);
      lambda.setConsumer((event) => ({
        batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({ itemIdentifier: r.messageId })),
      }));
      const stats: DispatchStats = { batches: 0, dispatched: {}, failed: {}, guardTurns: 0, released: 0 };
      // Act
      await dispatcher.dispatchNext(stats);
      // Assess
      expect(sqs.remaining('high')).toEqual(['bad']);
      expect(stats.failed).toEqual({ high: 1 });
    });

    it('deletes nothing when the consumer fails (the whole batch is retried)', async () => {
      const { sqs, lambda, dispatcher } = setup();
      sqs.put('high', ['a', 'b']);
      lambda.setConsumer(() => {
        throw new Error('boom');
      });
      await dispatcher.dispatchNext();
      expect(sqs.remaining('high')).toEqual(['a', 'b']);
      expect(sqs.count('DeleteMessageBatchCommand')).toBe(0);
    });

    it('deletes nothing when the invocation itself fails, and goes on with the next round', async () => {
      const { sqs, lambda, dispatcher } = setup();
      sqs.put('high', ['a', 'b']);
      const throttled = new Error('Rate exceeded');
      throttled.name = 'TooManyRequestsException';
      lambda.failNextCall = throttled;
      await dispatcher.dispatchNext();
      expect(sqs.remaining('high')).toEqual(['a', 'b']);
      sqs.expireVisibility();
      await dispatcher.dispatchNext();
      expect(sqs.remaining('high')).toEqual([]);
    });

    it('retries the whole batch when the response names an unknown message', async () => {
      const { sqs, lambda, dispatcher } = setup();
      sqs.put('high', ['a', 'b']);
      lambda.setConsumer(() => ({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }));
      await dispatcher.dispatchNext();
      expect(sqs.remaining('high')).toEqual(['a', 'b']);
    });

    it('counts a consumer that returns nothing as success', async () => {
      const { sqs, lambda, dispatcher } = setup();
      sqs.put('low', ['a']);
      lambda.setConsumer(() => undefined);
      await dispatcher.dispatchNext();
      expect(sqs.remaining('low')).toEqual([]);
    });
  });

  describe('receive failures', () => {
    afterEach(() => jest.useRealTimers());

    it('waits a second after a failed short poll instead of going on at once', async () => {
      // Prepare
      jest.useFakeTimers();
      const warnings: Array<[string, Record<string, unknown>]> = [];
      const { sqs, lambda, dispatcher } = setup({
        logger: { warn: (m: string, fields: Record<string, unknown>) => void warnings.push([m, fields]) },
      });
      sqs.failReceive = Object.assign(new Error('denied'), { name: 'AccessDenied' });
      const receives = () => sqs.count('ReceiveMessageCommand');
      // Act
      const round = dispatcher.dispatchNext();
      await jest.advanceTimersByTimeAsync(999);
      // Assess: the sweep is held on the first level for a second, then moves on.
      expect(receives()).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(receives()).toBe(2);
      await jest.advanceTimersByTimeAsync(2000);
      expect(receives()).toBe(3 + 3); // the sweep, then the long poll of every level at once
      await jest.advanceTimersByTimeAsync(1000); // the failed long polls wait idleWaitSeconds (1)
      await expect(round).resolves.toEqual({ served: [], guardTurn: false });
      expect(lambda.invocations).toHaveLength(0);
      expect(warnings[0]).toEqual(['receive failed', { level: 'high', errorName: 'AccessDenied', errorMessage: 'denied' }]);
    });

    it('waits the long poll time after a failed long poll', async () => {
      jest.useFakeTimers();
      const { sqs, dispatcher } = setup({ idleWaitSeconds: 5 });
      sqs.failReceive = new Error('socket hang up');
      let done = false;
      void dispatcher.dispatchNext().then(() => (done = true));
      await jest.advanceTimersByTimeAsync(3000 + 4999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(done).toBe(true);
    });

    it('never waits past the time left in the run', async () => {
      jest.useFakeTimers();
      const { sqs, dispatcher } = setup();
      sqs.failReceive = new Error('socket hang up');
      let done = false;
      void dispatcher.dispatchNext(undefined, () => 100).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(4 * 100);
      expect(done).toBe(true);
    });

    it('does not spin through its run when every receive fails', async () => {
      jest.useFakeTimers();
      const { sqs, dispatcher } = setup();
      sqs.failReceive = new Error('AWS.SimpleQueueService.NonExistentQueue');
      const end = Date.now() + 10_000;
      const run = dispatcher.run(() => Date.now() < end);
      await jest.advanceTimersByTimeAsync(12_000); // the round that starts at 8 s ends at 12 s
      await run;
      // 3 short polls (1 s each) and 3 parallel long polls (1 s) per round: 4 s a round, 3 rounds.
      expect(sqs.count('ReceiveMessageCommand')).toBe(3 * 6);
    });
  });

  describe('large batches', () => {
    it('splits a batch whose event exceeds the synchronous invocation payload limit, and keeps failures apart', async () => {
      // Prepare: 10 messages of 900 KB each, about 9 MB together.
      const { sqs, lambda, dispatcher } = setup({ batchSize: 10 });
      const big = (tag: string) => `${tag}:${'x'.repeat(900_000)}`;
      sqs.put(
        'high',
        Array.from({ length: 10 }, (_, i) => big(i === 7 ? 'bad' : `ok-${i}`)),
      );
      lambda.setConsumer((event) => ({
        batchItemFailures: event.Records.filter((r) => String(r.body).startsWith('bad:')).map((r) => ({ itemIdentifier: r.messageId })),
      }));
      const stats: DispatchStats = { batches: 0, dispatched: {}, failed: {}, guardTurns: 0, released: 0 };
      // Act
      await dispatcher.dispatchNext(stats);
      // Assess
      const sizes = lambda.invocations.map((i) => Buffer.byteLength(JSON.stringify(i.event)));
      expect(lambda.invocations.map((i) => i.event.Records.length)).toEqual([5, 5]);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_INVOKE_PAYLOAD_BYTES);
      expect(sqs.remaining('high').map((b) => b.split(':')[0])).toEqual(['bad']);
      expect(stats).toMatchObject({ batches: 2, dispatched: { high: 10 }, failed: { high: 1 } });
    });

    it('splits again until every part fits', async () => {
      const { sqs, lambda, dispatcher } = setup({ batchSize: 4 });
      sqs.put(
        'high',
        Array.from({ length: 4 }, () => 'y'.repeat(3_500_000)),
      );
      await dispatcher.dispatchNext();
      expect(lambda.invocations.map((i) => i.event.Records.length)).toEqual([1, 1, 1, 1]);
      expect(sqs.remaining('high')).toEqual([]);
    });

    it('sends a batch that fits in one invocation', async () => {
      const { sqs, lambda, dispatcher } = setup({ batchSize: 5 });
      sqs.put(
        'high',
        Array.from({ length: 5 }, () => 'z'.repeat(1_000_000)),
      );
      await dispatcher.dispatchNext();
      expect(lambda.invocations.map((i) => i.event.Records.length)).toEqual([5]);
    });
  });

  describe('ending a run', () => {
    it('makes a batch visible again instead of dispatching it when the consumer would not fit in the time left', async () => {
      // Prepare
      const { sqs, lambda, dispatcher } = setup();
      sqs.put('high', ['a']);
      const stats: DispatchStats = { batches: 0, dispatched: {}, failed: {}, guardTurns: 0, released: 0 };
      // Act
      await dispatcher.dispatchNext(stats, () => 11_000);
      // Assess
      expect(lambda.invocations).toHaveLength(0);
      expect(stats.released).toBe(1);
      const release = sqs.calls.find((c) => c.command === 'ChangeMessageVisibilityBatchCommand')!;
      expect(release.input.Entries).toEqual([expect.objectContaining({ VisibilityTimeout: 0 })]);
      await dispatcher.dispatchNext(stats);
      expect(sqs.remaining('high')).toEqual([]);
    });

    it('run stops as soon as shouldContinue says so', async () => {
      const { sqs, lambda, dispatcher } = setup();
      sqs.put('high', bodies('h', 10));
      let rounds = 0;
      const stats = await dispatcher.run(() => rounds++ < 3);
      expect(stats.batches).toBe(3);
      expect(lambda.invocations).toHaveLength(3);
      expect(sqs.remaining('high')).toHaveLength(4);
    });
  });

  describe('the event the consumer gets', () => {
    it('is an SQS event as an event source mapping sends it, with the priority attribute readable by priorityOf', async () => {
      const { sqs, lambda, dispatcher } = setup();
      const [id] = sqs.put('normal', ['{"taskId":"t1"}'], {
        priority: { DataType: 'String', StringValue: 'normal' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      });
      await dispatcher.dispatchNext();
      const record = lambda.invocations[0].event.Records[0];
      expect(record).toEqual({
        messageId: id,
        receiptHandle: expect.stringMatching(/^rh-/),
        body: '{"taskId":"t1"}',
        attributes: expect.objectContaining({ ApproximateReceiveCount: '1', SentTimestamp: '1700000000000' }),
        messageAttributes: {
          priority: { dataType: 'String', stringValue: 'normal', stringListValues: [], binaryListValues: [] },
          blob: { dataType: 'Binary', binaryValue: 'AQID', stringListValues: [], binaryListValues: [] },
        },
        md5OfBody: 'md5',
        eventSource: 'aws:sqs',
        eventSourceARN: sqs.arn('normal'),
        awsRegion: 'eu-west-1',
      });
      expect(priorityOf(record as never)).toBe('normal');
    });

    it('toSqsRecord copes with a message without attributes', () => {
      const record = toSqsRecord({ MessageId: 'm', ReceiptHandle: 'r', Body: 'b' }, 'arn:aws:sqs:us-east-2:1:q');
      expect(record).toMatchObject({
        messageId: 'm',
        messageAttributes: {},
        awsRegion: 'us-east-2',
        eventSourceARN: 'arn:aws:sqs:us-east-2:1:q',
      });
    });
  });

  describe('configuration', () => {
    it.each([0, 11, 2.5])('fails if batchSize is %p', (batchSize) => {
      expect(() => setup({ batchSize })).toThrow(new RegExp(`batchSize must be an integer between 1 and 10 \\(given ${batchSize}\\)`));
    });

    it('fails without levels', () => {
      expect(() => setup({ levels: [] })).toThrow(PriorityQueueConfigurationError);
    });

    it.each([
      [
        'levels[0].queueUrl',
        { levels: [{ name: 'high', queueUrl: 'high', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:high' }] },
        /levels\[0\]\.queueUrl must be an http\(s\) URL \(given 'high'\)/,
      ],
      [
        'levels[0].queueArn',
        { levels: [{ name: 'high', queueUrl: 'https://q/high', queueArn: 'high' }] },
        /levels\[0\]\.queueArn must be an SQS queue ARN/,
      ],
      [
        'levels[1].name',
        { levels: ['a', 'a'].map((name) => ({ name, queueUrl: 'https://q/a', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:a' })) },
        /level 'a' is listed twice/,
      ],
      ['lowestLevelEvery', { lowestLevelEvery: -1 }, /lowestLevelEvery must be an integer 0 or more \(given -1\)/],
      ['idleWaitSeconds', { idleWaitSeconds: 21 }, /idleWaitSeconds must be an integer between 1 and 20 \(given 21\)/],
      ['idleWaitSeconds', { idleWaitSeconds: 0.5 }, /\(given 0.5\)/],
      [
        'consumerTimeoutSeconds',
        { consumerTimeoutSeconds: 0 },
        /consumerTimeoutSeconds must be a number of seconds above 0 and at most 900 \(given 0\)/,
      ],
      ['consumerTimeoutSeconds', { consumerTimeoutSeconds: 901 }, /\(given 901\)/],
      ['sqs', { sqs: undefined }, /sqs must be an AWS SDK v3 client/],
      ['lambda', { lambda: {} }, /lambda must be an AWS SDK v3 client/],
      ['logger', { logger: { info: () => undefined } }, /logger must have a warn method/],
    ])('fails with PriorityQueueConfigurationError for a bad %s', (option, options, message) => {
      expect(() => setup(options as never)).toThrow(message);
      expect(() => setup(options as never)).toThrow(
        expect.objectContaining({ name: 'PriorityQueueConfigurationError', option, retryable: false }),
      );
    });

    it('fails without a consumer function (every invocation would fail and the backlog end in the DLQ)', () => {
      expect(() => setup({ consumer: '' })).toThrow(PriorityQueueConfigurationError);
      expect(() => setup({ consumer: '' })).toThrow(/consumer must be the name or ARN of the consumer function \(given ''\)/);
    });
  });
});

describe('Function: failuresOf', () => {
  const ids = new Set(['a', 'b']);
  it.each([
    ['an empty payload', '', []],
    ['null', 'null', []],
    ['an object without batchItemFailures', '{"statusCode":200}', []],
    ['a payload that is not JSON', 'not json', []],
    ['named failures', '{"batchItemFailures":[{"itemIdentifier":"b"}]}', ['b']],
    ['a failure list that is not a list', '{"batchItemFailures":"b"}', ['a', 'b']],
    ['an empty itemIdentifier', '{"batchItemFailures":[{"itemIdentifier":""}]}', ['a', 'b']],
  ])('reads %s', (_what, payload, expected) => {
    expect([...failuresOf(payload, ids)].sort()).toEqual(expected);
  });
});

describe('Function: dispatcherEnvironment', () => {
  const PRIORITY_LEVELS = JSON.stringify([
    {
      name: 'high',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/high',
      queueArn: 'arn:aws:sqs:eu-west-1:111122223333:high',
    },
  ]);

  it('reads the settings the construct sets, with defaults for the unset ones', () => {
    expect(dispatcherEnvironment({ PRIORITY_LEVELS, CONSUMER_FUNCTION: 'fn', BATCH_SIZE: '5', CONSUMER_TIMEOUT_SECONDS: '12' })).toEqual({
      levels: JSON.parse(PRIORITY_LEVELS),
      consumer: 'fn',
      batchSize: 5,
      lowestLevelEvery: undefined,
      idleWaitSeconds: undefined,
      consumerTimeoutSeconds: 12,
      runSeconds: 55,
    });
  });

  it.each([
    ['BATCH_SIZE', 'ten', /BATCH_SIZE must be a number \(given 'ten'\)/],
    ['LOWEST_LEVEL_EVERY', '1O', /LOWEST_LEVEL_EVERY must be a number/],
    ['IDLE_WAIT_SECONDS', 'x', /IDLE_WAIT_SECONDS must be a number/],
    ['CONSUMER_TIMEOUT_SECONDS', '30s', /CONSUMER_TIMEOUT_SECONDS must be a number \(given '30s'\)/],
    ['RUN_SECONDS', '0', /RUN_SECONDS must be a number above 0 \(given '0'\)/],
  ])('fails, naming %s, when it is not a number (it used to fall back to the default)', (variable, value, message) => {
    const read = () => dispatcherEnvironment({ PRIORITY_LEVELS, CONSUMER_FUNCTION: 'fn', [variable]: value });
    expect(read).toThrow(message);
    expect(read).toThrow(
      expect.objectContaining({ name: 'PriorityQueueConfigurationError', option: variable, context: { option: variable, value } }),
    );
  });
});

describe('Function: parseDispatcherLevels', () => {
  it('reads levels in order', () => {
    const levels = [
      { name: 'a', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/a', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:a' },
      { name: 'b', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/b', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:b' },
    ];
    expect(parseDispatcherLevels(JSON.stringify(levels))).toEqual(levels);
  });

  it('names the variable and the level of a malformed queue URL or ARN', () => {
    expect(() => parseDispatcherLevels('[{"name":"a","queueUrl":"u","queueArn":"arn"}]')).toThrow(
      /PRIORITY_LEVELS\[0\]\.queueUrl must be an http\(s\) URL \(given 'u'\)/,
    );
    expect(() => parseDispatcherLevels('[{"name":"a","queueUrl":"https://q/a","queueArn":"arn"}]')).toThrow(
      expect.objectContaining({ option: 'PRIORITY_LEVELS[0].queueArn' }),
    );
  });

  it.each([undefined, 'nope', '[]', '[{"name":"a"}]'])('fails on %p', (json) => {
    expect(() => parseDispatcherLevels(json)).toThrow(PriorityQueueConfigurationError);
  });
});
