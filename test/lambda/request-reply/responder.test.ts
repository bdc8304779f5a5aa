import type { SQSRecord } from 'aws-lambda';
import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';
import { FakeBroker } from '../runtime/request-reply/fake-broker';

/** Loads the example responder fresh, its SQS client answered by a FakeBroker. */
async function load(broker: FakeBroker) {
  jest.resetModules();
  process.env.REPLY_QUEUE_PREFIX = 'rr-reply-';
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  jest
    .spyOn(SQSClient.prototype, 'send')
    .mockImplementation(((cmd: unknown) => (broker.client as unknown as { send: (c: unknown) => unknown }).send(cmd)) as never);
  return (await import('../../../lambda/request-reply/responder')).handler;
}

describe('Handler: request-reply/responder', () => {
  afterEach(() => {
    jest.restoreAllMocks();
    delete process.env.REPLY_QUEUE_PREFIX;
  });

  it('adds, echoes and rejects, replying to each requester under its correlation id', async () => {
    // Prepare
    const broker = new FakeBroker();
    const replies = broker.createQueue('rr-reply-1');
    const handler = await load(broker);
    const req = (body: unknown, id: string): SQSRecord => ({
      ...sqsRecord(body),
      eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:requests',
      messageAttributes: {
        CorrelationId: { dataType: 'String', stringValue: id },
        ReplyTo: { dataType: 'String', stringValue: replies.url },
        ExpiresAt: { dataType: 'Number', stringValue: String(Date.now() + 5000) },
      },
    });
    // Act
    const res = await handler(
      sqsEvent([
        req({ op: 'add', a: 2, b: 40, requestId: 'r1' }, 'c1'),
        req({ op: 'echo', input: { x: 1 }, requestId: 'r2', delayMs: 20 }, 'c2'),
        req({ op: 'add', a: 'x' }, 'c3'),
        req({ op: 'echo', reject: 'not today' }, 'c4'),
        req({ op: 'pow' }, 'c5'),
      ]),
      lambdaContext(),
    );
    // Assess
    expect(res.batchItemFailures).toEqual([]);
    const got = Object.fromEntries(
      replies.visible.map((m) => [
        m.MessageAttributes.CorrelationId.StringValue,
        [m.MessageAttributes.ReplyStatus.StringValue, JSON.parse(m.Body)],
      ]),
    );
    expect(got).toEqual({
      c1: ['ok', { requestId: 'r1', result: 42 }],
      c2: ['ok', { requestId: 'r2', result: { x: 1 } }],
      c3: ['error', { name: 'RejectRequestError', message: 'add needs numbers a and b' }],
      c4: ['error', { name: 'RejectRequestError', message: 'not today' }],
      c5: ['error', { name: 'RejectRequestError', message: "unknown op 'pow'" }],
    });
  });
});
