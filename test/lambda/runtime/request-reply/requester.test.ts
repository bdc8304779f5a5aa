import {
  ReplyQueueLostError,
  RequestRejectedError,
  RequestReplyConfigurationError,
  RequestReplyError,
  RequestTimeoutError,
} from '../../../../lambda/runtime/request-reply/errors';
import { type DroppedReply, SqsRequester, type SqsRequesterOptions } from '../../../../lambda/runtime/request-reply/requester';
import { RejectRequestError } from '../../../../lambda/runtime/request-reply/errors';
import { handleRequest } from '../../../../lambda/runtime/request-reply/responder';
import { type BrokerQueue, FakeBroker } from './fake-broker';

const PREFIX = 'quotes-reply-';

function setup(options: Partial<SqsRequesterOptions> = {}) {
  const broker = new FakeBroker();
  const requests = broker.createQueue('quotes-requests');
  const warnings: Array<{ message: string } & Record<string, unknown>> = [];
  const dropped: DroppedReply[] = [];
  const requester = new SqsRequester({
    requestQueueUrl: requests.url,
    requestQueueArn: broker.arnOf(requests),
    replyQueuePrefix: PREFIX,
    client: broker.client,
    newQueueDelayMs: 0,
    logger: { warn: (message: string, fields: Record<string, unknown>) => void warnings.push({ message, ...fields }) },
    onDroppedReply: (d) => void dropped.push(d),
    ...options,
  });
  /** Answers every waiting request with `fn` (a responder invocation). */
  const respond = async (fn: (req: { n: number }) => unknown = (req) => ({ doubled: req.n * 2 })) => {
    const outcomes = [];
    for (const record of broker.takeRecords(requests)) {
      outcomes.push(
        await handleRequest(record, async (req: { n: number }) => fn(req), {
          client: broker.client,
          replyQueuePrefix: PREFIX,
          logger: null,
        }),
      );
    }
    return outcomes;
  };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  };
  return { broker, requests, requester, respond, warnings, dropped, until };
}

const replyQueues = (broker: FakeBroker): BrokerQueue[] => [...broker.queues.values()].filter((q) => q.name.startsWith(PREFIX));

