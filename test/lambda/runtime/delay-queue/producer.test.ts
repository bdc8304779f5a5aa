import {
  type DelayQueueConfig,
  DelayQueueConfigurationError,
  DelayQueueError,
  DelayQueueProducer,
  type DelayQueueProducerOptions,
  InvalidDelayError,
  MessagingPatternsRuntimeError,
  ScheduleConflictError,
  atExpression,
  parseDelayQueueConfig,
  scheduleNameFor,
} from '../../../../lambda/runtime/delay-queue';
import { FakeScheduler, FakeSqs } from './fakes';

const NOW = new Date('2030-01-01T10:00:00.000Z');

const CONFIG: DelayQueueConfig = {
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/reminders',
  queueArn: 'arn:aws:sqs:eu-west-1:111122223333:reminders',
  scheduleGroupName: 'reminders-group',
  schedulerRoleArn: 'arn:aws:iam::111122223333:role/scheduler',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:111122223333:reminders-schedule-dlq',
  retryAttempts: 185,
  maxEventAgeSeconds: 86400,
  queueDelaySeconds: 0,
};

function setup(options: Partial<DelayQueueProducerOptions> = {}, config: Partial<DelayQueueConfig> = {}) {
  const sqs = new FakeSqs();
  const scheduler = new FakeScheduler();
  const producer = new DelayQueueProducer({
    config: { ...CONFIG, ...config },
    sqs: sqs.client,
    scheduler: scheduler.client,
    now: () => NOW,
    ...options,
  });
  return { sqs, scheduler, producer };
}

