/**
 * The operator's side of a dead-letter queue: describe it, redrive it with SQS message move tasks
 * (start, follow, cancel), peek at it without consuming, purge it. Used by `scripts/dlq.ts` and by
 * the redrive function; every function takes the SQS client to use.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueueTagsCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { LIMIT, TAG } from '../../../lib/core/wire';
import { type Fail, checkBoolean, checkFunction, checkInteger, checkNumber, checkQueueArn, checkString } from '../internal/options';
import { DeadLetterQueueConfigurationError, DeadLetterQueueError, NotADeadLetterQueueError } from './errors';
import type { FailureReason, FailureReasonStore } from './failure-reasons';

const fail: Fail = (option, message, value) => {
  throw new DeadLetterQueueConfigurationError(option, message, { value });
};

/** A queue, resolved from a URL, an ARN or a name. */
export interface QueueInfo {
  readonly url: string;
  readonly arn: string;
  readonly name: string;
  readonly fifo: boolean;
  /** ApproximateNumberOfMessages. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible. */
  readonly inFlight: number;
  /** The queue's own redrive policy, when it has one. */
  readonly redrivePolicy?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
}

/** The most SQS accepts for `MaxNumberOfMessagesPerSecond`. */
export const MAX_REDRIVE_RATE = LIMIT.maxRedriveRatePerSecond;

/** Tag on a dead-letter queue naming where its failure reasons are: `s3://<bucket>/<prefix>`. */
export const FAILURE_REASONS_TAG = TAG.failureReasons;

/** Resolves a queue given as a URL, an ARN or a name, and reads its attributes. */
export async function describeQueue(client: SQSClient, queue: string): Promise<QueueInfo> {
  checkString(fail, 'queue', queue, ': a queue URL, ARN or name');
  let url: string;
  if (/^https?:\/\//.test(queue)) {
    url = queue;
  } else if (queue.startsWith('arn:')) {
    const [, , service, , account, name] = queue.split(':');
    if (service !== 'sqs' || !name) fail('queue', `not an SQS queue ARN: ${queue}`, queue);
    url = (await client.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))).QueueUrl!;
  } else {
    url = (await client.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl!;
  }
  const res = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'RedrivePolicy'],
    }),
  );
  const a = res.Attributes ?? {};
  const arn = a.QueueArn!;
  const name = arn.split(':').pop()!;
  const policy = a.RedrivePolicy
    ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number | string })
    : undefined;
  return {
    url,
    arn,
    name,
    fifo: name.endsWith('.fifo'),
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    redrivePolicy: policy
      ? { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: Number(policy.maxReceiveCount) }
      : undefined,
  };
}

/** URLs of the queues whose redrive policy names `deadLetterQueueUrl` (empty: it is no DLQ). */
export async function deadLetterSourceQueues(client: SQSClient, deadLetterQueueUrl: string): Promise<string[]> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const res = await client.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: deadLetterQueueUrl, NextToken, MaxResults: 1000 }));
    urls.push(...(res.queueUrls ?? []));
    NextToken = res.NextToken;
  } while (NextToken);
  return urls;
}

/** Status of a message move task, as SQS reports it. */
export type RedriveStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

/** A redrive: one SQS message move task out of a dead-letter queue. */
export interface RedriveTask {
  readonly status: RedriveStatus;
  /** Only while RUNNING: the handle that cancels it. */
  readonly taskHandle?: string;
  readonly sourceArn: string;
  /** The destination; `undefined` when messages go back to the queues they came from. */
  readonly destinationArn?: string;
  readonly moved: number;
  /** Messages in the dead-letter queue when the task started. */
  readonly toMove?: number;
  readonly maxMessagesPerSecond?: number;
  readonly failureReason?: string;
  readonly startedAt?: Date;
}

/** Whether a task still runs (or is being cancelled). */
export const isActive = (task: RedriveTask | undefined): boolean => task?.status === 'RUNNING' || task?.status === 'CANCELLING';

/** The most recent redrive of a dead-letter queue, if any (SQS keeps the last 10). */
export async function latestRedrive(client: SQSClient, deadLetterQueueArn: string): Promise<RedriveTask | undefined> {
  checkQueueArn(fail, 'deadLetterQueueArn', deadLetterQueueArn);
  const res = await client.send(new ListMessageMoveTasksCommand({ SourceArn: deadLetterQueueArn, MaxResults: 1 }));
  const t = res.Results?.[0];
  if (!t) return undefined;
  return {
    status: t.Status as RedriveStatus,
    taskHandle: t.TaskHandle,
    sourceArn: t.SourceArn ?? deadLetterQueueArn,
    destinationArn: t.DestinationArn || undefined,
    moved: t.ApproximateNumberOfMessagesMoved ?? 0,
    toMove: t.ApproximateNumberOfMessagesToMove,
    maxMessagesPerSecond: t.MaxNumberOfMessagesPerSecond,
    failureReason: t.FailureReason,
    startedAt: t.StartedTimestamp !== undefined ? new Date(t.StartedTimestamp) : undefined,
  };
}

