import type { SQSRecord } from 'aws-lambda';
import { BatchConfigurationError } from '../../../../lambda/runtime/batch';
import {
  InvalidRequestError,
  MessagingPatternsRuntimeError,
  RejectRequestError,
  RequestReplyConfigurationError,
  RequestReplyError,
} from '../../../../lambda/runtime/request-reply';
import { parseQueueArn, parseQueueUrl } from '../../../../lambda/runtime/request-reply/protocol';
import { reapIdleReplyQueues } from '../../../../lambda/runtime/request-reply/reaper';
import { handleRequest, requestHandler, sendReply } from '../../../../lambda/runtime/request-reply/responder';
import { lambdaContext, sqsEvent, sqsRecord } from '../../../helpers/events';
import { FakeBroker } from './fake-broker';

const PREFIX = 'quotes-reply-';

/** A request record as the event source mapping delivers it. */
function request(body: unknown, attrs: Record<string, string | undefined>): SQSRecord {
  const r = sqsRecord(body);
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) messageAttributes[k] = { dataType: 'String', stringValue: v };
  return { ...r, eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:quotes-requests', messageAttributes };
}

function setup() {
  const broker = new FakeBroker();
  const replyQueue = broker.createQueue(`${PREFIX}abc`);
  const attrs = (extra: Record<string, string | undefined> = {}) => ({
    CorrelationId: 'corr-1',
    ReplyTo: replyQueue.url,
    ExpiresAt: String(Date.now() + 10_000),
    ...extra,
  });
  const reply = () => {
    const m = replyQueue.visible[0];
    return (
      m && {
        body: JSON.parse(m.Body),
        correlationId: m.MessageAttributes.CorrelationId.StringValue,
        status: m.MessageAttributes.ReplyStatus.StringValue,
      }
    );
  };
  return { broker, replyQueue, attrs, reply, opts: { client: broker.client, replyQueuePrefix: PREFIX, logger: null } };
}

