import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { ENV, LIMIT, SHARED_DEFAULT } from '../../../lib/core/wire';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import {
  type Fail,
  checkFinite,
  checkInteger,
  checkLogger,
  checkNumber,
  checkQueueArn,
  checkString,
  checkUrl,
  numberFromEnvironment,
} from '../internal/options';
import { PriorityQueueConfigurationError } from './errors';

/**
 * Largest consumer event the dispatcher sends in one invocation: Lambda's 6 MB limit on a
 * synchronous invocation's payload, less a margin. A larger batch is split in halves.
 */
export const MAX_INVOKE_PAYLOAD_BYTES = 6_000_000 - 100_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One level as the dispatcher sees it. */
export interface DispatcherLevel {
  readonly name: string;
  readonly queueUrl: string;
  readonly queueArn: string;
}

const fail: Fail = (option, message, value) => {
  throw new PriorityQueueConfigurationError(option, message, { value });
};

/** Checks the dispatcher's levels: at least one, each with a name (unique), a queue URL and a queue ARN. */
function checkLevels(levels: unknown, option: string): DispatcherLevel[] {
  if (!Array.isArray(levels) || levels.length === 0) fail(option, `${option}: the dispatcher needs at least one level`, levels);
  const names = new Set<string>();
  (levels as Array<Partial<DispatcherLevel>>).forEach((level, i) => {
    const name = checkString(fail, `${option}[${i}].name`, level?.name);
    if (names.has(name)) fail(`${option}[${i}].name`, `${option}: level '${name}' is listed twice`, name);
    names.add(name);
    checkUrl(fail, `${option}[${i}].queueUrl`, level?.queueUrl);
    checkQueueArn(fail, `${option}[${i}].queueArn`, level?.queueArn);
  });
  return levels as DispatcherLevel[];
}

/** Options of {@link StrictPriorityDispatcher}. */
export interface StrictPriorityDispatcherOptions {
  /** The levels, highest priority first. */
  readonly levels: readonly DispatcherLevel[];
  /** Name or ARN of the consumer function. */
  readonly consumer: string;
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  /**
   * Messages per batch (1–10).
   *
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Starvation guard: every `lowestLevelEvery`-th batch is taken from the lowest level that has
   * messages (the sweep runs from the lowest level up). 0 turns the guard off.
   *
   * @default 10
   */
  readonly lowestLevelEvery?: number;
  /**
   * When a sweep finds every level empty, every level is long-polled at once for this long.
   *
   * @default 2
   */
  readonly idleWaitSeconds?: number;
  /**
   * The consumer's timeout: a batch is not handed to the consumer when less than this (plus 2 s)
   * remains, it is made visible again instead.
   *
   * @default 30
   */
  readonly consumerTimeoutSeconds?: number;
  /**
   * Where the dispatcher's problems are logged (a Powertools `Logger`, `console`...). `null` turns
   * logging off.
   *
   * @default - the run-time library's shared Powertools `Logger`
   */
  readonly logger?: RuntimeLogger | null;
}

/** What one run did. */
export interface DispatchStats {
  /** Consumer invocations. */
  batches: number;
  /** Messages handed to the consumer, by level. */
  dispatched: Record<string, number>;
  /** Messages the consumer reported failed (or whose invocation failed), by level. */
  failed: Record<string, number>;
  /** Batches taken on the starvation guard's turn from a level other than the highest. */
  guardTurns: number;
  /** Batches made visible again because the run was ending. */
  released: number;
}

/** What {@link StrictPriorityDispatcher.dispatchNext} did. */
export interface DispatchRound {
  /** Levels served, in order, with the number of messages each batch had. */
  readonly served: ReadonlyArray<{ readonly level: string; readonly messages: number }>;
  /** Whether the sweep started at the lowest level (the starvation guard's turn). */
  readonly guardTurn: boolean;
}

/**
 * Strict-priority consumption: polls the levels in order and hands one batch at a time to the
 * consumer function, as an SQS event like an event source mapping sends (partial batch responses
 * honoured: successful messages are deleted, failed ones become visible again after the
 * visibility timeout and reach the level's dead-letter queue through its redrive policy).
 *
 * A level is served only when every higher level returned nothing, except every
 * `lowestLevelEvery`-th batch, which is taken from the lowest level that has messages, so low
 * levels keep a minimum share under a sustained high-priority load.
 */