describe('Class: SqsRequester', () => {
  describe('Method: request', () => {
    it('sends the payload with a correlation id, its reply queue and an expiry, and resolves with the reply', async () => {
      // Prepare
      const { broker, requests, requester, respond, until } = setup();
      // Act
      const reply = requester.request<{ n: number }, { doubled: number }>({ n: 21 }, { timeoutMs: 5000, attributes: { tenant: 't-1' } });
      await until(() => requests.visible.length === 1);
      const sent = requests.visible[0];
      const before = Date.now();
      await respond();
      // Assess
      await expect(reply).resolves.toEqual({ doubled: 42 });
      expect(JSON.parse(sent.Body)).toEqual({ n: 21 });
      expect(sent.MessageAttributes.CorrelationId.StringValue).toMatch(/^[0-9a-f-]{36}$/);
      expect(sent.MessageAttributes.ReplyTo.StringValue).toBe(replyQueues(broker)[0].url);
      expect(Number(sent.MessageAttributes.ExpiresAt.StringValue)).toBeGreaterThan(before);
      expect(Number(sent.MessageAttributes.ExpiresAt.StringValue)).toBeLessThanOrEqual(before + 5000);
      expect(sent.MessageAttributes.tenant.StringValue).toBe('t-1');
      expect(requester.stats).toMatchObject({ sent: 1, replied: 1, dropped: 0, replyQueuesCreated: 1 });
    });

    it('creates its reply queue under the prefix: SSE, short retention, TLS-only, heartbeat tag', async () => {
      const { broker, requests, requester } = setup({ replyRetentionSeconds: 120 });
      await requester.start();
      const [q] = replyQueues(broker);
      expect(q.name).toMatch(/^quotes-reply-[0-9a-f]{16}$/);
      expect(q.attributes).toMatchObject({ SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '120' });
      expect(JSON.parse(q.attributes.Policy).Statement).toEqual([
        expect.objectContaining({
          Effect: 'Deny',
          Resource: `arn:aws:sqs:us-east-1:111122223333:${q.name}`,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]);
      expect(Number(q.tags['cdk-messaging-patterns:heartbeat'])).toBeGreaterThan(Date.now() / 1000 - 5);
      expect(await requester.replyQueueUrl()).toBe(q.url);
      expect(requests.visible).toEqual([]);
    });

    it('gives each of many concurrent requests its own reply, answered in any order, over one reply queue', async () => {
      const { broker, requests, requester, until } = setup();
      const replies = Array.from({ length: 25 }, (_, n) => requester.request<{ n: number }, { doubled: number }>({ n }));
      await until(() => requests.visible.length === 25);
      const records = broker.takeRecords(requests).reverse();
      for (const r of records)
        await handleRequest(r, async (req: { n: number }) => ({ doubled: req.n * 2 }), { client: broker.client, logger: null });
      expect(await Promise.all(replies)).toEqual(Array.from({ length: 25 }, (_, n) => ({ doubled: n * 2 })));
      expect(replyQueues(broker)).toHaveLength(1);
      expect(requester.waiting).toBe(0);
    });

    it('keeps replies of two requester instances apart (one reply queue each)', async () => {
      const { broker, requests, until } = setup();
      const make = () =>
        new SqsRequester({
          requestQueueUrl: requests.url,
          requestQueueArn: broker.arnOf(requests),
          replyQueuePrefix: PREFIX,
          client: broker.client,
          newQueueDelayMs: 0,
          logger: null,
        });
      const a = make();
      const b = make();
      const pa = [1, 2, 3].map((n) => a.request<{ n: number; who: string }, { echo: string }>({ n, who: 'a' }));
      const pb = [1, 2, 3].map((n) => b.request<{ n: number; who: string }, { echo: string }>({ n, who: 'b' }));
      await until(() => requests.visible.length === 6);
      for (const r of broker.takeRecords(requests))
        await handleRequest(r, async (req: { n: number; who: string }) => ({ echo: `${req.who}${req.n}` }), {
          client: broker.client,
          logger: null,
        });
      expect(await Promise.all(pa)).toEqual([{ echo: 'a1' }, { echo: 'a2' }, { echo: 'a3' }]);
      expect(await Promise.all(pb)).toEqual([{ echo: 'b1' }, { echo: 'b2' }, { echo: 'b3' }]);
      expect(replyQueues(broker)).toHaveLength(2);
    });

    it('rejects with RequestTimeoutError, and drops the late reply without touching a request still waiting', async () => {
      // Prepare: A times out quickly, B waits longer.
      const { broker, requests, requester, warnings, dropped, until } = setup();
      const a = requester.request<{ n: number }, unknown>({ n: 1 }, { timeoutMs: 30 });
      const b = requester.request<{ n: number }, { doubled: number }>({ n: 2 }, { timeoutMs: 5000 });
      await until(() => requests.visible.length === 2);
      const [recordA, recordB] = broker.takeRecords(requests);
      // Act + Assess: A times out.
      const timeout = await a.catch((e: unknown) => e);
      expect(timeout).toBeInstanceOf(RequestTimeoutError);
      expect(timeout).toMatchObject({ timeoutMs: 30, correlationId: recordA.messageAttributes.CorrelationId.stringValue });
      expect(timeout).toMatchObject({
        retryable: true,
        context: { correlationId: recordA.messageAttributes.CorrelationId.stringValue, timeoutMs: 30 },
      });
      // A's reply arrives late, while B waits: dropped as expired. Then B's reply.
      const lateA = {
        ...recordA,
        messageAttributes: { ...recordA.messageAttributes, ExpiresAt: { dataType: 'Number', stringValue: String(Date.now() + 60_000) } },
      };
      await handleRequest(lateA, async () => ({ doubled: 'late' }), { client: broker.client, logger: null });
      await until(() => dropped.length === 1);
      await handleRequest(recordB, async (req: { n: number }) => ({ doubled: req.n * 2 }), { client: broker.client, logger: null });
      await expect(b).resolves.toEqual({ doubled: 4 });
      expect(dropped).toEqual([
        { correlationId: recordA.messageAttributes.CorrelationId.stringValue, reason: 'expired', messageId: expect.any(String) },
      ]);
      expect(warnings[0]).toMatchObject({ message: 'reply dropped: no request waits for it', reason: 'expired' });
      expect(requester.stats).toMatchObject({ sent: 2, replied: 1, timedOut: 1, dropped: 1 });
    });

    it('drops a reply whose correlation id it never issued, without resolving any waiting request', async () => {
      const { broker, requests, requester, dropped, until } = setup();
      const waiting = requester.request<{ n: number }, { doubled: number }>({ n: 5 });
      await until(() => requests.visible.length === 1);
      const [q] = replyQueues(broker);
      broker.put(q, JSON.stringify({ doubled: 'forged' }), { CorrelationId: 'not-one-of-mine', ReplyStatus: 'ok' });
      broker.put(q, JSON.stringify({ doubled: 'no id' }), { ReplyStatus: 'ok' });
      await until(() => dropped.length === 2);
      expect(dropped.map((d) => [d.correlationId, d.reason])).toEqual([
        ['not-one-of-mine', 'unknown'],
        [undefined, 'unknown'],
      ]);
      expect(requester.waiting).toBe(1);
      for (const r of broker.takeRecords(requests))
        await handleRequest(r, async (req: { n: number }) => ({ doubled: req.n * 2 }), { client: broker.client, logger: null });
      await expect(waiting).resolves.toEqual({ doubled: 10 });
      expect(q.inFlight.size).toBe(0); // every reply received was deleted, dropped ones too
    });

    it('drops a second reply to an answered request as a duplicate (a responder can answer twice)', async () => {
      const { broker, requests, requester, dropped, until } = setup();
      const first = requester.request<{ n: number }, { doubled: number }>({ n: 1 });
      await until(() => requests.visible.length === 1);
      const [record] = broker.takeRecords(requests);
      await handleRequest(record, async () => ({ doubled: 2 }), { client: broker.client, logger: null });
      await expect(first).resolves.toEqual({ doubled: 2 });
      const second = requester.request<{ n: number }, { doubled: number }>({ n: 2 }); // keeps the requester polling
      await handleRequest(record, async () => ({ doubled: 'again' }), { client: broker.client, logger: null });
      await until(() => dropped.length === 1);
      expect(dropped).toEqual([
        { correlationId: record.messageAttributes.CorrelationId.stringValue, reason: 'duplicate', messageId: expect.any(String) },
      ]);
      for (const r of broker.takeRecords(requests))
        await handleRequest(r, async () => ({ doubled: 4 }), { client: broker.client, logger: null });
      await expect(second).resolves.toEqual({ doubled: 4 });
    });

    it('rejects with RequestRejectedError when the responder rejects the request', async () => {
      const { requests, requester, respond, until } = setup();
      const p = requester.request({ n: -1 });
      await until(() => requests.visible.length === 1);
      await respond(() => {
        throw new RejectRequestError('n must be positive');
      });
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RequestRejectedError);
      expect(e).toMatchObject({ remoteName: 'RejectRequestError', remoteMessage: 'n must be positive', retryable: false });
    });

    it('rejects when a reply is not JSON', async () => {
      const { broker, requests, requester, until } = setup();
      const p = requester.request({ n: 1 });
      await until(() => requests.visible.length === 1);
      const [record] = broker.takeRecords(requests);
      const [q] = replyQueues(broker);
      broker.put(q, '{not json', { CorrelationId: record.messageAttributes.CorrelationId.stringValue!, ReplyStatus: 'ok' });
      await expect(p).rejects.toThrow(/is not valid JSON/);
    });

    it('stops polling when no request waits', async () => {
      const { broker, requests, requester, respond, until } = setup();
      const p = requester.request({ n: 1 });
      await until(() => requests.visible.length === 1);
      await respond();
      await p;
      await new Promise((r) => setTimeout(r, 100));
      const receives = broker.count('ReceiveMessage');
      await new Promise((r) => setTimeout(r, 150));
      expect(broker.count('ReceiveMessage')).toBe(receives);
      expect(
        broker.calls
          .filter((c) => c.command === 'ReceiveMessage')
          .every((c) => c.input.WaitTimeSeconds >= 1 && c.input.WaitTimeSeconds <= 20),
      ).toBe(true);
    });

    it('refreshes the heartbeat when a quarter of the idle timeout has passed, and replaces a reaped queue', async () => {
      const { broker, requests, requester, respond, until } = setup({ replyQueueIdleTimeoutSeconds: 3600 });
      const realNow = Date.now.bind(Date);
      const later = (minutes: number) => jest.spyOn(Date, 'now').mockImplementation(() => realNow() + minutes * 60_000);
      try {
        // Within a quarter of the idle timeout: no heartbeat.
        const first = requester.request({ n: 1 });
        await until(() => requests.visible.length === 1);
        await respond();
        await first;
        later(10);
        const second = requester.request({ n: 2 });
        await until(() => requests.visible.length === 1);
        await respond();
        await second;
        expect(broker.count('TagQueue')).toBe(0);
        // 16 minutes later: the heartbeat is refreshed.
        later(16);
        const third = requester.request({ n: 3 });
        await until(() => requests.visible.length === 1);
        await respond();
        await third;
        const [q1] = replyQueues(broker);
        expect(broker.count('TagQueue')).toBe(1);
        expect(Number(q1.tags['cdk-messaging-patterns:heartbeat'])).toBeGreaterThanOrEqual(Math.floor(realNow() / 1000) + 15 * 60);
        // Idle for long: the reaper deleted the queue; the next request makes a new one.
        broker.queues.delete(q1.url);
        later(40);
        const fourth = requester.request({ n: 4 });
        await until(() => requests.visible.length === 1);
        await respond();
        await expect(fourth).resolves.toEqual({ doubled: 8 });
        expect(replyQueues(broker)).toHaveLength(1);
        expect(replyQueues(broker)[0].url).not.toBe(q1.url);
        expect(requester.stats.replyQueuesCreated).toBe(2);
      } finally {
        jest.restoreAllMocks();
      }
    });

    it('rejects waiting requests with ReplyQueueLostError when the reply queue disappears', async () => {
      const { broker, requests, requester, until } = setup();
      const p = requester.request({ n: 1 });
      await until(() => requests.visible.length === 1);
      const [q] = replyQueues(broker);
      broker.queues.delete(q.url);
      for (const w of q.wake.splice(0)) w();
      await expect(p).rejects.toBeInstanceOf(ReplyQueueLostError);
      await expect(p).rejects.toMatchObject({ retryable: true, context: { correlationId: expect.any(String) } });
      expect(requester.waiting).toBe(0);
    });

    it('rejects with the send error and leaves nothing waiting when the request cannot be sent', async () => {
      const { broker, requester } = setup();
      broker.failNext.set('SendMessage', Object.assign(new Error('throttled'), { name: 'RequestThrottled' }));
      await expect(requester.request({ n: 1 })).rejects.toThrow(/throttled/);
      expect(requester.waiting).toBe(0);
    });

    it('waits out the new-queue delay before the first request', async () => {
      const { requester, requests, until } = setup({ newQueueDelayMs: 120 });
      const started = Date.now();
      void requester.request({ n: 1 }, { timeoutMs: 1000 }).catch(() => undefined);
      await until(() => requests.visible.length === 1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
      await requester.close(); // leaves no request polling the reply queue after the test
    });

    it('retries receiving after a transient error', async () => {
      const { broker, requests, requester, respond, until, warnings } = setup();
      broker.failNext.set('ReceiveMessage', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
      const p = requester.request({ n: 3 });
      await until(() => requests.visible.length === 1);
      await respond();
      await expect(p).resolves.toEqual({ doubled: 6 });
      expect(warnings[0]).toMatchObject({
        message: 'receiving replies failed; retrying',
        errorName: 'TimeoutError',
        errorMessage: 'socket hang up',
      });
    });

    it('rejects a timeout longer than half the idle timeout (the reaper could delete the queue meanwhile)', async () => {
      const { requester } = setup({ replyQueueIdleTimeoutSeconds: 600 });
      await expect(requester.request({ n: 1 }, { timeoutMs: 300_001 })).rejects.toThrow(
        /timeoutMs must be at most half the reply queue idle timeout \(300000 ms\).*\(given 300001\)/,
      );
    });

    it.each([0, -5, Number.NaN])('rejects a timeout of %p', async (timeoutMs) => {
      const { requester } = setup();
      await expect(requester.request({ n: 1 }, { timeoutMs })).rejects.toThrow(/timeoutMs must be positive/);
    });
  });

  describe('Method: close', () => {
    it('deletes the reply queue, rejects waiting requests and refuses new ones', async () => {
      const { broker, requester, until, requests } = setup();
      const p = requester.request({ n: 1 });
      await until(() => requests.visible.length === 1);
      await requester.close();
      await expect(p).rejects.toThrow(/closed while request .* waited/);
      expect(replyQueues(broker)).toEqual([]);
      await expect(requester.request({ n: 2 })).rejects.toThrow(RequestReplyError);
    });

    it('does nothing when no reply queue was created', async () => {
      const { broker, requester } = setup();
      await requester.close();
      expect(broker.count('DeleteQueue')).toBe(0);
    });
  });

  describe('Method: fromEnvironment', () => {
    const vars = ['REQUEST_QUEUE_URL', 'REQUEST_QUEUE_ARN', 'REPLY_QUEUE_PREFIX', 'REPLY_QUEUE_IDLE_TIMEOUT_SECONDS'];
    afterEach(() => vars.forEach((v) => delete process.env[v]));

    it('reads what connectRequester sets', async () => {
      const broker = new FakeBroker();
      const requests = broker.createQueue('q');
      Object.assign(process.env, {
        REQUEST_QUEUE_URL: requests.url,
        REQUEST_QUEUE_ARN: broker.arnOf(requests),
        REPLY_QUEUE_PREFIX: PREFIX,
        REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '600',
      });
      const requester = SqsRequester.fromEnvironment({ client: broker.client, newQueueDelayMs: 0 });
      await requester.start();
      expect(replyQueues(broker)).toHaveLength(1);
    });

    it('names the missing variable', () => {
      expect(() => SqsRequester.fromEnvironment()).toThrow(/REQUEST_QUEUE_URL is not set/);
    });

    it.each(['ten minutes', '-60', '0', 'Infinity'])('rejects a malformed REPLY_QUEUE_IDLE_TIMEOUT_SECONDS (%p), naming it', (idle) => {
      const broker = new FakeBroker();
      const requests = broker.createQueue('q');
      Object.assign(process.env, {
        REQUEST_QUEUE_URL: requests.url,
        REQUEST_QUEUE_ARN: broker.arnOf(requests),
        REPLY_QUEUE_PREFIX: PREFIX,
        REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: idle,
      });
      expect(() => SqsRequester.fromEnvironment({ client: broker.client })).toThrow(RequestReplyError);
      expect(() => SqsRequester.fromEnvironment({ client: broker.client })).toThrow(
        `REPLY_QUEUE_IDLE_TIMEOUT_SECONDS must be a positive number of seconds (given '${idle}')`,
      );
    });

    it('keeps the timeout guard with the idle timeout it reads', async () => {
      const broker = new FakeBroker();
      const requests = broker.createQueue('q');
      Object.assign(process.env, {
        REQUEST_QUEUE_URL: requests.url,
        REQUEST_QUEUE_ARN: broker.arnOf(requests),
        REPLY_QUEUE_PREFIX: PREFIX,
        REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '60',
      });
      const requester = SqsRequester.fromEnvironment({ client: broker.client, newQueueDelayMs: 0 });
      await expect(requester.request({ n: 1 }, { timeoutMs: 30_001 })).rejects.toThrow(
        /at most half the reply queue idle timeout \(30000 ms\)/,
      );
    });
  });

  it.each([Number.NaN, 0, -1])('rejects a replyQueueIdleTimeoutSeconds of %p', (replyQueueIdleTimeoutSeconds) => {
    const base = {
      requestQueueUrl: 'https://x/111122223333/q',
      requestQueueArn: 'arn:aws:sqs:us-east-1:111122223333:q',
      replyQueuePrefix: PREFIX,
      client: new FakeBroker().client,
    };
    expect(() => new SqsRequester({ ...base, replyQueueIdleTimeoutSeconds })).toThrow(
      new RegExp(`replyQueueIdleTimeoutSeconds must be a positive number of seconds \\(given ${replyQueueIdleTimeoutSeconds}\\)`),
    );
  });

  it('rejects a bad prefix or request queue ARN', () => {
    const base = {
      requestQueueUrl: 'https://x/111122223333/q',
      requestQueueArn: 'arn:aws:sqs:us-east-1:111122223333:q',
      replyQueuePrefix: PREFIX,
      client: new FakeBroker().client,
    };
    expect(() => new SqsRequester({ ...base, replyQueuePrefix: 'bad prefix' })).toThrow(/replyQueuePrefix must be 1-60 letters/);
    expect(() => new SqsRequester({ ...base, requestQueueArn: 'arn:aws:sns:us-east-1:1:t' })).toThrow(/not an SQS queue ARN/);
  });
});

describe('Class: SqsRequester, options', () => {
  const base = () => ({
    requestQueueUrl: 'https://x/111122223333/q',
    requestQueueArn: 'arn:aws:sqs:us-east-1:111122223333:q',
    replyQueuePrefix: PREFIX,
    client: new FakeBroker().client,
  });
  const configError = (option: string) =>
    expect.objectContaining({
      name: 'RequestReplyConfigurationError',
      option,
      retryable: false,
      context: expect.objectContaining({ option }),
    });

  it.each([59, 1_209_601, 300.5, Number.NaN])(
    'rejects a replyRetentionSeconds of %p (60-1209600, whole seconds)',
    (replyRetentionSeconds) => {
      const make = () => new SqsRequester({ ...base(), replyRetentionSeconds });
      expect(make).toThrow(
        new RegExp(`replyRetentionSeconds must be an integer between 60 and 1209600 \\(given ${replyRetentionSeconds}\\)`),
      );
      expect(make).toThrow(configError('replyRetentionSeconds'));
      expect(make).toThrow(RequestReplyConfigurationError);
      expect(make).toThrow(RequestReplyError);
    },
  );

  it('accepts the bounds of replyRetentionSeconds and creates the reply queue with it', async () => {
    expect(() => new SqsRequester({ ...base(), replyRetentionSeconds: 60 })).not.toThrow();
    const broker = new FakeBroker();
    const requests = broker.createQueue('q');
    const requester = new SqsRequester({
      ...base(),
      requestQueueUrl: requests.url,
      requestQueueArn: broker.arnOf(requests),
      client: broker.client,
      newQueueDelayMs: 0,
      replyRetentionSeconds: 1_209_600,
    });
    await requester.start();
    expect(broker.calls.find((c) => c.command === 'CreateQueue')?.input.Attributes?.MessageRetentionPeriod).toBe('1209600');
  });

  it.each([
    ['requestQueueUrl', { requestQueueUrl: 'q' }, /requestQueueUrl must be an http\(s\) URL \(given 'q'\)/],
    ['requestQueueArn', { requestQueueArn: 'arn:aws:sns:us-east-1:1:t' }, /requestQueueArn is not an SQS queue ARN/],
    ['defaultTimeoutMs', { defaultTimeoutMs: 0 }, /defaultTimeoutMs must be positive, in milliseconds \(given 0\)/],
    [
      'defaultTimeoutMs',
      { defaultTimeoutMs: 1_800_001 },
      /defaultTimeoutMs must be at most half the reply queue idle timeout \(1800000 ms\)/,
    ],
    ['newQueueDelayMs', { newQueueDelayMs: -1 }, /newQueueDelayMs must be a number of at least 0 \(given -1\)/],
    ['onDroppedReply', { onDroppedReply: 'log' }, /onDroppedReply must be a function/],
    ['client', { client: {} }, /client must be an AWS SDK v3 client/],
    ['logger', { logger: {} }, /logger must have a warn method/],
  ])('rejects a bad %s', (option, options, message) => {
    const make = () => new SqsRequester({ ...base(), ...(options as object) });
    expect(make).toThrow(message);
    expect(make).toThrow(configError(option));
  });

  it('rejects request attributes SQS or the protocol would refuse, sending nothing', async () => {
    const { requester, requests } = setup();
    const eight = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`a${i}`, 'v']));
    await expect(requester.request({ n: 1 }, { attributes: eight })).rejects.toThrow(
      /attributes must hold at most 7 attributes .* \(given 8\)/,
    );
    await expect(requester.request({ n: 1 }, { attributes: { CorrelationId: 'mine' } })).rejects.toThrow(
      /attributes must not set the protocol's own CorrelationId/,
    );
    await expect(requester.request({ n: 1 }, { attributes: { tenant: 7 as never } })).rejects.toThrow(configError('attributes.tenant'));
    expect(requests.visible).toEqual([]);
    expect(requester.waiting).toBe(0);
  });

  describe('Method: fromEnvironment', () => {
    const vars = ['REQUEST_QUEUE_URL', 'REQUEST_QUEUE_ARN', 'REPLY_QUEUE_PREFIX', 'REPLY_QUEUE_IDLE_TIMEOUT_SECONDS'];
    afterEach(() => vars.forEach((v) => delete process.env[v]));

    it.each([
      ['REQUEST_QUEUE_URL', 'queue', /REQUEST_QUEUE_URL must be an http\(s\) URL \(given 'queue'\)/],
      ['REQUEST_QUEUE_ARN', 'arn:aws:sqs:q', /REQUEST_QUEUE_ARN is not an SQS queue ARN/],
      ['REPLY_QUEUE_PREFIX', 'has space', /REPLY_QUEUE_PREFIX must be 1-60 letters, digits, - or _ \(given 'has space'\)/],
    ])('names a malformed %s', (variable, value, message) => {
      Object.assign(process.env, {
        REQUEST_QUEUE_URL: 'https://x/111122223333/q',
        REQUEST_QUEUE_ARN: 'arn:aws:sqs:us-east-1:111122223333:q',
        REPLY_QUEUE_PREFIX: PREFIX,
        [variable]: value,
      });
      expect(() => SqsRequester.fromEnvironment({ client: new FakeBroker().client })).toThrow(message);
      expect(() => SqsRequester.fromEnvironment({ client: new FakeBroker().client })).toThrow(configError(variable));
    });

    it('names a variable that is not set', () => {
      expect(() => SqsRequester.fromEnvironment()).toThrow(configError('REQUEST_QUEUE_URL'));
    });
  });
});