/** Options of {@link startRedrive}. */
export interface RedriveOptions {
  /**
   * Where to move the messages.
   *
   * @default - each message goes back to the queue it came from
   */
  readonly destinationArn?: string;
  /**
   * Messages moved per second, 1–500.
   *
   * @default - SQS chooses, based on the backlog
   */
  readonly maxMessagesPerSecond?: number;
}

/** What {@link startRedrive} did. */
export interface RedriveStart {
  /** False when a redrive was already running: that one is returned, no second one started. */
  readonly started: boolean;
  /** The task: the new one, or the one already running. */
  readonly task?: RedriveTask;
  /**
   * The task that was latest before this call (its `startedAt` tells the new task from it; a
   * `FAILED` status says the last redrive failed).
   */
  readonly previous?: RedriveTask;
}

/**
 * Starts moving the messages of a dead-letter queue back (`StartMessageMoveTask`). Idempotent: when
 * a redrive is already running, returns it instead of failing.
 *
 * @throws NotADeadLetterQueueError when the queue is no queue's dead-letter queue
 */
export async function startRedrive(client: SQSClient, deadLetterQueueArn: string, options: RedriveOptions = {}): Promise<RedriveStart> {
  checkQueueArn(fail, 'deadLetterQueueArn', deadLetterQueueArn);
  const rate = options.maxMessagesPerSecond;
  if (rate !== undefined) checkInteger(fail, 'maxMessagesPerSecond', rate, 1, MAX_REDRIVE_RATE);
  if (options.destinationArn !== undefined) checkQueueArn(fail, 'destinationArn', options.destinationArn);
  const previous = await latestRedrive(client, deadLetterQueueArn);
  if (isActive(previous)) return { started: false, task: previous, previous };
  try {
    await client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: deadLetterQueueArn,
        DestinationArn: options.destinationArn,
        MaxNumberOfMessagesPerSecond: rate,
      }),
    );
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (/dead.?letter/i.test(e.message ?? '') && /InvalidParameterValue/.test(e.name ?? '')) {
      throw new NotADeadLetterQueueError(deadLetterQueueArn, { cause: error });
    }
    throw error;
  }
  const task = await latestRedrive(client, deadLetterQueueArn);
  return { started: true, task: isNewer(task, previous?.startedAt) ? task : undefined, previous };
}

const isNewer = (task: RedriveTask | undefined, after: Date | undefined): boolean =>
  task !== undefined && (after === undefined || (task.startedAt !== undefined && task.startedAt.getTime() > after.getTime()));

/**
 * Cancels the running redrive of a dead-letter queue (`CancelMessageMoveTask`). Messages already
 * moved stay moved. Returns the number moved, or `undefined` when no redrive was running.
 */
export async function cancelRedrive(client: SQSClient, deadLetterQueueArn: string): Promise<number | undefined> {
  const task = await latestRedrive(client, deadLetterQueueArn);
  if (task?.status !== 'RUNNING' || !task.taskHandle) return undefined;
  const res = await client.send(new CancelMessageMoveTaskCommand({ TaskHandle: task.taskHandle }));
  return res.ApproximateNumberOfMessagesMoved ?? task.moved;
}

/** Options of {@link waitForRedrive}. */
export interface WaitForRedriveOptions {
  /** Only a task started after this counts (see {@link RedriveStart.previous}). */
  readonly after?: Date;
  /** Called with every status read. */
  readonly onProgress?: (task: RedriveTask) => void;
  /** @default 1000 */
  readonly intervalMs?: number;
  /** @default - no limit */
  readonly timeoutMs?: number;
  /** Stops waiting (the task keeps running). */
  readonly signal?: AbortSignal;
}

/**
 * Polls `ListMessageMoveTasks` until the redrive ends, and returns its last status: COMPLETED,
 * CANCELLED or FAILED (read `failureReason`). Stops early, returning the latest status read, when
 * `signal` aborts or `timeoutMs` passes.
 */
