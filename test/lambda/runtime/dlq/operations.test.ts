import { getEventListeners } from 'node:events';
import { DeadLetterQueueConfigurationError, DeadLetterQueueError, NotADeadLetterQueueError } from '../../../../lambda/runtime/dlq/errors';
import { S3FailureReasonStore } from '../../../../lambda/runtime/dlq/failure-reasons';
import {
  FAILURE_REASONS_TAG,
  cancelRedrive,
  deadLetterSourceQueues,
  describeQueue,
  failureReasonLocation,
  latestRedrive,
  peekMessages,
  purgeDeadLetterQueue,
  startRedrive,
  waitForRedrive,
} from '../../../../lambda/runtime/dlq/operations';
import { FakeS3, FakeSqs } from './fakes';

/** A source queue `orders` dead-lettering into `orders-dlq`, with `n` dead letters. */
function setup(n = 3) {
  const sqs = new FakeSqs();
  const dlq = sqs.addQueue('orders-dlq');
  const source = sqs.addQueue('orders', { deadLetterTargetArn: dlq.arn });
  for (let i = 1; i <= n; i++) sqs.addMessage(dlq, `m-${i}`, JSON.stringify({ i }), { DeadLetterQueueSourceArn: source.arn }, 5);
  return { sqs, dlq, source };
}

describe('Function: describeQueue', () => {
  it('resolves a queue from its name, ARN or URL to the same queue', async () => {
    const { sqs, dlq } = setup(2);
    for (const ref of ['orders-dlq', dlq.arn, dlq.url]) {
      const info = await describeQueue(sqs.client, ref);
      expect(info).toEqual({
        url: dlq.url,
        arn: dlq.arn,
        name: 'orders-dlq',
        fifo: false,
        visible: 2,
        inFlight: 0,
        redrivePolicy: undefined,
      });
    }
  });

  it('reads the redrive policy of a source queue', async () => {
    const { sqs, dlq } = setup(0);
    const info = await describeQueue(sqs.client, 'orders');
    expect(info.redrivePolicy).toEqual({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 });
  });

  it('rejects an ARN of another service', async () => {
    await expect(describeQueue(new FakeSqs().client, 'arn:aws:sns:us-east-1:1:topic')).rejects.toThrow(DeadLetterQueueError);
  });
});

describe('Function: deadLetterSourceQueues', () => {
  it('lists the queues that dead-letter into a queue', async () => {
    const { sqs, dlq, source } = setup(0);
    expect(await deadLetterSourceQueues(sqs.client, dlq.url)).toEqual([source.url]);
    expect(await deadLetterSourceQueues(sqs.client, source.url)).toEqual([]);
  });
});