describe('Class: DelayQueueProducer', () => {
  describe('Method: scheduleMessage, SQS path (up to 15 minutes)', () => {
    it('sends with DelaySeconds', async () => {
      // Prepare
      const { sqs, scheduler, producer } = setup();
      // Act
      const res = await producer.scheduleMessage('hello', { delaySeconds: 90.2, id: 'r1' });
      // Assess
      expect(res).toEqual({ id: 'r1', path: 'sqs', status: 'sent', deliverAt: new Date('2030-01-01T10:01:30.200Z'), messageId: 'm-1' });
      expect(sqs.sent).toEqual([{ QueueUrl: CONFIG.queueUrl, MessageBody: 'hello', DelaySeconds: 91 }]);
      expect(scheduler.calls).toEqual([]);
    });

    it('computes the delay from at, up to exactly 900 seconds', async () => {
      const { sqs, producer } = setup();
      await producer.scheduleMessage('a', { at: new Date('2030-01-01T10:15:00.000Z') });
      expect(sqs.sent[0].DelaySeconds).toBe(900);
    });

    it('sends at once when at is in the past', async () => {
      const { sqs, producer } = setup();
      const res = await producer.scheduleMessage('a', { at: new Date('2029-12-31T00:00:00Z') });
      expect(sqs.sent[0].DelaySeconds).toBe(0);
      expect(res.deliverAt).toEqual(NOW);
    });

    it('gives a random id when none is given', async () => {
      const { producer } = setup();
      const res = await producer.scheduleMessage('a', { delaySeconds: 1 });
      expect(res.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
  });

  describe('Method: scheduleMessage, scheduler path (beyond 15 minutes)', () => {
    it('creates a one-time schedule named after the id, targeting the queue with the role, DLQ and retry policy, deleted after it ran', async () => {
      // Prepare
      const { sqs, scheduler, producer } = setup();
      // Act
      const res = await producer.scheduleMessage('{"remind":"pay"}', { delaySeconds: 3 * 86400, id: 'order-42.reminder' });
      // Assess
      expect(res).toEqual({
        id: 'order-42.reminder',
        path: 'scheduler',
        status: 'scheduled',
        deliverAt: new Date('2030-01-04T10:00:00.000Z'),
        scheduleName: 'order-42.reminder',
        scheduleArn: 'arn:aws:scheduler:eu-west-1:111122223333:schedule/reminders-group/order-42.reminder',
      });
      expect(sqs.sent).toEqual([]);
      expect(scheduler.schedules.get('reminders-group/order-42.reminder')).toEqual({
        Name: 'order-42.reminder',
        GroupName: 'reminders-group',
        Description: 'delay-queue message order-42.reminder',
        ScheduleExpression: 'at(2030-01-04T10:00:00)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: CONFIG.queueArn,
          RoleArn: CONFIG.schedulerRoleArn,
          Input: '{"remind":"pay"}',
          DeadLetterConfig: { Arn: CONFIG.deadLetterQueueArn },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        },
      });
    });

    it('fires the queue delay earlier, so the message is visible on time', async () => {
      const { scheduler, producer } = setup({}, { queueDelaySeconds: 120 });
      await producer.scheduleMessage('a', { at: new Date('2030-01-01T12:00:00Z'), id: 'x' });
      expect(scheduler.schedules.get('reminders-group/x')?.ScheduleExpression).toBe('at(2030-01-01T11:58:00)');
    });

    it('fires no sooner than a minute out when the queue delay eats the lead', async () => {
      const { sqs, scheduler, producer } = setup({}, { queueDelaySeconds: 900 });
      await producer.scheduleMessage('a', { delaySeconds: 950, id: 'x' });
      expect(sqs.sent).toEqual([]);
      expect(scheduler.schedules.get('reminders-group/x')?.ScheduleExpression).toBe('at(2030-01-01T10:01:00)');
    });

    it('uses a schedule for shorter delays when maxSqsDelaySeconds is lowered (idempotent and cancellable)', async () => {
      const { sqs, scheduler, producer } = setup({ maxSqsDelaySeconds: 60 });
      await producer.scheduleMessage('a', { delaySeconds: 300, id: 'short' });
      await producer.scheduleMessage('b', { delaySeconds: 30, id: 'tiny' });
      expect(scheduler.schedules.has('reminders-group/short')).toBe(true);
      expect(sqs.sent.map((m) => m.MessageBody)).toEqual(['b']);
    });

    it('keeps the exact SQS path when a lowered threshold would schedule less than a minute out', async () => {
      const { sqs, scheduler, producer } = setup({ maxSqsDelaySeconds: 60 }, { queueDelaySeconds: 300 });
      await producer.scheduleMessage('a', { delaySeconds: 320, id: 'x' });
      expect(scheduler.calls).toEqual([]);
      expect(sqs.sent[0].DelaySeconds).toBe(320);
    });

    it('names the schedule after a hash of an id that is not a valid schedule name', async () => {
      const { scheduler, producer } = setup();
      const res = await producer.scheduleMessage('a', { delaySeconds: 3600, id: 'tenant/42 reminder' });
      expect(res.scheduleName).toBe(scheduleNameFor('tenant/42 reminder'));
      expect(res.scheduleName).toMatch(/^sha256-[0-9a-f]{56}$/);
      expect(scheduler.schedules.get(`reminders-group/${res.scheduleName}`)?.Description).toBe('delay-queue message tenant/42 reminder');
    });
  });

  describe('idempotency by id', () => {
    it('does not schedule a second message for a repeated call with the same id and body', async () => {
      // Prepare
      const { scheduler, producer } = setup();
      await producer.scheduleMessage('same', { delaySeconds: 7200, id: 'once' });
      // Act
      const again = await producer.scheduleMessage('same', { delaySeconds: 7300, id: 'once' });
      // Assess
      expect(again).toMatchObject({ id: 'once', path: 'scheduler', status: 'already-scheduled', scheduleName: 'once' });
      expect(scheduler.schedules.size).toBe(1);
      expect(scheduler.schedules.get('reminders-group/once')?.ScheduleExpression).toBe('at(2030-01-01T12:00:00)');
      expect(scheduler.calls).toEqual(['CreateScheduleCommand', 'CreateScheduleCommand', 'GetScheduleCommand']);
    });

    it('throws ScheduleConflictError when the id is reused for a different body, keeping the first message', async () => {
      const { scheduler, producer } = setup();
      await producer.scheduleMessage('first', { delaySeconds: 7200, id: 'dup' });
      await expect(producer.scheduleMessage('second', { delaySeconds: 7200, id: 'dup' })).rejects.toThrow(
        new ScheduleConflictError('dup', 'dup'),
      );
      await expect(producer.scheduleMessage('second', { delaySeconds: 7200, id: 'dup' })).rejects.toMatchObject({
        retryable: false,
        context: { id: 'dup', scheduleName: 'dup' },
      });
      expect(scheduler.schedules.get('reminders-group/dup')?.Target.Input).toBe('first');
    });

    it('treats a schedule that ran between the conflict and the check as the first message', async () => {
      const { scheduler, producer } = setup();
      await producer.scheduleMessage('same', { delaySeconds: 7200, id: 'gone' });
      scheduler.onConflict = () => scheduler.schedules.clear();
      const again = await producer.scheduleMessage('other', { delaySeconds: 7200, id: 'gone' });
      expect(again.status).toBe('already-scheduled');
      expect(scheduler.schedules.size).toBe(0);
    });

    it('lets other errors through', async () => {
      const { scheduler, producer } = setup();
      scheduler.failNext.set('CreateScheduleCommand', Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
      await expect(producer.scheduleMessage('a', { delaySeconds: 7200, id: 'x' })).rejects.toThrow(/not allowed/);
    });
  });

  describe('Method: cancel', () => {
    it('deletes the schedule of the id, and says false when there is none', async () => {
      const { scheduler, producer } = setup();
      await producer.scheduleMessage('a', { delaySeconds: 7200, id: 'tenant/1' });
      expect(await producer.cancel('tenant/1')).toBe(true);
      expect(scheduler.schedules.size).toBe(0);
      expect(await producer.cancel('tenant/1')).toBe(false);
    });

    it('lets other errors through', async () => {
      const { scheduler, producer } = setup();
      scheduler.failNext.set('DeleteScheduleCommand', Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
      await expect(producer.cancel('x')).rejects.toThrow(/throttled/);
    });
  });

  describe('validation', () => {
    it.each([
      ['neither at nor delaySeconds', {}, /give exactly one of at and delaySeconds \(given neither\)/],
      ['both', { at: NOW, delaySeconds: 5 }, /give exactly one of at and delaySeconds \(given both\)/],
      ['a negative delay', { delaySeconds: -1 }, /delaySeconds must be a number of seconds, 0 or more \(given -1\)/],
      ['a NaN delay', { delaySeconds: Number.NaN }, /\(given NaN\)/],
      ['an invalid date', { at: new Date('nope') }, /at must be a valid Date \(given Invalid Date\)/],
      [
        'more than a year',
        { delaySeconds: 366 * 86400 },
        /the delay must be at most a year \(31536000 seconds\) \(given 31622400 seconds\)/,
      ],
    ])('fails with InvalidDelayError for %s, sending nothing', async (_what, options, message) => {
      const { sqs, scheduler, producer } = setup();
      await expect(producer.scheduleMessage('a', options)).rejects.toThrow(InvalidDelayError);
      await expect(producer.scheduleMessage('a', options)).rejects.toThrow(message);
      expect(sqs.sent).toEqual([]);
      expect(scheduler.calls).toEqual([]);
    });

    it('accepts exactly a year', async () => {
      const { scheduler, producer } = setup();
      await producer.scheduleMessage('a', { delaySeconds: 365 * 86400, id: 'y' });
      expect(scheduler.schedules.get('reminders-group/y')?.ScheduleExpression).toBe('at(2031-01-01T10:00:00)');
    });

    it.each([-1, 901, Number.NaN])('fails if maxSqsDelaySeconds is %p', (n) => {
      expect(() => setup({ maxSqsDelaySeconds: n })).toThrow(new RegExp(`maxSqsDelaySeconds must be between 0 and 900 \\(given ${n}\\)`));
      expect(() => setup({ maxSqsDelaySeconds: n })).toThrow(DelayQueueConfigurationError);
    });

    it('gives InvalidDelayError the option and value in its context, not retryable', async () => {
      const { producer } = setup();
      const error = await producer.scheduleMessage('a', { delaySeconds: -5 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'InvalidDelayError', retryable: false, context: { option: 'delaySeconds', value: -5 } });
      expect(error).toBeInstanceOf(DelayQueueError);
      expect(error).toBeInstanceOf(MessagingPatternsRuntimeError);
    });
  });

  describe('configuration', () => {
    afterEach(() => delete process.env.DELAY_QUEUE_CONFIG);

    it('reads DELAY_QUEUE_CONFIG', async () => {
      process.env.DELAY_QUEUE_CONFIG = JSON.stringify(CONFIG);
      const sqs = new FakeSqs();
      const producer = DelayQueueProducer.fromEnvironment(undefined, { sqs: sqs.client, now: () => NOW });
      await producer.scheduleMessage('a', { delaySeconds: 1 });
      expect(sqs.sent[0].QueueUrl).toBe(CONFIG.queueUrl);
    });

    it('checks a configuration given as an object as it checks the JSON (a number must be finite)', () => {
      expect(() => setup({}, { retryAttempts: Number.NaN, queueArn: '' })).toThrow(
        new DelayQueueConfigurationError('queueArn', 'configuration lacks queueArn, retryAttempts'),
      );
      const config = { ...CONFIG };
      const producer = new DelayQueueProducer({ config });
      config.queueUrl = 'changed';
      expect(producer.config.queueUrl).toBe(CONFIG.queueUrl);
    });

    it('names what is missing', () => {
      expect(() => DelayQueueProducer.fromEnvironment()).toThrow(/environment variable DELAY_QUEUE_CONFIG is empty/);
      expect(() => parseDelayQueueConfig('{"queueUrl":"u"}')).toThrow(
        new DelayQueueConfigurationError(
          'queueArn',
          'configuration lacks queueArn, scheduleGroupName, schedulerRoleArn, deadLetterQueueArn, retryAttempts, maxEventAgeSeconds, queueDelaySeconds',
        ),
      );
      expect(() => parseDelayQueueConfig('{')).toThrow(/not valid JSON/);
    });

    it.each([
      ['queueUrl', { queueUrl: 'reminders' }, /configuration: queueUrl must be an http\(s\) URL \(given 'reminders'\)/],
      ['queueArn', { queueArn: 'arn:aws:sns:eu-west-1:111122223333:t' }, /queueArn must be an SQS queue ARN/],
      [
        'scheduleGroupName',
        { scheduleGroupName: 'has space' },
        /scheduleGroupName must be 1-64 letters, digits, hyphens, underscores or dots/,
      ],
      ['schedulerRoleArn', { schedulerRoleArn: 'scheduler' }, /schedulerRoleArn must be an IAM role ARN \(given 'scheduler'\)/],
      ['deadLetterQueueArn', { deadLetterQueueArn: 'dlq' }, /deadLetterQueueArn must be an SQS queue ARN \(given 'dlq'\)/],
      ['retryAttempts', { retryAttempts: 186 }, /retryAttempts must be an integer between 0 and 185 \(given 186\)/],
      ['retryAttempts', { retryAttempts: 1.5 }, /retryAttempts must be an integer between 0 and 185 \(given 1.5\)/],
      ['maxEventAgeSeconds', { maxEventAgeSeconds: 59 }, /maxEventAgeSeconds must be an integer between 60 and 86400 \(given 59\)/],
      ['queueDelaySeconds', { queueDelaySeconds: 901 }, /queueDelaySeconds must be an integer between 0 and 900 \(given 901\)/],
    ])('fails with DelayQueueConfigurationError for a malformed %s', (option, config, message) => {
      expect(() => setup({}, config as Partial<DelayQueueConfig>)).toThrow(message);
      expect(() => setup({}, config as Partial<DelayQueueConfig>)).toThrow(
        expect.objectContaining({ name: 'DelayQueueConfigurationError', option, retryable: false }),
      );
    });

    it('names the environment variable when its configuration is malformed', () => {
      process.env.DELAY_QUEUE_CONFIG = JSON.stringify({ ...CONFIG, retryAttempts: -1 });
      expect(() => DelayQueueProducer.fromEnvironment()).toThrow(
        /environment variable DELAY_QUEUE_CONFIG: retryAttempts must be an integer between 0 and 185 \(given -1\)/,
      );
      expect(() => DelayQueueProducer.fromEnvironment('')).toThrow(/variable must be a non-empty string/);
    });

    it('fails with DelayQueueConfigurationError for a bad clock or client', () => {
      expect(() => setup({ now: 'now' as never })).toThrow(/now must be a function \(given 'now'\)/);
      expect(() => setup({ sqs: {} as never })).toThrow(/sqs must be an AWS SDK v3 client/);
      expect(() => setup({ scheduler: 1 as never })).toThrow(/scheduler must be an AWS SDK v3 client/);
    });
  });
});

describe('Function: scheduleNameFor', () => {
  it.each([
    ['order-1', 'order-1'],
    ['a.b_c-D9', 'a.b_c-D9'],
    ['x'.repeat(64), 'x'.repeat(64)],
  ])('keeps a valid name: %p', (id, name) => {
    expect(scheduleNameFor(id)).toBe(name);
  });

  it.each(['x'.repeat(65), 'a/b', 'has space', 'sha256-abc', ''])('hashes %p into a valid, stable, distinct name', (id) => {
    const name = scheduleNameFor(id);
    expect(name).toMatch(/^sha256-[0-9a-f]{56}$/);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(scheduleNameFor(id)).toBe(name);
    expect(scheduleNameFor(`${id}!`)).not.toBe(name);
  });
});

describe('Function: atExpression', () => {
  it('formats UTC whole seconds, rounding up', () => {
    expect(atExpression(new Date('2030-06-01T23:59:59.001Z'))).toBe('at(2030-06-02T00:00:00)');
    expect(atExpression(new Date('2030-06-01T08:30:00.000Z'))).toBe('at(2030-06-01T08:30:00)');
  });
});