export async function waitForRedrive(
  client: SQSClient,
  deadLetterQueueArn: string,
  options: WaitForRedriveOptions = {},
): Promise<RedriveTask | undefined> {
  if (options.after !== undefined && !(options.after instanceof Date && Number.isFinite(options.after.getTime()))) {
    fail('after', `after must be a valid Date (given ${String(options.after)})`, options.after);
  }
  checkFunction(fail, 'onProgress', options.onProgress);
  if (options.intervalMs !== undefined) checkNumber(fail, 'intervalMs', options.intervalMs, { min: 0, inclusive: true });
  if (options.timeoutMs !== undefined) checkNumber(fail, 'timeoutMs', options.timeoutMs, { min: 0, inclusive: true });
  const deadline = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : Infinity;
  let last: RedriveTask | undefined;
  for (;;) {
    const task = await latestRedrive(client, deadLetterQueueArn);
    if (isNewer(task, options.after)) {
      last = task;
      options.onProgress?.(task!);
      if (!isActive(task)) return task;
    }
    if (options.signal?.aborted || Date.now() > deadline) return last;
    // the timer's abort listener goes with the timer: no listener piles up on a long redrive
    await sleep(options.intervalMs ?? 1000, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** A message seen by {@link peekMessages}. */
export interface PeekedMessage {
  readonly messageId: string;
  readonly body: string;
  /**
   * `ApproximateReceiveCount` as this peek read it. Every receive counts, peeks included: in a
   * dead-letter queue it is the receives in the source queue plus the peeks since.
   */
  readonly receiveCount: number;
  readonly sentAt?: Date;
  /** The queue the message failed in (`DeadLetterQueueSourceArn`). */
  readonly sourceQueueArn?: string;
  readonly messageGroupId?: string;
  /** String and number message attributes. */
  readonly messageAttributes: Record<string, string>;
  /** The failure reason recorded for it, when a store was given and holds one. */
  readonly reason?: FailureReason;
  /** Why the reason could not be read, when reading it failed. */
  readonly reasonError?: string;
}

/** Options of {@link peekMessages}. */
export interface PeekOptions {
  /**
   * Most messages to show.
   *
   * @default 10
   */
  readonly max?: number;
  /**
   * How long messages are held invisible while the peek walks the queue, in seconds; they are made
   * visible again as soon as the peek ends (or after this long, if it crashes).
   *
   * @default 30
   */
  readonly holdSeconds?: number;
  /** Where failure reasons are recorded. */
  readonly reasons?: FailureReasonStore;
  /**
   * Peek even when the queue has a redrive policy of its own: each peek counts as a receive there,
   * so enough peeks would move messages on to the next queue.
   *
   * @default false
   */
  readonly force?: boolean;
}

/**
 * Receives up to `max` distinct messages into `held`, holding them invisible for `holdSeconds`
 * (appended as they arrive, so the caller can release them even when a later receive fails).
 */
async function holdMessages(client: SQSClient, queueUrl: string, max: number, holdSeconds: number, held: Message[]): Promise<void> {
  const index = new Map<string, number>();
  while (index.size < max) {
    const res = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - index.size),
        VisibilityTimeout: holdSeconds,
        WaitTimeSeconds: 1, // long polling asks every server: an empty answer means the queue has no visible message
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) break;
    let fresh = 0;
    for (const m of messages) {
      const at = index.get(m.MessageId!);
      if (at !== undefined) {
        held[at] = m; // seen again after its hold ran out: keep the newest receipt handle, to release it
        continue;
      }
      index.set(m.MessageId!, held.length);
      held.push(m);
      fresh += 1;
    }
    if (fresh === 0) break; // only messages already seen: the walk went round
  }
}

/** Makes held messages visible again (`ChangeMessageVisibility` to 0). */
async function release(client: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    // Entries that fail (a receipt handle that expired) become visible on their own.
    await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
}

function checkPeekable(queue: QueueInfo, force: boolean | undefined): void {
  checkBoolean(fail, 'force', force);
  if (queue.redrivePolicy && !force) {
    throw new DeadLetterQueueError(
      `${queue.name} has a redrive policy of its own (maxReceiveCount ${queue.redrivePolicy.maxReceiveCount}): every peek counts as a receive there and would move messages on to ${queue.redrivePolicy.deadLetterTargetArn}; pass force to peek anyway`,
      { retryable: false, context: { queue: queue.name, deadLetterTargetArn: queue.redrivePolicy.deadLetterTargetArn } },
    );
  }
}

/**
 * Shows messages of a queue without consuming them: receives them held invisible for a short
 * while, reads their failure reasons, then makes them visible again.
 */
export async function peekMessages(client: SQSClient, queue: QueueInfo, options: PeekOptions = {}): Promise<PeekedMessage[]> {
  const max = checkInteger(fail, 'max', options.max ?? 10, 1);
  const holdSeconds = checkInteger(fail, 'holdSeconds', options.holdSeconds ?? 30, 1, LIMIT.sqsMaxVisibilityTimeoutSeconds);
  if (options.reasons !== undefined && typeof (options.reasons as { get?: unknown } | null)?.get !== 'function') {
    fail('reasons', 'reasons must be a FailureReasonStore', options.reasons);
  }
  checkPeekable(queue, options.force);
  const held: Message[] = [];
  try {
    await holdMessages(client, queue.url, max, holdSeconds, held);
  } finally {
    await release(client, queue.url, held);
  }
  return Promise.all(
    held.map(async (m): Promise<PeekedMessage> => {
      const a = m.Attributes ?? {};
      let reason: FailureReason | undefined;
      let reasonError: string | undefined;
      if (options.reasons) {
        try {
          reason = await options.reasons.get(m.MessageId!);
        } catch (error) {
          reasonError = `${(error as Error).name}: ${(error as Error).message}`;
        }
      }
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) if (v.StringValue !== undefined) attrs[k] = v.StringValue;
      return {
        messageId: m.MessageId!,
        body: m.Body ?? '',
        receiveCount: Number(a.ApproximateReceiveCount ?? 0),
        sentAt: a.SentTimestamp ? new Date(Number(a.SentTimestamp)) : undefined,
        sourceQueueArn: a.DeadLetterQueueSourceArn,
        messageGroupId: a.MessageGroupId,
        messageAttributes: attrs,
        reason,
        reasonError,
      };
    }),
  );
}