describe('Function: startRedrive', () => {
  it('starts a move task back to the source queues, at the given rate', async () => {
    // Prepare
    const { sqs, dlq } = setup();
    // Act
    const res = await startRedrive(sqs.client, dlq.arn, { maxMessagesPerSecond: 5 });
    // Assess
    expect(res.started).toBe(true);
    expect(res.task).toMatchObject({
      status: 'RUNNING',
      sourceArn: dlq.arn,
      destinationArn: undefined,
      toMove: 3,
      moved: 0,
      maxMessagesPerSecond: 5,
    });
    expect(res.task?.taskHandle).toMatch(/^task-/);
    const start = sqs.calls.find((c) => c.command === 'StartMessageMoveTask');
    expect(start?.input).toEqual({ SourceArn: dlq.arn, DestinationArn: undefined, MaxNumberOfMessagesPerSecond: 5 });
  });

  it('passes a custom destination', async () => {
    const { sqs, dlq } = setup();
    const retry = sqs.addQueue('orders-retry');
    const res = await startRedrive(sqs.client, dlq.arn, { destinationArn: retry.arn });
    expect(res.task?.destinationArn).toBe(retry.arn);
  });

  it('returns the running redrive instead of starting a second one', async () => {
    const { sqs, dlq } = setup();
    const first = await startRedrive(sqs.client, dlq.arn);
    const second = await startRedrive(sqs.client, dlq.arn);
    expect(second.started).toBe(false);
    expect(second.task?.taskHandle).toBe(first.task?.taskHandle);
    expect(sqs.calls.filter((c) => c.command === 'StartMessageMoveTask')).toHaveLength(1);
  });

  it('starts again after the previous redrive completed, telling the new task from the old', async () => {
    const { sqs, dlq } = setup();
    const first = await startRedrive(sqs.client, dlq.arn);
    sqs.moveTasks[0].Status = 'COMPLETED';
    delete sqs.moveTasks[0].TaskHandle;
    const second = await startRedrive(sqs.client, dlq.arn);
    expect(second.started).toBe(true);
    expect(second.previous?.startedAt).toEqual(first.task?.startedAt);
    expect(second.task?.startedAt!.getTime()).toBeGreaterThan(first.task!.startedAt!.getTime());
  });

  it('throws NotADeadLetterQueueError for a queue no queue dead-letters into', async () => {
    const { sqs, source } = setup();
    await expect(startRedrive(sqs.client, source.arn)).rejects.toBeInstanceOf(NotADeadLetterQueueError);
  });

  it.each([0, 501, 1.5])('rejects a rate of %p before calling SQS', async (rate) => {
    const { sqs, dlq } = setup();
    await expect(startRedrive(sqs.client, dlq.arn, { maxMessagesPerSecond: rate })).rejects.toThrow(
      new RegExp(`maxMessagesPerSecond must be an integer between 1 and 500 \\(given ${rate}\\)`),
    );
    expect(sqs.calls).toEqual([]);
  });

  it('rethrows other errors', async () => {
    const { sqs, dlq } = setup();
    sqs.failNext.set('StartMessageMoveTask', Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(startRedrive(sqs.client, dlq.arn)).rejects.toThrow(/denied/);
  });
});

describe('Function: cancelRedrive', () => {
  it('cancels the running redrive and reports what was moved', async () => {
    const { sqs, dlq } = setup();
    await startRedrive(sqs.client, dlq.arn);
    sqs.moveTasks[0].ApproximateNumberOfMessagesMoved = 2;
    expect(await cancelRedrive(sqs.client, dlq.arn)).toBe(2);
    expect((await latestRedrive(sqs.client, dlq.arn))?.status).toBe('CANCELLING');
  });

  it('returns undefined when nothing runs', async () => {
    const { sqs, dlq } = setup();
    expect(await cancelRedrive(sqs.client, dlq.arn)).toBeUndefined();
    expect(sqs.calls.some((c) => c.command === 'CancelMessageMoveTask')).toBe(false);
  });
});

describe('Function: waitForRedrive', () => {
  it('reports progress until the task ends, and returns its final status', async () => {
    const { sqs, dlq } = setup();
    const start = await startRedrive(sqs.client, dlq.arn);
    const seen: string[] = [];
    const task = await waitForRedrive(sqs.client, dlq.arn, {
      after: start.previous?.startedAt,
      intervalMs: 1,
      onProgress: (t) => {
        seen.push(`${t.status}:${t.moved}`);
        const m = sqs.moveTasks[0];
        m.ApproximateNumberOfMessagesMoved += 1;
        if (m.ApproximateNumberOfMessagesMoved === 3) m.Status = 'COMPLETED';
      },
    });
    expect(seen).toEqual(['RUNNING:0', 'RUNNING:1', 'RUNNING:2', 'COMPLETED:3']);
    expect(task).toMatchObject({ status: 'COMPLETED', moved: 3 });
  });

  it('ignores a task that is not newer than `after`', async () => {
    const { sqs, dlq } = setup();
    await startRedrive(sqs.client, dlq.arn);
    Object.assign(sqs.moveTasks[0], { Status: 'COMPLETED', TaskHandle: undefined });
    const old = (await latestRedrive(sqs.client, dlq.arn))!;
    const task = await waitForRedrive(sqs.client, dlq.arn, { after: old.startedAt, intervalMs: 1, timeoutMs: 20 });
    expect(task).toBeUndefined();
  });

  it('returns FAILED with the reason', async () => {
    const { sqs, dlq } = setup();
    await startRedrive(sqs.client, dlq.arn);
    Object.assign(sqs.moveTasks[0], { Status: 'FAILED', FailureReason: 'AccessDenied', TaskHandle: undefined });
    expect(await waitForRedrive(sqs.client, dlq.arn, { intervalMs: 1 })).toMatchObject({ status: 'FAILED', failureReason: 'AccessDenied' });
  });

  it('stops following when aborted, leaving the task running', async () => {
    const { sqs, dlq } = setup();
    await startRedrive(sqs.client, dlq.arn);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const task = await waitForRedrive(sqs.client, dlq.arn, { intervalMs: 5_000, signal: controller.signal });
    expect(task?.status).toBe('RUNNING');
  });

  it('leaves no abort listener behind on the signal, however many polls it made', async () => {
    const { sqs, dlq } = setup();
    await startRedrive(sqs.client, dlq.arn);
    const controller = new AbortController();
    await waitForRedrive(sqs.client, dlq.arn, { intervalMs: 1, timeoutMs: 60, signal: controller.signal });
    const polls = sqs.calls.filter((c) => c.command === 'ListMessageMoveTasks').length;
    expect(polls).toBeGreaterThan(5);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('Function: peekMessages', () => {
  it('shows messages with receive count, source and failure reason, and leaves them all visible', async () => {
    // Prepare
    const { sqs, dlq, source } = setup(12);
    const s3 = new FakeS3();
    const reasons = new S3FailureReasonStore({ bucketName: 'b', client: s3.client });
    await reasons.record({
      messageId: 'm-2',
      receiveCount: 5,
      errorName: 'InvalidTaskError',
      errorMessage: 'bad kind',
      failedAt: '2024-01-01T00:00:00.000Z',
    });
    const queue = await describeQueue(sqs.client, dlq.url);
    // Act
    const peeked = await peekMessages(sqs.client, queue, { max: 20, reasons });
    // Assess
    expect(peeked.map((m) => m.messageId).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `m-${i + 1}`).sort());
    const m2 = peeked.find((m) => m.messageId === 'm-2')!;
    expect(m2).toMatchObject({
      body: '{"i":2}',
      receiveCount: 6,
      sourceQueueArn: source.arn,
      reason: { errorName: 'InvalidTaskError', errorMessage: 'bad kind' },
    });
    expect(peeked.find((m) => m.messageId === 'm-1')?.reason).toBeUndefined();
    expect(sqs.visible(dlq)).toHaveLength(12);
    expect(dlq.messages).toHaveLength(12);
  });

  it('shows at most `max` messages', async () => {
    const { sqs, dlq } = setup(12);
    const peeked = await peekMessages(sqs.client, await describeQueue(sqs.client, dlq.url), { max: 3 });
    expect(peeked).toHaveLength(3);
    expect(sqs.visible(dlq)).toHaveLength(12);
  });

  it('reports a reason it could not read, and still shows the message', async () => {
    const { sqs, dlq } = setup(1);
    const s3 = new FakeS3();
    s3.failNext = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const peeked = await peekMessages(sqs.client, await describeQueue(sqs.client, dlq.url), {
      reasons: new S3FailureReasonStore({ bucketName: 'b', client: s3.client }),
    });
    expect(peeked[0]).toMatchObject({ messageId: 'm-1', reason: undefined, reasonError: 'AccessDenied: Access Denied' });
  });

  it('makes received messages visible again even when a receive fails midway', async () => {
    const { sqs, dlq } = setup(15);
    const queue = await describeQueue(sqs.client, dlq.url);
    let receives = 0;
    const client = {
      send: async (cmd: { constructor: { name: string } }) => {
        if (cmd.constructor.name === 'ReceiveMessageCommand' && ++receives === 2) throw new Error('network down');
        return (sqs.client as unknown as { send: (c: unknown) => Promise<unknown> }).send(cmd);
      },
    } as unknown as typeof sqs.client;
    await expect(peekMessages(client, queue, { max: 15 })).rejects.toThrow(/network down/);
    expect(sqs.visible(dlq)).toHaveLength(15);
  });

  it('refuses a queue with its own redrive policy, where a peek counts towards moving messages on', async () => {
    const { sqs } = setup(0);
    const queue = await describeQueue(sqs.client, 'orders');
    await expect(peekMessages(sqs.client, queue)).rejects.toThrow(
      /orders has a redrive policy of its own \(maxReceiveCount 3\).*pass force/,
    );
    await expect(peekMessages(sqs.client, queue, { force: true })).resolves.toEqual([]);
  });
});

describe('Function: purgeDeadLetterQueue', () => {
  it('purges every message of a dead-letter queue', async () => {
    const { sqs, dlq } = setup(4);
    const res = await purgeDeadLetterQueue(sqs.client, await describeQueue(sqs.client, dlq.url));
    expect(res).toEqual({ deleted: 4, notFound: [] });
    expect(dlq.messages).toEqual([]);
  });

  it('deletes only the given messages, leaving the others visible', async () => {
    const { sqs, dlq } = setup(12);
    const res = await purgeDeadLetterQueue(sqs.client, await describeQueue(sqs.client, dlq.url), {
      messageIds: ['m-3', 'm-11', 'missing'],
    });
    expect(res).toEqual({ deleted: 2, notFound: ['missing'] });
    expect(dlq.messages.map((m) => m.id)).not.toContain('m-3');
    expect(dlq.messages).toHaveLength(10);
    expect(sqs.visible(dlq)).toHaveLength(10);
  });

  it('refuses a queue that is no dead-letter queue, unless forced', async () => {
    const { sqs, source } = setup(0);
    sqs.addMessage(source, 'live', 'x');
    const info = await describeQueue(sqs.client, source.url);
    await expect(purgeDeadLetterQueue(sqs.client, info)).rejects.toBeInstanceOf(NotADeadLetterQueueError);
    expect(source.messages).toHaveLength(1);
    await purgeDeadLetterQueue(sqs.client, info, { force: true });
    expect(source.messages).toHaveLength(0);
  });
});

describe('Function: failureReasonLocation', () => {
  it('reads the store location from the queue tag', async () => {
    const sqs = new FakeSqs();
    const tagged = sqs.addQueue('a', { tags: { [FAILURE_REASONS_TAG]: 's3://reasons-bucket/reasons/' } });
    const plain = sqs.addQueue('b');
    expect(await failureReasonLocation(sqs.client, tagged.url)).toEqual({ bucketName: 'reasons-bucket', prefix: 'reasons/' });
    expect(await failureReasonLocation(sqs.client, plain.url)).toBeUndefined();
  });
});

describe('options', () => {
  const configError = (option: string) =>
    expect.objectContaining({
      name: 'DeadLetterQueueConfigurationError',
      option,
      retryable: false,
      context: expect.objectContaining({ option }),
    });

  it('names a malformed queue ARN or an empty queue', async () => {
    const { sqs } = setup(0);
    await expect(describeQueue(sqs.client, 'arn:aws:sns:us-east-1:1:topic')).rejects.toThrow(DeadLetterQueueConfigurationError);
    await expect(describeQueue(sqs.client, '')).rejects.toThrow(/queue must be a non-empty string: a queue URL, ARN or name \(given ''\)/);
    await expect(startRedrive(sqs.client, 'orders-dlq')).rejects.toThrow(
      /deadLetterQueueArn must be an SQS queue ARN \(given 'orders-dlq'\)/,
    );
    await expect(latestRedrive(sqs.client, 'orders-dlq')).rejects.toThrow(configError('deadLetterQueueArn'));
    await expect(cancelRedrive(sqs.client, 'orders-dlq')).rejects.toThrow(configError('deadLetterQueueArn'));
    expect(sqs.calls).toEqual([]);
  });

  it('rejects a malformed destination and a rate that is not a number, before calling SQS', async () => {
    const { sqs, dlq } = setup();
    await expect(startRedrive(sqs.client, dlq.arn, { destinationArn: 'https://sqs/orders' })).rejects.toThrow(
      configError('destinationArn'),
    );
    await expect(startRedrive(sqs.client, dlq.arn, { maxMessagesPerSecond: Number.NaN })).rejects.toThrow(
      configError('maxMessagesPerSecond'),
    );
    expect(sqs.calls).toEqual([]);
  });

  it.each([
    ['intervalMs', { intervalMs: -1 }],
    ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['onProgress', { onProgress: 'log' }],
    ['after', { after: new Date('nope') }],
  ])('waitForRedrive rejects a bad %s', async (option, options) => {
    const { sqs, dlq } = setup();
    await expect(waitForRedrive(sqs.client, dlq.arn, options as never)).rejects.toThrow(configError(option));
  });

  it.each([
    ['max', { max: 0 }, /max must be an integer 1 or more \(given 0\)/],
    ['holdSeconds', { holdSeconds: 43_201 }, /holdSeconds must be an integer between 1 and 43200 \(given 43201\)/],
    ['force', { force: 'yes' }, /force must be true or false/],
    ['reasons', { reasons: {} }, /reasons must be a FailureReasonStore/],
  ])('peekMessages rejects a bad %s, receiving nothing', async (option, options, message) => {
    const { sqs, dlq } = setup();
    const queue = await describeQueue(sqs.client, dlq.url);
    const before = sqs.calls.length;
    await expect(peekMessages(sqs.client, queue, options as never)).rejects.toThrow(message);
    await expect(peekMessages(sqs.client, queue, options as never)).rejects.toThrow(configError(option));
    expect(sqs.calls.length).toBe(before);
  });

  it.each([
    ['maxScanned', { maxScanned: 0 }],
    ['messageIds', { messageIds: 'm-1' }],
    ['messageIds[1]', { messageIds: ['m-1', ''] }],
  ])('purgeDeadLetterQueue rejects a bad %s, deleting nothing', async (option, options) => {
    const { sqs, dlq } = setup(2);
    const queue = await describeQueue(sqs.client, dlq.url);
    await expect(purgeDeadLetterQueue(sqs.client, queue, options as never)).rejects.toThrow(configError(option));
    expect(dlq.messages).toHaveLength(2);
  });
});
