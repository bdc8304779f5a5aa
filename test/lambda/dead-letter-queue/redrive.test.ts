import { FakeSqs } from '../runtime/dlq/fakes';

/** Loads the handler fresh with `env`, its SQS client answered by a FakeSqs. */
async function load(env: Record<string, string>, sqs: FakeSqs) {
  jest.resetModules();
  for (const k of ['DEAD_LETTER_QUEUE_ARN', 'DESTINATION_QUEUE_ARN', 'MAX_MESSAGES_PER_SECOND']) delete process.env[k];
  Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  jest
    .spyOn(SQSClient.prototype, 'send')
    .mockImplementation(((cmd: unknown) => (sqs.client as unknown as { send: (c: unknown) => unknown }).send(cmd)) as never);
  return (await import('../../../lambda/dead-letter-queue/redrive')).handler;
}

function setup(messages = 2) {
  const sqs = new FakeSqs();
  const dlq = sqs.addQueue('orders-dlq');
  sqs.addQueue('orders', { deadLetterTargetArn: dlq.arn });
  for (let i = 0; i < messages; i++) sqs.addMessage(dlq, `m-${i}`, 'x');
  return { sqs, dlq };
}

describe('Handler: dead-letter-queue/redrive', () => {
  afterEach(() => jest.restoreAllMocks());

  it('starts a redrive back to the source queues by default', async () => {
    // Prepare
    const { sqs, dlq } = setup();
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn }, sqs);
    // Act
    const res = await handler({});
    // Assess
    expect(res).toMatchObject({ action: 'start', outcome: 'started', task: { status: 'RUNNING', toMove: 2 } });
    expect(sqs.moveTasks).toEqual([
      expect.objectContaining({ SourceArn: dlq.arn, DestinationArn: undefined, MaxNumberOfMessagesPerSecond: undefined }),
    ]);
  });

  it('uses the configured destination and rate; the payload overrides the rate', async () => {
    const { sqs, dlq } = setup();
    const retry = sqs.addQueue('retry');
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn, DESTINATION_QUEUE_ARN: retry.arn, MAX_MESSAGES_PER_SECOND: '10' }, sqs);
    await handler({ action: 'start', maxMessagesPerSecond: 3 });
    expect(sqs.moveTasks[0]).toMatchObject({ DestinationArn: retry.arn, MaxNumberOfMessagesPerSecond: 3 });
  });

  it('does not start a second redrive while one runs', async () => {
    const { sqs, dlq } = setup();
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn }, sqs);
    await handler({ action: 'start' });
    const again = await handler({ action: 'start' });
    expect(again.outcome).toBe('already-running');
    expect(sqs.moveTasks).toHaveLength(1);
  });

  it('skips an empty dead-letter queue on a schedule, but starts when an operator asks', async () => {
    const { sqs, dlq } = setup(0);
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn }, sqs);
    expect(await handler({ action: 'start', trigger: 'schedule' })).toEqual({ action: 'start', outcome: 'empty' });
    expect(sqs.moveTasks).toHaveLength(0);
    expect((await handler({ action: 'start' })).outcome).toBe('started');
  });

  it('starts on a schedule when there are dead letters, after a failed redrive too', async () => {
    const { sqs, dlq } = setup(1);
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn }, sqs);
    await handler({ action: 'start', trigger: 'schedule' });
    Object.assign(sqs.moveTasks[0], { Status: 'FAILED', FailureReason: 'AccessDenied', TaskHandle: undefined });
    sqs.advance(1000);
    const before = sqs.calls.length;
    expect((await handler({ action: 'start', trigger: 'schedule' })).outcome).toBe('started');
    expect(sqs.moveTasks).toHaveLength(2);
    // one look at the previous task before the start, one at the new task after it
    expect(sqs.calls.slice(before).filter((c) => c.command === 'ListMessageMoveTasks')).toHaveLength(2);
  });

  it('reports the latest redrive', async () => {
    const { sqs, dlq } = setup();
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn }, sqs);
    expect(await handler({ action: 'status' })).toEqual({ action: 'status', outcome: 'reported', task: undefined });
    await handler({});
    expect(await handler({ action: 'status' })).toMatchObject({ outcome: 'reported', task: { status: 'RUNNING' } });
  });

  it('cancels the running redrive, and says when none runs', async () => {
    const { sqs, dlq } = setup();
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn }, sqs);
    expect(await handler({ action: 'cancel' })).toEqual({ action: 'cancel', outcome: 'not-running', moved: undefined });
    await handler({});
    expect(await handler({ action: 'cancel' })).toEqual({ action: 'cancel', outcome: 'cancelled', moved: 0 });
    expect(sqs.moveTasks[0].Status).toBe('CANCELLING');
  });

  it('fails on an unknown action and without its configuration', async () => {
    const { sqs, dlq } = setup();
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn }, sqs);
    await expect(handler({ action: 'explode' as never })).rejects.toThrow(/unknown action 'explode'/);
    const bare = await load({}, sqs);
    await expect(bare({})).rejects.toThrow(/DEAD_LETTER_QUEUE_ARN is not set/);
  });

  it.each([
    [
      'DEAD_LETTER_QUEUE_ARN',
      { DEAD_LETTER_QUEUE_ARN: 'orders-dlq' },
      /DEAD_LETTER_QUEUE_ARN must be an SQS queue ARN \(given 'orders-dlq'\)/,
    ],
    ['DESTINATION_QUEUE_ARN', { DESTINATION_QUEUE_ARN: 'https://sqs/orders' }, /DESTINATION_QUEUE_ARN must be an SQS queue ARN/],
    [
      'MAX_MESSAGES_PER_SECOND',
      { MAX_MESSAGES_PER_SECOND: 'fast' },
      /MAX_MESSAGES_PER_SECOND must be an integer between 1 and 500 \(given 'fast'\)/,
    ],
    ['MAX_MESSAGES_PER_SECOND', { MAX_MESSAGES_PER_SECOND: '501' }, /\(given '501'\)/],
  ])('fails, naming %s, when it is malformed, before calling SQS', async (variable, env, message) => {
    const { sqs, dlq } = setup();
    const handler = await load({ DEAD_LETTER_QUEUE_ARN: dlq.arn, ...env }, sqs);
    await expect(handler({})).rejects.toThrow(message);
    await expect(handler({})).rejects.toThrow(expect.objectContaining({ name: 'DeadLetterQueueConfigurationError', option: variable }));
    expect(sqs.calls).toEqual([]);
  });
});