/** Options of {@link purgeDeadLetterQueue}. */
export interface PurgeOptions {
  /**
   * Delete only these messages (walking the queue as a peek does), instead of purging it all.
   *
   * @default - every message (`PurgeQueue`)
   */
  readonly messageIds?: string[];
  /**
   * Purge even a queue that is no queue's dead-letter queue.
   *
   * @default false
   */
  readonly force?: boolean;
  /** Most messages walked when `messageIds` is given. @default 1000 */
  readonly maxScanned?: number;
}

/** What {@link purgeDeadLetterQueue} did. */
export interface PurgeResult {
  /** Messages deleted: exact with `messageIds`, else the approximate count before the purge. */
  readonly deleted: number;
  /** With `messageIds`: the ids not found. */
  readonly notFound: string[];
}

/**
 * Deletes the messages of a dead-letter queue for good: all of them (`PurgeQueue`; SQS allows one
 * purge per queue every 60 seconds), or only the given message ids.
 *
 * @throws NotADeadLetterQueueError when the queue is no queue's dead-letter queue and `force` is not set
 */
export async function purgeDeadLetterQueue(client: SQSClient, queue: QueueInfo, options: PurgeOptions = {}): Promise<PurgeResult> {
  checkBoolean(fail, 'force', options.force);
  const maxScanned = checkInteger(fail, 'maxScanned', options.maxScanned ?? 1000, 1);
  if (options.messageIds !== undefined) {
    if (!Array.isArray(options.messageIds)) fail('messageIds', 'messageIds must be a list of message ids', options.messageIds);
    options.messageIds.forEach((id, i) => checkString(fail, `messageIds[${i}]`, id));
  }
  if (!options.force && (await deadLetterSourceQueues(client, queue.url)).length === 0) {
    throw new NotADeadLetterQueueError(queue.name);
  }
  if (!options.messageIds) {
    await client.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
    return { deleted: queue.visible + queue.inFlight, notFound: [] };
  }
  checkPeekable(queue, options.force);
  const wanted = new Set(options.messageIds);
  const held: Message[] = [];
  const toDelete: Message[] = [];
  try {
    await holdMessages(client, queue.url, maxScanned, 60, held);
    toDelete.push(...held.filter((m) => wanted.has(m.MessageId!)));
    for (let i = 0; i < toDelete.length; i += 10) {
      const batch = toDelete.slice(i, i + 10);
      const res = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      if (res.Failed?.length) {
        throw new DeadLetterQueueError(`could not delete ${res.Failed.length} messages: ${JSON.stringify(res.Failed)}`, {
          retryable: true,
          context: { queue: queue.name, failed: res.Failed.map((f) => f.Code ?? 'error') },
        });
      }
    }
  } finally {
    await release(
      client,
      queue.url,
      held.filter((m) => !wanted.has(m.MessageId!)),
    );
  }
  const found = new Set(toDelete.map((m) => m.MessageId!));
  return { deleted: found.size, notFound: [...wanted].filter((id) => !found.has(id)) };
}

/**
 * Where the failure reasons of a dead-letter queue are recorded, from its
 * {@link FAILURE_REASONS_TAG} tag (set by the `FailureReasonStore` construct), or `undefined`.
 */
export async function failureReasonLocation(
  client: SQSClient,
  queueUrl: string,
): Promise<{ bucketName: string; prefix: string } | undefined> {
  const res = await client.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
  const value = res.Tags?.[FAILURE_REASONS_TAG];
  const m = value ? /^s3:\/\/([^/]+)\/(.*)$/.exec(value) : null;
  return m ? { bucketName: m[1], prefix: m[2] } : undefined;
}