export class StrictPriorityDispatcher {
  private readonly levels: readonly DispatcherLevel[];
  private readonly batchSize: number;
  private readonly every: number;
  private readonly idleWaitSeconds: number;
  private readonly consumerTimeoutMs: number;
  private readonly logger: RuntimeLogger | null;
  private batchCount = 0;

  /** @throws PriorityQueueConfigurationError naming the first invalid option */
  constructor(private readonly options: StrictPriorityDispatcherOptions) {
    this.levels = checkLevels(options.levels, 'levels');
    this.batchSize = checkInteger(fail, 'batchSize', options.batchSize ?? 10, 1, LIMIT.sqsMaxBatchEntries);
    if (typeof options.consumer !== 'string' || options.consumer.trim() === '') {
      fail(
        'consumer',
        `consumer must be the name or ARN of the consumer function (given '${options.consumer}'); the dispatcher handler reads it from ${ENV.consumerFunction}`,
        options.consumer,
      );
    }
    for (const client of ['sqs', 'lambda'] as const) {
      if (typeof (options[client] as { send?: unknown } | undefined)?.send !== 'function') {
        fail(client, `${client} must be an AWS SDK v3 client (an object with a send method)`, options[client]);
      }
    }
    this.every = checkInteger(fail, 'lowestLevelEvery', options.lowestLevelEvery ?? 10, 0);
    this.idleWaitSeconds = checkInteger(
      fail,
      'idleWaitSeconds',
      options.idleWaitSeconds ?? SHARED_DEFAULT.dispatcherIdleWaitSeconds,
      1,
      LIMIT.sqsMaxWaitTimeSeconds,
    );
    const consumerTimeoutSeconds = checkNumber(fail, 'consumerTimeoutSeconds', options.consumerTimeoutSeconds ?? 30, {
      min: 0,
      max: LIMIT.lambdaMaxTimeoutSeconds,
      rule: `a number of seconds above 0 and at most ${LIMIT.lambdaMaxTimeoutSeconds}`,
    });
    this.consumerTimeoutMs = consumerTimeoutSeconds * 1000;
    this.logger = resolveLogger(checkLogger(fail, 'logger', options.logger));
  }

  /**
   * Dispatches batches until `shouldContinue` returns false.
   *
   * @param remainingMs time left in the run (the Lambda context's `getRemainingTimeInMillis`)
   */
  public async run(shouldContinue: () => boolean, remainingMs: () => number = () => Number.MAX_SAFE_INTEGER): Promise<DispatchStats> {
    const stats: DispatchStats = { batches: 0, dispatched: {}, failed: {}, guardTurns: 0, released: 0 };
    while (shouldContinue()) {
      await this.dispatchNext(stats, remainingMs);
    }
    return stats;
  }

  /**
   * One round: sweeps the levels (highest first, or lowest first on the guard's turn) with short
   * polls and dispatches the first batch found; when every level is empty, long-polls every level
   * at once and dispatches what arrives, highest level first.
   */
  public async dispatchNext(
    stats: DispatchStats = { batches: 0, dispatched: {}, failed: {}, guardTurns: 0, released: 0 },
    remainingMs: () => number = () => Number.MAX_SAFE_INTEGER,
  ): Promise<DispatchRound> {
    const guardTurn = this.every > 0 && this.levels.length > 1 && (this.batchCount + 1) % this.every === 0;
    const order = guardTurn ? [...this.levels].reverse() : this.levels;
    for (const level of order) {
      const messages = await this.receive(level, 0, remainingMs);
      if (messages.length > 0) {
        if (guardTurn && level !== this.levels[0]) stats.guardTurns += 1;
        await this.dispatch(level, messages, stats, remainingMs);
        return { served: [{ level: level.name, messages: messages.length }], guardTurn };
      }
    }
    // Idle: wait for the next message on any level; what arrives together is served highest first.
    const arrived = await Promise.all(this.levels.map((level) => this.receive(level, this.idleWaitSeconds, remainingMs)));
    const served: Array<{ level: string; messages: number }> = [];
    for (const [i, messages] of arrived.entries()) {
      if (messages.length === 0) continue;
      await this.dispatch(this.levels[i], messages, stats, remainingMs);
      served.push({ level: this.levels[i].name, messages: messages.length });
    }
    return { served, guardTurn: false };
  }