describe('Function: handleRequest', () => {
  it('replies with the result to the reply-to queue, under the same correlation id', async () => {
    const { attrs, reply, opts } = setup();
    const seen: unknown[] = [];
    const outcome = await handleRequest(
      request({ a: 2, b: 3 }, attrs()),
      async (req: { a: number; b: number }, ctx) => {
        seen.push(ctx.correlationId, ctx.expiresAt instanceof Date);
        return { sum: req.a + req.b };
      },
      opts,
    );
    expect(outcome).toBe('replied');
    expect(reply()).toEqual({ body: { sum: 5 }, correlationId: 'corr-1', status: 'ok' });
    expect(seen).toEqual(['corr-1', true]);
  });

  it('replies with an error at once when the handler rejects the request', async () => {
    const { attrs, reply, opts } = setup();
    const outcome = await handleRequest(
      request({}, attrs()),
      async () => {
        throw new RejectRequestError('sku unknown');
      },
      opts,
    );
    expect(outcome).toBe('rejected');
    expect(reply()).toEqual({ body: { name: 'RejectRequestError', message: 'sku unknown' }, correlationId: 'corr-1', status: 'error' });
  });

  it('replies with an error at once to a request whose body is not JSON, without calling the handler', async () => {
    const { attrs, reply, opts } = setup();
    const handler = jest.fn();
    expect(await handleRequest(request('{nope', attrs()), handler, opts)).toBe('rejected');
    expect(handler).not.toHaveBeenCalled();
    expect(reply()?.body).toMatchObject({ name: 'MalformedRequestError' });
  });

  it('lets other errors through, so the request is retried, and sends nothing', async () => {
    const { attrs, replyQueue, opts } = setup();
    await expect(
      handleRequest(
        request({}, attrs()),
        async () => {
          throw new Error('database down');
        },
        opts,
      ),
    ).rejects.toThrow(/database down/);
    expect(replyQueue.visible).toEqual([]);
  });

  it('skips a request whose requester stopped waiting', async () => {
    const { attrs, replyQueue, opts } = setup();
    const handler = jest.fn();
    expect(await handleRequest(request({}, attrs({ ExpiresAt: String(Date.now() - 1) })), handler, opts)).toBe('expired');
    expect(handler).not.toHaveBeenCalled();
    expect(replyQueue.visible).toEqual([]);
  });

  it('drops the reply, without failing, when the reply queue is gone', async () => {
    const { broker, attrs, replyQueue, opts } = setup();
    broker.queues.delete(replyQueue.url);
    expect(await handleRequest(request({}, attrs()), async () => ({ ok: true }), opts)).toBe('requester-gone');
  });

  it('rethrows other send errors', async () => {
    const { broker, attrs, opts } = setup();
    broker.failNext.set('SendMessage', Object.assign(new Error('throttled'), { name: 'RequestThrottled' }));
    await expect(handleRequest(request({}, attrs()), async () => ({ ok: true }), opts)).rejects.toThrow(/throttled/);
  });

  it.each([
    ['no correlation id', { CorrelationId: undefined }, /has no CorrelationId attribute/],
    ['no reply-to', { ReplyTo: undefined }, /has no ReplyTo attribute/],
    ['a reply-to that is no queue URL', { ReplyTo: 'mailto:x' }, /its reply-to is not a queue URL/],
    [
      'a reply-to outside the prefix',
      { ReplyTo: 'https://sqs.us-east-1.amazonaws.com/111122223333/orders' },
      /reply-to queue 'orders' is not a reply queue of this pattern \(prefix 'quotes-reply-'\)/,
    ],
    [
      'a reply-to in another account',
      { ReplyTo: `https://sqs.us-east-1.amazonaws.com/999999999999/${PREFIX}x` },
      /in account 999999999999, not 111122223333/,
    ],
  ])('fails (to the dead-letter queue) a request with %s', async (_what, extra, message) => {
    const { attrs, replyQueue, opts } = setup();
    const handler = jest.fn();
    const error = await handleRequest(request({}, attrs(extra)), handler, opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toMatch(message);
    expect(handler).not.toHaveBeenCalled();
    expect(replyQueue.visible).toEqual([]);
  });

  it('gives InvalidRequestError the message id and reason in its context, not retryable', async () => {
    const { attrs, opts } = setup();
    const record = request({}, attrs({ ReplyTo: undefined }));
    await expect(handleRequest(record, async () => 1, opts)).rejects.toMatchObject({
      name: 'InvalidRequestError',
      retryable: false,
      context: { messageId: record.messageId, reason: 'it has no ReplyTo attribute' },
    });
  });

  it('logs a request that expired before it was processed, with its fields as an object', async () => {
    const { attrs, opts } = setup();
    const lines: Array<[string, Record<string, unknown>]> = [];
    const logger = { warn: (m: string, fields: Record<string, unknown>) => void lines.push([m, fields]) };
    const expired = request({}, attrs({ ExpiresAt: String(Date.now() - 1) }));
    await handleRequest(expired, async () => 1, { ...opts, logger });
    expect(lines).toEqual([
      [
        'request expired before it was processed; not answered',
        { correlationId: 'corr-1', messageId: expired.messageId, expiresAt: expect.stringMatching(/^\d{4}-/) },
      ],
    ]);
  });

  it('logs a reply dropped because the reply queue is gone', async () => {
    const { broker, attrs, replyQueue, opts } = setup();
    broker.queues.delete(replyQueue.url);
    const lines: Array<[string, Record<string, unknown>]> = [];
    const logger = { warn: (m: string, fields: Record<string, unknown>) => void lines.push([m, fields]) };
    await handleRequest(request({}, attrs()), async () => 1, { ...opts, logger });
    expect(lines).toEqual([
      ['reply queue gone (the requester stopped); reply dropped', { correlationId: 'corr-1', replyTo: replyQueue.url }],
    ]);
  });

  it('rejects a malformed replyQueuePrefix, from the option or REPLY_QUEUE_PREFIX', async () => {
    const { attrs, broker } = setup();
    const configError = (option: string) => expect.objectContaining({ name: 'RequestReplyConfigurationError', option, retryable: false });
    await expect(
      handleRequest(request({}, attrs()), async () => 1, { client: broker.client, logger: null, replyQueuePrefix: 'a b' }),
    ).rejects.toThrow(configError('replyQueuePrefix'));
    process.env.REPLY_QUEUE_PREFIX = 'x'.repeat(61);
    try {
      await expect(handleRequest(request({}, attrs()), async () => 1, { client: broker.client, logger: null })).rejects.toThrow(
        configError('REPLY_QUEUE_PREFIX'),
      );
    } finally {
      delete process.env.REPLY_QUEUE_PREFIX;
    }
  });

  it('reads the prefix from REPLY_QUEUE_PREFIX', async () => {
    const { attrs, broker } = setup();
    process.env.REPLY_QUEUE_PREFIX = 'other-prefix-';
    try {
      await expect(handleRequest(request({}, attrs()), async () => 1, { client: broker.client, logger: null })).rejects.toThrow(
        /prefix 'other-prefix-'/,
      );
    } finally {
      delete process.env.REPLY_QUEUE_PREFIX;
    }
  });
});

describe('Function: requestHandler', () => {
  it('answers a batch, reporting only the requests to retry', async () => {
    const { attrs, replyQueue, opts } = setup();
    const ok = request({ n: 1 }, attrs({ CorrelationId: 'c-ok' }));
    const flaky = request({ n: 2 }, attrs({ CorrelationId: 'c-flaky' }));
    const invalid = request({ n: 3 }, attrs({ ReplyTo: undefined }));
    const handler = requestHandler<{ n: number }, { n: number }>(async (req, ctx) => {
      if (req.n === 2) throw new Error('transient');
      expect(ctx.lambdaContext?.awsRequestId).toBe('req-1');
      return { n: req.n };
    }, opts);
    const res = await handler(sqsEvent([ok, flaky, invalid]), lambdaContext());
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([flaky.messageId, invalid.messageId].sort());
    expect(replyQueue.visible.map((m) => m.MessageAttributes.CorrelationId.StringValue)).toEqual(['c-ok']);
  });
});

describe('Function: requestHandler, options', () => {
  it('checks its options when it is created', () => {
    expect(() => requestHandler(async () => 1, { replyQueuePrefix: 'bad prefix' })).toThrow(RequestReplyConfigurationError);
    expect(() => requestHandler(async () => 1, { client: {} as never })).toThrow(/client must be an AWS SDK v3 client/);
    expect(() => requestHandler(async () => 1, { fifoFailureMode: 'nope' as never })).toThrow(BatchConfigurationError);
    expect(() => requestHandler('handler' as never)).toThrow(/handler must be a function/);
  });
});

describe('Function: sendReply', () => {
  it('rejects a reply it cannot send, sending nothing', async () => {
    const broker = new FakeBroker();
    await expect(sendReply(broker.client, { replyTo: 'queue', correlationId: 'c', body: 1 })).rejects.toThrow(
      /replyTo must be an http\(s\) URL/,
    );
    await expect(sendReply(broker.client, { replyTo: 'https://q/1/r', correlationId: '', body: 1 })).rejects.toThrow(
      /correlationId must be a non-empty string/,
    );
    await expect(
      sendReply(broker.client, { replyTo: 'https://q/1/r', correlationId: 'c', body: 1, status: 'fine' as never }),
    ).rejects.toThrow(/status must be one of 'ok', 'error'/);
    expect(broker.count('SendMessage')).toBe(0);
  });
});

describe('Class: RejectRequestError', () => {
  it('is a library error, not retryable', () => {
    const e = new RejectRequestError('no', { context: { sku: 'x' } });
    expect(e).toBeInstanceOf(MessagingPatternsRuntimeError);
    expect(e).toBeInstanceOf(RequestReplyError);
    expect(e).toMatchObject({ name: 'RejectRequestError', retryable: false, context: { sku: 'x' } });
  });
});

describe('Function: reapIdleReplyQueues', () => {
  it('deletes reply queues idle longer than the timeout, keeps fresh ones and other queues', async () => {
    // Prepare
    const broker = new FakeBroker();
    const now = Date.now();
    const idle = broker.createQueue(`${PREFIX}idle`);
    idle.tags['cdk-messaging-patterns:heartbeat'] = String(Math.floor(now / 1000) - 7200);
    const fresh = broker.createQueue(`${PREFIX}fresh`);
    fresh.tags['cdk-messaging-patterns:heartbeat'] = String(Math.floor(now / 1000) - 60);
    const untagged = broker.createQueue(`${PREFIX}untagged`);
    untagged.createdTimestamp = Math.floor(now / 1000) - 4000;
    const other = broker.createQueue('orders');
    other.createdTimestamp = 0;
    // Act
    const res = await reapIdleReplyQueues(broker.client, PREFIX, 3600, { now, logger: null });
    // Assess
    expect(res).toEqual({ checked: 3, deleted: [idle.url, untagged.url] });
    expect([...broker.queues.values()].map((q) => q.name).sort()).toEqual(['orders', `${PREFIX}fresh`]);
  });

  it('ignores a queue deleted while it runs', async () => {
    const broker = new FakeBroker();
    broker.createQueue(`${PREFIX}gone`);
    broker.failNext.set('ListQueueTags', Object.assign(new Error('gone'), { name: 'QueueDoesNotExist' }));
    await expect(reapIdleReplyQueues(broker.client, PREFIX, 60, { logger: null })).resolves.toEqual({ checked: 1, deleted: [] });
  });

  it('refuses a prefix that would match too much', async () => {
    await expect(reapIdleReplyQueues(new FakeBroker().client, '', 60)).rejects.toThrow(/prefix must be 1-60/);
    await expect(reapIdleReplyQueues(new FakeBroker().client, '', 60)).rejects.toThrow(RequestReplyConfigurationError);
  });

  it.each([0, -1, Number.NaN])('refuses an idle time of %p', async (idle) => {
    await expect(reapIdleReplyQueues(new FakeBroker().client, PREFIX, idle, { logger: null })).rejects.toThrow(
      /idleSeconds must be a positive number of seconds/,
    );
  });

  it('logs each deleted queue with its fields as an object', async () => {
    const broker = new FakeBroker();
    const idle = broker.createQueue(`${PREFIX}idle`);
    idle.createdTimestamp = 0;
    const lines: Array<[string, Record<string, unknown>]> = [];
    await reapIdleReplyQueues(broker.client, PREFIX, 60, {
      logger: { warn: () => undefined, info: (m: string, fields: Record<string, unknown>) => void lines.push([m, fields]) },
    });
    expect(lines).toEqual([['idle reply queue deleted', { url: idle.url, idleSeconds: expect.any(Number) }]]);
  });
});

describe('Protocol helpers', () => {
  it('parses queue ARNs and URLs, AWS and emulator style', () => {
    expect(parseQueueArn('arn:aws-cn:sqs:cn-north-1:111122223333:q')).toEqual({
      partition: 'aws-cn',
      region: 'cn-north-1',
      account: '111122223333',
      name: 'q',
    });
    expect(parseQueueUrl('https://sqs.eu-west-1.amazonaws.com/111122223333/quotes-reply-1')).toEqual({
      account: '111122223333',
      name: 'quotes-reply-1',
    });
    expect(parseQueueUrl('http://127.0.0.1:4566/queue/us-east-1/000000000000/quotes-reply-1')).toEqual({
      account: '000000000000',
      name: 'quotes-reply-1',
    });
    expect(parseQueueUrl('https://example.com/a')).toBeUndefined();
  });
});
