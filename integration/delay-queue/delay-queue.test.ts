/**
 * DelayQueue end to end in LocalStack: the real construct, the producer helper from the test
 * process and from a deployed Lambda function (configured with connectProducer).
 *
 * - SQS path (up to 15 minutes): messages stay invisible for their delay, then arrive; the queue's
 *   own delivery delay applies to messages sent without one. Measured.
 * - Scheduler path (beyond 15 minutes): the schedule is created in the construct's group with the
 *   queue as target, the construct's scheduler role, dead-letter queue, retry policy and
 *   ActionAfterCompletion DELETE; a repeated id schedules nothing new; a different body under the
 *   same id is refused; cancel removes it.
 *
 * - Scheduler delivery: a due schedule sends its message to the queue and deletes itself; a
 *   cancelled one never arrives. LocalStack 4.13.1's own Scheduler only stores schedules; the
 *   project's LocalStack runs the `scheduler:firing` provider plugin
 *   (scripts/localstack-plugins/cmp_localstack/scheduler_firing), which fires them.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import { DelayQueue } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { type DelayQueueConfig, DelayQueueProducer, ScheduleConflictError, scheduleNameFor } from '../../lambda/runtime/delay-queue';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { drain, queueDepth, sqsClient } from '../harness/sqs';
import { waitFor } from '../harness/wait';

const QUEUE_DELAY_SECONDS = 3;

/** Receives and deletes one message (long poll), returning when it arrived, or undefined. */
async function receiveOne(client: SQSClient, queueUrl: string): Promise<{ body: string; receivedAt: number } | undefined> {
  const res = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
  const m = res.Messages?.[0];
  if (!m) return undefined;
  const receivedAt = Date.now();
  await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
  return { body: m.Body!, receivedAt };
}

