const CONFIG = {
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/q',
  queueArn: 'arn:aws:sqs:eu-west-1:111122223333:q',
  scheduleGroupName: 'g',
  schedulerRoleArn: 'arn:aws:iam::111122223333:role/r',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:111122223333:dlq',
  retryAttempts: 3,
  maxEventAgeSeconds: 3600,
  queueDelaySeconds: 0,
};

type Producer = typeof import('../../../lambda/delay-queue/example-producer');

async function load(env: Record<string, string | undefined>): Promise<Producer> {
  jest.resetModules();
  delete process.env.DELAY_QUEUE_CONFIG;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;
  return import('../../../lambda/delay-queue/example-producer');
}

afterEach(() => {
  delete process.env.DELAY_QUEUE_CONFIG;
  jest.restoreAllMocks();
});

describe('Handler: delay-queue/example-producer', () => {
  it('fails at load when DELAY_QUEUE_CONFIG is missing', async () => {
    await expect(load({})).rejects.toThrow(/environment variable DELAY_QUEUE_CONFIG is empty/);
  });

  it('schedules a long delay and cancels it by id', async () => {
    // Prepare
    const { handler } = await load({ DELAY_QUEUE_CONFIG: JSON.stringify(CONFIG) });
    const { SchedulerClient } = await import('@aws-sdk/client-scheduler');
    const send = jest.spyOn(SchedulerClient.prototype, 'send').mockImplementation((async () => ({ ScheduleArn: 'arn:schedule' })) as never);
    // Act
    const scheduled = await handler({ body: 'b', delaySeconds: 7200, id: 'r-1' });
    const cancelled = await handler({ cancel: 'r-1' });
    // Assess
    expect(scheduled).toMatchObject({ id: 'r-1', path: 'scheduler', status: 'scheduled', scheduleName: 'r-1' });
    expect(cancelled).toEqual({ cancelled: true });
    expect(send.mock.calls.map((c) => (c[0] as { constructor: { name: string } }).constructor.name)).toEqual([
      'CreateScheduleCommand',
      'DeleteScheduleCommand',
    ]);
  });

  it('sends a short delay with SQS, from an ISO time', async () => {
    const { handler } = await load({ DELAY_QUEUE_CONFIG: JSON.stringify(CONFIG) });
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const send = jest.spyOn(SQSClient.prototype, 'send').mockImplementation((async () => ({ MessageId: 'm' })) as never);
    const res = await handler({ body: 'b', at: new Date(Date.now() + 60_000).toISOString() });
    expect(res).toMatchObject({ path: 'sqs', status: 'sent', messageId: 'm' });
    const delay = (send.mock.calls[0][0] as unknown as { input: { DelaySeconds: number } }).input.DelaySeconds;
    expect(delay).toBeGreaterThanOrEqual(59);
    expect(delay).toBeLessThanOrEqual(60);
  });
});