  /**
   * Receives a batch from a level; [] when the receive fails, after waiting as long as the poll
   * would have (at least a second, at most the time left), so a persistent failure does not spin.
   */
  private async receive(level: DispatcherLevel, waitSeconds: number, remainingMs: () => number): Promise<Message[]> {
    try {
      const res = await this.options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: level.queueUrl,
          MaxNumberOfMessages: this.batchSize,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      return res.Messages ?? [];
    } catch (error) {
      this.logger?.warn('receive failed', { level: level.name, ...errorFields(error) });
      await sleep(Math.max(0, Math.min(Math.max(waitSeconds, 1) * 1000, remainingMs())));
      return [];
    }
  }

  private async dispatch(level: DispatcherLevel, messages: Message[], stats: DispatchStats, remainingMs: () => number): Promise<void> {
    if (remainingMs() < this.consumerTimeoutMs + 2000) {
      // Not enough time left to wait for the consumer: make the batch visible again at once.
      await this.options.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: level.queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
          }),
        )
        .catch((error: unknown) => this.logger?.warn('release failed', { level: level.name, ...errorFields(error) }));
      stats.released += 1;
      return;
    }

    this.batchCount += 1;
    stats.dispatched[level.name] = (stats.dispatched[level.name] ?? 0) + messages.length;
    const failedIds = await this.invokeSplit(
      level,
      messages.map((m) => toSqsRecord(m, level.queueArn)),
      stats,
    );
    stats.failed[level.name] = (stats.failed[level.name] ?? 0) + failedIds.size;

    const done = messages.filter((m) => !failedIds.has(m.MessageId!));
    if (done.length === 0) return;
    try {
      const res = await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: level.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      if (res.Failed && res.Failed.length > 0) {
        this.logger?.warn('delete failed: these messages will be delivered again', { level: level.name, failed: res.Failed });
      }
    } catch (error) {
      this.logger?.warn('delete failed: the batch will be delivered again', { level: level.name, ...errorFields(error) });
    }
  }

  /**
   * Invokes the consumer with `records`, split in halves (invoked at once) while the event is larger
   * than a synchronous invocation takes; returns the ids of the failed messages.
   */
  private async invokeSplit(level: DispatcherLevel, records: SQSRecord[], stats: DispatchStats): Promise<Set<string>> {
    const event: SQSEvent = { Records: records };
    const payload = JSON.stringify(event);
    if (records.length > 1 && Buffer.byteLength(payload, 'utf8') > MAX_INVOKE_PAYLOAD_BYTES) {
      const half = Math.ceil(records.length / 2);
      const parts = await Promise.all([records.slice(0, half), records.slice(half)].map((part) => this.invokeSplit(level, part, stats)));
      return new Set(parts.flatMap((failed) => [...failed]));
    }
    stats.batches += 1;
    return this.invoke(level, event, payload);
  }

  /** Invokes the consumer; returns the ids of the failed messages (all of them when the call failed). */
  private async invoke(level: DispatcherLevel, event: SQSEvent, eventJson: string): Promise<Set<string>> {
    const all = new Set(event.Records.map((r) => r.messageId));
    let payload: string;
    try {
      const res = await this.options.lambda.send(new InvokeCommand({ FunctionName: this.options.consumer, Payload: eventJson }));
      payload = res.Payload ? new TextDecoder().decode(res.Payload) : '';
      if (res.FunctionError) {
        this.logger?.warn('consumer failed: the whole batch is retried', {
          level: level.name,
          functionError: res.FunctionError,
          payload: payload.slice(0, 1000),
        });
        return all;
      }
    } catch (error) {
      this.logger?.warn('consumer invocation failed: the whole batch is retried', { level: level.name, ...errorFields(error) });
      return all;
    }
    return failuresOf(payload, all, (why) => this.logger?.warn(why, { level: level.name }));
  }
}

/**
 * Reads a partial batch response the way an event source mapping does: no response or no
 * `batchItemFailures` means success; an entry without a valid `itemIdentifier` fails the whole batch.
 */