describe('DelayQueue end to end', () => {
  let stack: DeployedStack;
  let sqs: SQSClient;
  let scheduler: SchedulerClient;
  let config: DelayQueueConfig;
  let delayedConfig: DelayQueueConfig;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('delay-queue', (s) => {
      const reminders = new DelayQueue(s, 'Reminders', { scheduleRetryAttempts: 3, scheduleMaxEventAge: Duration.hours(2) });
      const delayed = new DelayQueue(s, 'Delayed', { queueProps: { deliveryDelay: Duration.seconds(QUEUE_DELAY_SECONDS) } });
      const producer = new KitFunction(s, 'Producer', {
        handler: 'delay-queue/example-producer',
        functionProps: { timeout: Duration.seconds(10) },
      });
      reminders.connectProducer(producer);
      new CfnOutput(s, 'ProducerConfig', { value: reminders.producerConfig });
      new CfnOutput(s, 'DelayedProducerConfig', { value: delayed.producerConfig });
      new CfnOutput(s, 'ProducerName', { value: producer.functionName });
      new CfnOutput(s, 'ScheduleDlqUrl', { value: reminders.scheduleDeadLetterQueue.queueUrl });
    });
    sqs = sqsClient();
    scheduler = new SchedulerClient(clientConfig());
    config = JSON.parse(stack.outputs.ProducerConfig) as DelayQueueConfig;
    delayedConfig = JSON.parse(stack.outputs.DelayedProducerConfig) as DelayQueueConfig;
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  it('deploys a producer configuration that points at the deployed resources', () => {
    expect(config).toEqual({
      queueUrl: expect.stringMatching(/RemindersQueue/),
      queueArn: expect.stringMatching(/^arn:aws:sqs:.*RemindersQueue/),
      scheduleGroupName: expect.stringMatching(/Reminders-ScheduleGroup/),
      schedulerRoleArn: expect.stringMatching(/^arn:aws:iam::000000000000:role\//),
      deadLetterQueueArn: expect.stringMatching(/^arn:aws:sqs:.*RemindersScheduleDeadLet/),
      retryAttempts: 3,
      maxEventAgeSeconds: 7200,
      queueDelaySeconds: 0,
    });
    expect(delayedConfig.queueDelaySeconds).toBe(QUEUE_DELAY_SECONDS);
  });

  it('SQS path: a message stays invisible for its delay, then arrives', async () => {
    // Prepare
    const producer = new DelayQueueProducer({ config, sqs, scheduler });
    // Act
    const sent = Date.now();
    const res = await producer.scheduleMessage('short', { delaySeconds: 4, id: 'short-1' });
    const depth = await queueDepth(sqs, config.queueUrl);
    const early = await receiveOne(sqs, config.queueUrl);
    const arrived = await waitFor('the delayed message', () => receiveOne(sqs, config.queueUrl), { timeoutMs: 20_000, intervalMs: 200 });
    // Assess
    expect(res).toMatchObject({ path: 'sqs', status: 'sent' });
    expect(depth.delayed).toBe(1);
    expect(early).toBeUndefined();
    expect(arrived.body).toBe('short');
    const visibleAfterMs = arrived.receivedAt - sent;
    console.log(`delay-queue: SQS path, 4 s delay became visible after ${visibleAfterMs} ms`);
    expect(visibleAfterMs).toBeGreaterThanOrEqual(3_900);
    expect(visibleAfterMs).toBeLessThan(8_000);
  }, 60_000);

  it('SQS path: the queue delay applies to messages sent without one, and a per-message delay of 0 overrides it', async () => {
    const producer = new DelayQueueProducer({ config: delayedConfig, sqs, scheduler });
    const sent = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: delayedConfig.queueUrl, MessageBody: 'queue-default' }));
    await producer.scheduleMessage('now', { delaySeconds: 0 });
    const first = await waitFor('the undelayed message', () => receiveOne(sqs, delayedConfig.queueUrl), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const second = await waitFor('the queue-delayed message', () => receiveOne(sqs, delayedConfig.queueUrl), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    console.log(
      `delay-queue: delay 0 visible after ${first.receivedAt - sent} ms; queue delay ${QUEUE_DELAY_SECONDS} s visible after ${second.receivedAt - sent} ms`,
    );
    expect(first.body).toBe('now');
    expect(first.receivedAt - sent).toBeLessThan(QUEUE_DELAY_SECONDS * 1000);
    expect(second.body).toBe('queue-default');
    expect(second.receivedAt - sent).toBeGreaterThanOrEqual(QUEUE_DELAY_SECONDS * 1000 - 100);
  }, 60_000);

  it('scheduler path: creates a one-time schedule in the group that targets the queue with the role, DLQ, retry policy and deletion after completion', async () => {
    // Prepare: a fixed clock, so the expression is known.
    const now = new Date(Math.ceil(Date.now() / 1000) * 1000);
    const producer = new DelayQueueProducer({ config, sqs, scheduler, now: () => now });
    // Act
    const res = await producer.scheduleMessage('{"remind":"renewal"}', { delaySeconds: 2 * 86400, id: 'renewal-7' });
    const schedule = await scheduler.send(new GetScheduleCommand({ Name: 'renewal-7', GroupName: config.scheduleGroupName }));
    // Assess
    expect(res).toMatchObject({
      path: 'scheduler',
      status: 'scheduled',
      scheduleName: 'renewal-7',
      scheduleArn: expect.stringContaining(`schedule/${config.scheduleGroupName}/renewal-7`),
    });
    expect(schedule).toMatchObject({
      Name: 'renewal-7',
      GroupName: config.scheduleGroupName,
      ScheduleExpression: `at(${new Date(now.getTime() + 2 * 86400_000).toISOString().slice(0, 19)})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: config.queueArn,
        RoleArn: config.schedulerRoleArn,
        Input: '{"remind":"renewal"}',
        DeadLetterConfig: { Arn: config.deadLetterQueueArn },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 },
      },
    });
    // Nothing went to the queue on this path.
    expect(await queueDepth(sqs, config.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 60_000);

  it('scheduler path: fires the queue delay earlier', async () => {
    const now = new Date(Math.ceil(Date.now() / 1000) * 1000);
    const producer = new DelayQueueProducer({ config: delayedConfig, sqs, scheduler, now: () => now });
    await producer.scheduleMessage('late', { delaySeconds: 3600, id: 'late-1' });
    const schedule = await scheduler.send(new GetScheduleCommand({ Name: 'late-1', GroupName: delayedConfig.scheduleGroupName }));
    expect(schedule.ScheduleExpression).toBe(
      `at(${new Date(now.getTime() + (3600 - QUEUE_DELAY_SECONDS) * 1000).toISOString().slice(0, 19)})`,
    );
  }, 30_000);

  it('is idempotent by id: a repeated call schedules nothing new, a different body under the same id is refused', async () => {
    const producer = new DelayQueueProducer({ config, sqs, scheduler });
    const id = 'invoice/2024-001 reminder'; // not a valid schedule name: hashed
    const first = await producer.scheduleMessage('pay invoice 2024-001', { delaySeconds: 86400, id });
    const again = await producer.scheduleMessage('pay invoice 2024-001', { delaySeconds: 86400, id });
    await expect(producer.scheduleMessage('something else', { delaySeconds: 86400, id })).rejects.toThrow(ScheduleConflictError);
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: config.scheduleGroupName, NamePrefix: 'sha256-' }));
    expect(first).toMatchObject({ status: 'scheduled', scheduleName: scheduleNameFor(id) });
    expect(again).toMatchObject({ status: 'already-scheduled', scheduleName: scheduleNameFor(id) });
    expect((listed.Schedules ?? []).map((s) => s.Name)).toEqual([scheduleNameFor(id)]);
    const kept = await scheduler.send(new GetScheduleCommand({ Name: scheduleNameFor(id), GroupName: config.scheduleGroupName }));
    expect(kept.Target?.Input).toBe('pay invoice 2024-001');
  }, 30_000);

  it('cancels by id', async () => {
    const producer = new DelayQueueProducer({ config, sqs, scheduler });
    await producer.scheduleMessage('to cancel', { delaySeconds: 7200, id: 'cancel-me' });
    expect(await producer.cancel('cancel-me')).toBe(true);
    await expect(scheduler.send(new GetScheduleCommand({ Name: 'cancel-me', GroupName: config.scheduleGroupName }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(await producer.cancel('cancel-me')).toBe(false);
  }, 30_000);

  it('works from a Lambda function configured with connectProducer (both paths, and cancel)', async () => {
    const lambda = new LambdaClient(clientConfig());
    const invoke = async (event: object) => {
      const res = await lambda.send(new InvokeCommand({ FunctionName: stack.outputs.ProducerName, Payload: JSON.stringify(event) }));
      const payload = JSON.parse(new TextDecoder().decode(res.Payload)) as Record<string, unknown>;
      if (res.FunctionError) throw new Error(`producer failed: ${JSON.stringify(payload)}`);
      return payload;
    };
    const short = await invoke({ body: 'from lambda', delaySeconds: 1, id: 'fn-short' });
    const long = await invoke({ body: 'from lambda, later', delaySeconds: 30 * 86400, id: 'fn-long' });
    const repeated = await invoke({ body: 'from lambda, later', delaySeconds: 30 * 86400, id: 'fn-long' });
    const arrived = await waitFor(
      'the message the function sent',
      async () => (await drain(sqs, config.queueUrl)).find((m) => m.Body === 'from lambda'),
      {
        timeoutMs: 15_000,
      },
    );
    const cancelled = await invoke({ cancel: 'fn-long' });
    expect(short).toMatchObject({ path: 'sqs', status: 'sent' });
    expect(long).toMatchObject({ path: 'scheduler', status: 'scheduled', scheduleName: 'fn-long' });
    expect(repeated).toMatchObject({ path: 'scheduler', status: 'already-scheduled' });
    expect(arrived.Body).toBe('from lambda');
    expect(cancelled).toEqual({ cancelled: true });
  }, 90_000);

  it('scheduler path: a due schedule sends the message to the queue, then deletes itself; a cancelled one never arrives', async () => {
    // Prepare: every delay takes the scheduler path (maxSqsDelaySeconds 0); a schedule fires at least a minute out.
    const producer = new DelayQueueProducer({ config, sqs, scheduler, maxSqsDelaySeconds: 0 });
    const run = Date.now().toString(36);
    const id = `due-${run}`;
    const cancelledId = `due-cancelled-${run}`;
    // Act
    const res = await producer.scheduleMessage('{"remind":"now"}', { delaySeconds: 65, id });
    const toCancel = await producer.scheduleMessage('{"remind":"never"}', { delaySeconds: 65, id: cancelledId });
    const cancelled = await producer.cancel(cancelledId);
    const pending = await scheduler.send(new GetScheduleCommand({ Name: id, GroupName: config.scheduleGroupName }));
    const early = await receiveOne(sqs, config.queueUrl);
    const arrived = await waitFor('the scheduled message', () => receiveOne(sqs, config.queueUrl), { timeoutMs: 100_000, intervalMs: 0 });
    const gone = await waitFor(
      'the schedule to delete itself',
      async () => {
        try {
          await scheduler.send(new GetScheduleCommand({ Name: id, GroupName: config.scheduleGroupName }));
          return undefined;
        } catch (error) {
          return (error as Error).name;
        }
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    // The cancelled message was due at the same time: give it a few more seconds to (not) arrive.
    const late = await drain(sqs, config.queueUrl, { waitSeconds: 3 });
    // Assess
    expect(res).toMatchObject({ path: 'scheduler', status: 'scheduled', scheduleName: id });
    expect(toCancel).toMatchObject({ path: 'scheduler', status: 'scheduled' });
    expect(cancelled).toBe(true);
    expect(pending).toMatchObject({ State: 'ENABLED', ActionAfterCompletion: 'DELETE' });
    expect(early).toBeUndefined();
    expect(arrived.body).toBe('{"remind":"now"}');
    const lagMs = arrived.receivedAt - res.deliverAt.getTime();
    console.log(`delay-queue: scheduler path, a 65 s delay arrived ${lagMs} ms after its delivery time`);
    expect(lagMs).toBeGreaterThanOrEqual(0); // at() rounds up to the whole second: never early
    expect(lagMs).toBeLessThan(5_000);
    expect(gone).toBe('ResourceNotFoundException'); // ActionAfterCompletion DELETE
    expect(late.map((m) => m.Body)).toEqual([]);
    expect(await producer.cancel(id)).toBe(false); // delivered: nothing left to cancel
  }, 120_000);

  it('keeps the schedule dead-letter queue empty', async () => {
    expect(await queueDepth(sqs, stack.outputs.ScheduleDlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
