import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';

/** Loads the handler fresh with `env`, and spies on the SQS client it will use. */
const load = async (env: Record<string, string>) => {
  jest.resetModules();
  delete process.env.RESULTS_QUEUE_URL;
  delete process.env.FAULT_INJECTION;
  Object.assign(process.env, env);
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const send = jest.spyOn(SQSClient.prototype, 'send').mockImplementation(async () => ({}));
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const mod = await import('../../../lambda/fan-out/subscriber');
  return { ...mod, send, warn };
};

const sent = (send: jest.SpyInstance) =>
  send.mock.calls.map(
    (c) => (c[0] as { input: { QueueUrl: string; MessageBody: string; MessageGroupId?: string; MessageDeduplicationId?: string } }).input,
  );

const envelope = (message: unknown) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: 'sns-1',
    TopicArn: 'arn:aws:sns:us-east-1:000000000000:orders',
    Message: JSON.stringify(message),
  });

describe('Handler: fan-out/subscriber', () => {
  afterEach(() => {
    delete process.env.RESULTS_QUEUE_URL;
    delete process.env.FAULT_INJECTION;
    jest.restoreAllMocks();
  });

  describe('Method: readMessage', () => {
    it('reads a raw message and one in the SNS envelope alike', async () => {
      const { readMessage } = await load({});
      expect(readMessage(sqsRecord({ id: 'a', seq: 1 }))).toEqual({ id: 'a', seq: 1 });
      expect(readMessage(sqsRecord(envelope({ id: 'b' })))).toEqual({ id: 'b' });
    });

    it('rejects a message without an id, and an envelope that does not hold JSON', async () => {
      const { readMessage, InvalidMessageError } = await load({});
      expect(() => readMessage(sqsRecord({ seq: 1 }))).toThrow(InvalidMessageError);
      expect(() => readMessage(sqsRecord(JSON.stringify({ Type: 'Notification', TopicArn: 'arn', Message: 'not json' })))).toThrow(
        /the SNS envelope's Message is not JSON/,
      );
    });
  });

  it('reports each processed message with its source queue, group and receive count', async () => {
    const { handler, send } = await load({ RESULTS_QUEUE_URL: 'http://localhost/000000000000/results' });
    const record = sqsRecord({ id: 'm1', seq: 3 }, { receiveCount: 2 });
    const res = await handler(sqsEvent([record]), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    const [input] = sent(send);
    expect(input.QueueUrl).toBe('http://localhost/000000000000/results');
    expect(JSON.parse(input.MessageBody)).toEqual({
      id: 'm1',
      source: record.eventSourceARN,
      seq: 3,
      receiveCount: 2,
      messageId: record.messageId,
    });
    expect(input.MessageGroupId).toBeUndefined();
  });

  it('keeps order per source and message group in a FIFO results queue, every processing a new message', async () => {
    const { handler, send } = await load({ RESULTS_QUEUE_URL: 'http://localhost/000000000000/results.fifo' });
    await handler(
      sqsEvent([sqsRecord({ id: 'a' }, { fifo: true, groupId: 'g1' }), sqsRecord({ id: 'b' }, { fifo: true, groupId: 'g2' })]),
      lambdaContext(),
    );
    const inputs = sent(send);
    expect(inputs.map((i) => i.MessageGroupId)).toEqual([
      expect.stringMatching(/^[0-9a-f]{16}:g1$/),
      expect.stringMatching(/^[0-9a-f]{16}:g2$/),
    ]);
    expect(new Set(inputs.map((i) => i.MessageDeduplicationId)).size).toBe(2);
  });

  it('fails messages that ask for it only with fault injection on, and invalid ones always', async () => {
    const off = await load({ RESULTS_QUEUE_URL: 'http://localhost/000000000000/results' });
    const records = () => [sqsRecord({ id: 'ok' }), sqsRecord({ id: 'boom', fail: true }), sqsRecord('{"id": ')];
    const a = records();
    expect((await off.handler(sqsEvent(a), lambdaContext())).batchItemFailures.map((f) => f.itemIdentifier)).toEqual([a[2].messageId]);

    const on = await load({ RESULTS_QUEUE_URL: 'http://localhost/000000000000/results', FAULT_INJECTION: 'on' });
    const b = records();
    const res = await on.handler(sqsEvent(b), lambdaContext());
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([b[1].messageId, b[2].messageId]);
    expect(on.warn.mock.calls.map((c) => (c[1] as { errorName: string }).errorName).sort()).toEqual([
      'InjectedFaultError',
      'MalformedMessageError',
    ]);
    expect(sent(on.send).map((i) => JSON.parse(i.MessageBody).id)).toEqual(['ok']);
  });
});