export function failuresOf(payload: string, batchIds: ReadonlySet<string>, warn: (why: string) => void = () => undefined): Set<string> {
  if (payload.trim() === '' || payload.trim() === 'null') return new Set();
  let response: Partial<SQSBatchResponse> | null;
  try {
    response = JSON.parse(payload) as Partial<SQSBatchResponse> | null;
  } catch {
    warn('consumer response is not JSON: counted as success, as an event source mapping does');
    return new Set();
  }
  const items = response?.batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) {
    warn('batchItemFailures is not a list: the whole batch is retried');
    return new Set(batchIds);
  }
  const failed = new Set<string>();
  for (const item of items) {
    const id = item?.itemIdentifier;
    if (typeof id !== 'string' || !batchIds.has(id)) {
      warn(`batchItemFailures names an unknown message (${JSON.stringify(id)}): the whole batch is retried`);
      return new Set(batchIds);
    }
    failed.add(id);
  }
  return failed;
}

/** An SQS message as an event source mapping delivers it to Lambda. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: message.Attributes as unknown as SQSRecord['attributes'],
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? '',
  };
}

/** Reads the dispatcher's levels from JSON (`[{ name, queueUrl, queueArn }, ...]`, highest first). */
export function parseDispatcherLevels(json: string | undefined): DispatcherLevel[] {
  const variable = ENV.priorityLevels;
  let levels: unknown;
  try {
    levels = JSON.parse(json ?? '');
  } catch (cause) {
    throw new PriorityQueueConfigurationError(variable, `${variable} is not valid JSON`, { cause, value: json?.slice(0, 200) });
  }
  if (
    !Array.isArray(levels) ||
    levels.length === 0 ||
    !levels.every(
      (l: Partial<DispatcherLevel>) => typeof l?.name === 'string' && typeof l?.queueUrl === 'string' && typeof l?.queueArn === 'string',
    )
  ) {
    fail(variable, `${variable} must be [{ name, queueUrl, queueArn }, ...] (given ${String(json).slice(0, 200)})`, json?.slice(0, 200));
  }
  return checkLevels(levels, variable);
}

/** What the dispatcher handler reads from its environment (set by the PriorityQueue construct). */
export interface DispatcherEnvironment extends Pick<
  StrictPriorityDispatcherOptions,
  'levels' | 'consumer' | 'batchSize' | 'lowestLevelEvery' | 'idleWaitSeconds' | 'consumerTimeoutSeconds'
> {
  /** How long one run takes batches, in seconds. */
  readonly runSeconds: number;
  /** The consumer's timeout, in seconds. */
  readonly consumerTimeoutSeconds: number;
}

/**
 * Reads the dispatcher's settings from the environment the PriorityQueue construct sets
 * (`PRIORITY_LEVELS`, `CONSUMER_FUNCTION`, `BATCH_SIZE`, `LOWEST_LEVEL_EVERY`, `IDLE_WAIT_SECONDS`,
 * `CONSUMER_TIMEOUT_SECONDS`, `RUN_SECONDS`). Numbers must be numbers (their range is checked by
 * {@link StrictPriorityDispatcher}); unset ones take their defaults.
 *
 * @throws PriorityQueueConfigurationError naming the variable
 */
export function dispatcherEnvironment(env: NodeJS.ProcessEnv = process.env): DispatcherEnvironment {
  const number = (variable: string) => numberFromEnvironment(fail, variable, (f, v) => checkFinite(f, variable, v), env);
  const runSeconds =
    numberFromEnvironment(fail, ENV.runSeconds, (f, v) => checkNumber(f, ENV.runSeconds, v, { min: 0 }), env) ??
    SHARED_DEFAULT.dispatcherRunSeconds;
  return {
    levels: parseDispatcherLevels(env[ENV.priorityLevels]),
    consumer: env[ENV.consumerFunction] ?? '',
    batchSize: number(ENV.batchSize),
    lowestLevelEvery: number(ENV.lowestLevelEvery),
    idleWaitSeconds: number(ENV.idleWaitSeconds),
    consumerTimeoutSeconds: number(ENV.consumerTimeoutSeconds) ?? 30,
    runSeconds,
  };
}
