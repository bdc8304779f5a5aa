import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEAD_LETTER_QUEUE_ALARM,
  MessagingPatternProps,
  OLDEST_MESSAGE_ALARM,
  deadLetterQueueAlarm,
  oldestMessageAlarm,
  validateAlarms,
  validateOldestMessageAlarm,
} from '../core/alarms';
import { consumerTimeoutOf, mapQueueToConsumer, resolveVisibilityTimeout, validateBatching } from '../core/consumer';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_LOWEST_LEVEL_SHARE,
  DEFAULT_PRIORITY_LEVELS,
  DEFAULT_PRIORITY_MAX_CONCURRENCY,
  DEFAULT_VISIBILITY_TIMEOUT,
  DISPATCHER_OVERHEAD_SECONDS,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../core/defaults';
import { MessagingPatternsError } from '../core/errors';
import { combineGrants, connectFunction, grantSendOnly } from '../core/grants';
import { ESM_MIN_CONCURRENCY, LAMBDA_MAX_TIMEOUT_SECONDS, SQS_DEFAULT_RETENTION } from '../core/limits';
import { optionalQueueMetric, queueMetric } from '../core/metrics';
import { ConnectOptions, MessagingPattern } from '../core/pattern';
import { QueueInputProps, buildQueue, createQueueKey, validateQueueInputs } from '../core/queue-builder';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';
import { allocateConcurrency } from './private/concurrency';
import { DISPATCH_SCHEDULE_DEAD_LETTER_ALARM, buildDispatcher } from './private/dispatcher';

/** How the consumer drains the levels. */
export enum PriorityMode {
  /**
   * One event source mapping per level, each capped at a share of `maxConcurrency` weighted by
   * priority. Scales like a work queue; higher levels get more concurrency, not strict precedence.
   */
  WEIGHTED = 'WEIGHTED',
  /**
   * One dispatcher function polls the levels in order (a level is served only when every higher
   * level was empty, except the starvation guard's turns) and invokes the consumer one batch at a
   * time. Strict precedence, throughput of a single consumer, and an always-on poller.
   */
  STRICT = 'STRICT',
}

const LEVEL_NAME = /^[a-z][a-z0-9-]{0,19}$/;
/** The most weighted-mode concurrency the levels can share. */
const MAX_TOTAL_CONCURRENCY = 10_000;
/**
 * Alarm ids, for `alarms.overrides`: each level's (an override applies to every level), and, in
 * strict mode, the dispatch schedule's dead-letter queue's.
 */
const PRIORITY_QUEUE_ALARMS = [DEAD_LETTER_QUEUE_ALARM, OLDEST_MESSAGE_ALARM, DISPATCH_SCHEDULE_DEAD_LETTER_ALARM];

/** Props of {@link PriorityQueue}. */
export interface PriorityQueueProps extends QueueInputProps, MessagingPatternProps {
  /**
   * The function that processes messages of every level. It receives ordinary SQS batches (in
   * both modes) and should return partial batch responses, e.g. with `processSqsBatch` from
   * `cdk-messaging-patterns/runtime/batch`; `priorityOf(record)` from
   * `cdk-messaging-patterns/runtime/priority-queue` tells the level of a record.
   */
  readonly consumer: lambda.IFunction;

  /**
   * The consumer's timeout, when it cannot be read from `consumer` (an imported function).
   *
   * @default - `consumer.timeout` for a `lambda.Function`; required for imported functions
   */
  readonly consumerTimeout?: Duration;

  /**
   * Names of the priority levels, highest priority first: 2 to 10 names of lowercase letters,
   * digits and hyphens (they are construct ids and the values of the `priority` message attribute).
   *
   * @default ['high', 'normal', 'low']
   */
  readonly levels?: string[];

  /**
   * The level a producer uses when a message names none.
   *
   * @default - 'normal' when it is a level, else the middle level
   */
  readonly defaultLevel?: string;

  /**
   * How the consumer drains the levels.
   *
   * @default PriorityMode.WEIGHTED
   */
  readonly mode?: PriorityMode;

  /**
   * Weighted mode: the total concurrent consumer invocations, shared between the levels in
   * proportion to `weights`. Each level gets at least 2 (the event source mapping minimum). Give
   * the consumer at least this much reserved concurrency so levels cannot throttle each other.
   *
   * @default 20
   */
  readonly maxConcurrency?: number;

  /**
   * Weighted mode: relative weight of each level, highest priority first; must not increase from
   * a level to the next lower one.
   *
   * @default - halving per level: [4, 2, 1] for three levels
   */
  readonly weights?: number[];

  /**
   * Starvation guard: the share the lowest level keeps at least while it has messages, between
   * 0.01 and 0.5. Weighted mode: of `maxConcurrency` (rounded up, at least 2). Strict mode: of the
   * batches (every round(1/share)-th batch is taken from the lowest level that has messages).
   *
   * @default 0.1
   */
  readonly lowestLevelShare?: number;

  /**
   * Messages per batch: 1–10 in strict mode; 1–10,000 in weighted mode (above 10 requires a
   * `maxBatchingWindow`).
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * Weighted mode: how long each event source mapping gathers messages before invoking the consumer.
   *
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Whether consumption starts enabled (the event source mappings, or the dispatcher's schedule).
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/** One priority level of a {@link PriorityQueue}. */
export interface PriorityLevel {
  /** The level's name, as producers give it. */
  readonly name: string;
  /** Its rank: 0 is the highest priority. */
  readonly rank: number;
  /** The level's queue. */
  readonly queue: sqs.IQueue;
  /**
   * Its dead-letter queue.
   *
   * @default - none, when `deployDeadLetterQueue` is false
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Weighted mode: the event source mapping feeding the consumer from this level.
   *
   * @default - none in strict mode (the dispatcher polls the level)
   */
  readonly eventSourceMapping?: lambda.EventSourceMapping;
  /**
   * Weighted mode: the most concurrent consumer invocations this level drives.
   *
   * @default - none in strict mode
   */
  readonly maxConcurrency?: number;
  /** The level's alarms (those not turned off in `alarms.overrides`). */
  readonly alarms: cloudwatch.Alarm[];
}

/**
 * Priority queue: one SQS queue per priority level, consumed by one function with higher levels
 * first and a guaranteed minimum share for the lowest level.
 *
 * Each level's queue gets the kit's defaults (encryption at rest, TLS-only policy, a dead-letter
 * queue, alarms, visibility timeout at least six times the consumer's timeout). Producers route
 * messages by priority with `PriorityQueueProducer` from `cdk-messaging-patterns/runtime/priority-queue`.
 *
 * Two modes. `WEIGHTED` (default): one event source mapping per level, with `maxConcurrency`
 * split by weight; under a backlog on every level, each level drains at a rate proportional to
 * its share, so higher levels finish sooner; it is not strict precedence (a low message can be
 * processed before an earlier high one). `STRICT`: a dispatcher polls the levels in order and
 * invokes the consumer one batch at a time; strict precedence at the throughput of one consumer.
 *
 * Alarms (ids for `alarms.overrides`): `DeadLetterQueueNotEmpty` and `OldestMessageTooOld` on every
 * level, and in strict mode `DispatchScheduleDeadLetterQueueNotEmpty`, on the dead-letter queue of
 * the dispatcher's schedule (ticks EventBridge could not deliver to the dispatcher).
 *
 * @example
 * const jobs = new PriorityQueue(this, 'Jobs', { consumer: fn, maxConcurrency: 30 });
 * jobs.connectProducer(apiFn); // grants sending and sets PRIORITY_QUEUE_CONFIG
 */
export class PriorityQueue extends MessagingPattern {
  /** The levels, highest priority first. */
  public readonly levels: PriorityLevel[];
  /** The mode the consumer drains the levels in. */
  public readonly mode: PriorityMode;
  /** The level producers use when a message names none. */
  public readonly defaultLevel: string;
  /** The customer managed key encrypting the queues, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** The visibility timeout of every level's queue. */
  public readonly visibilityTimeout: Duration;
  /** Strict mode: the dispatcher that polls the levels in order. */
  public readonly dispatcher?: lambda.Function;
  /** Strict mode: the schedule that starts the dispatcher every minute. */
  public readonly dispatchSchedule?: events.Rule;
  /** Strict mode: where EventBridge puts the schedule's ticks it could not deliver to the dispatcher, watched by an alarm. */
  public readonly dispatchScheduleDeadLetterQueue?: sqs.IQueue;
  /**
   * The producer's configuration (JSON: levels in order with their queue URLs, and the default
   * level), for an environment variable read by `PriorityQueueProducer.fromEnvironment()`.
   */
  public readonly producerConfig: string;

  constructor(scope: Construct, id: string, props: PriorityQueueProps) {
    super(scope, id, props);

    const mode = props.mode ?? PriorityMode.WEIGHTED;
    const strict = mode === PriorityMode.STRICT;
    const names = props.levels ?? [...DEFAULT_PRIORITY_LEVELS];
    const share = props.lowestLevelShare ?? DEFAULT_LOWEST_LEVEL_SHARE;
    const total = props.maxConcurrency ?? DEFAULT_PRIORITY_MAX_CONCURRENCY;

    const v = new PropsValidator(this);
    validateQueueInputs(v, props);
    v.check(
      'existingQueue:unsupported',
      props.existingQueue === undefined,
      `existingQueue cannot be used with a priority queue: it creates one queue per level; shape them with queueProps (given ${props.existingQueue?.node.path})`,
    );
    v.check(
      'queueProps.fifo:unsupported',
      props.queueProps?.fifo !== true,
      'queueProps.fifo must not be true: priority levels are standard queues (given true)',
    );
    v.check(
      'queueProps.queueName:unsupported',
      props.queueProps?.queueName === undefined,
      `queueProps.queueName cannot be used: the queues of the levels need names of their own (given ${describeValue(props.queueProps?.queueName)})`,
    );
    v.check(
      'deadLetterQueueProps.queueName:unsupported',
      props.deadLetterQueueProps?.queueName === undefined,
      `deadLetterQueueProps.queueName cannot be used: the dead-letter queues of the levels need names of their own (given ${describeValue(props.deadLetterQueueProps?.queueName)})`,
    );

    // Levels.
    v.check(
      'levels:range',
      names.length >= 2 && names.length <= 10,
      `levels must name 2 to 10 levels (given ${names.length}: ${JSON.stringify(names)})`,
    );
    const badNames = names.filter((n) => !LEVEL_NAME.test(n));
    v.check(
      'levels:format',
      badNames.length === 0,
      `levels must be lowercase letters, digits and hyphens, starting with a letter, up to 20 characters (given ${JSON.stringify(badNames)})`,
    );
    const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
    v.check('levels:mismatch', duplicates.length === 0, `levels must be unique (given ${JSON.stringify(duplicates)} more than once)`);
    const defaultLevel = props.defaultLevel ?? (names.includes('normal') ? 'normal' : names[Math.floor((names.length - 1) / 2)]);
    v.check(
      'defaultLevel:unknown',
      props.defaultLevel === undefined || names.includes(props.defaultLevel),
      `defaultLevel must be one of the levels ${JSON.stringify(names)} (given ${describeValue(props.defaultLevel)})`,
    );
    if (!isUnresolved(share)) {
      v.check('lowestLevelShare:range', share >= 0.01 && share <= 0.5, `lowestLevelShare must be between 0.01 and 0.5 (given ${share})`);
    }

    // Consumption settings.
    if (strict) {
      for (const [name, value] of Object.entries({
        maxConcurrency: props.maxConcurrency,
        weights: props.weights,
        maxBatchingWindow: props.maxBatchingWindow,
      })) {
        v.check(
          'mode:conflict',
          value === undefined,
          `${name} cannot be used with mode STRICT: one dispatcher takes one batch at a time, highest level first (given ${value instanceof Duration ? describeValue(value) : JSON.stringify(value)})`,
        );
      }
    }
    // The batching window is reported above in strict mode.
    validateBatching(v, props.batchSize, props.maxBatchingWindow, {
      smallBatches: strict,
      context: strict ? ' in strict mode' : ' in weighted mode',
    });
    if (!strict) {
      v.integerInRange('maxConcurrency', props.maxConcurrency, 2 * ESM_MIN_CONCURRENCY, MAX_TOTAL_CONCURRENCY);
      if (props.weights) {
        v.check(
          'weights:mismatch',
          props.weights.length === names.length,
          `weights must give one weight per level (given ${props.weights.length} weights for ${names.length} levels)`,
        );
        v.check(
          'weights:range',
          props.weights.every((w) => Number.isFinite(w) && w > 0),
          `weights must be positive numbers (given ${JSON.stringify(props.weights)})`,
        );
        v.check(
          'weights:format',
          props.weights.every((w, i) => i === 0 || w <= props.weights![i - 1]),
          `weights must not increase from a level to the next lower one (given ${JSON.stringify(props.weights)} for ${JSON.stringify(names)})`,
        );
      }
    }
    validateAlarms(v, props.alarms, PRIORITY_QUEUE_ALARMS);
    validateOldestMessageAlarm(v, props.alarms, props.queueProps?.retentionPeriod ?? SQS_DEFAULT_RETENTION);

    // Visibility timeout >= 6 x consumer timeout + batching window. In strict mode, a dispatcher
    // that found every level empty may hold one batch per level and serve them one after another.
    const factor = strict ? Math.max(VISIBILITY_TIMEOUT_FACTOR, names.length + 1) : VISIBILITY_TIMEOUT_FACTOR;
    const consumerTimeout = consumerTimeoutOf(props.consumer, props.consumerTimeout);
    const visibilityTimeout = resolveVisibilityTimeout(v, {
      consumer: props.consumer,
      consumerTimeout,
      maxBatchingWindow: props.maxBatchingWindow,
      given: props.queueProps?.visibilityTimeout,
      factor,
      factorReason: strict ? ' (strict mode: at least 6, or the number of levels + 1)' : '',
    });
    if (strict && consumerTimeout === undefined && props.queueProps?.visibilityTimeout !== undefined) {
      // A given visibility timeout spares the consumer's timeout (as in a work queue), but the
      // dispatcher still needs it. Without one, resolveVisibilityTimeout reported it already.
      v.check(
        'consumerTimeout:required',
        false,
        `consumerTimeout is required in strict mode when consumer is an imported function (given consumer ${props.consumer.node.path}): the dispatcher's timeout is the consumer's + ${DISPATCHER_OVERHEAD_SECONDS} seconds`,
      );
    } else if (strict && consumerTimeout !== undefined && !consumerTimeout.isUnresolved()) {
      // The dispatcher runs for about a minute plus one consumer call, within Lambda's 15 minutes.
      v.check(
        'consumerTimeout:range',
        consumerTimeout.toSeconds() + DISPATCHER_OVERHEAD_SECONDS <= LAMBDA_MAX_TIMEOUT_SECONDS,
        `the consumer timeout must be at most ${LAMBDA_MAX_TIMEOUT_SECONDS - DISPATCHER_OVERHEAD_SECONDS} seconds in strict mode: the dispatcher waits for the consumer within its own 15-minute limit (given ${consumerTimeout.toSeconds()} seconds)`,
      );
    }

    // Concurrency per level (weighted mode).
    let caps: number[] = [];
    if (!strict && names.length >= 2 && !isUnresolved(total) && !isUnresolved(share)) {
      const floors = names.map((_, i) =>
        i === names.length - 1 ? Math.max(ESM_MIN_CONCURRENCY, Math.ceil(total * share)) : ESM_MIN_CONCURRENCY,
      );
      const needed = floors.reduce((s, f) => s + f, 0);
      v.check(
        'maxConcurrency:range',
        needed <= total,
        `maxConcurrency is too small for ${names.length} levels: each level needs at least ${ESM_MIN_CONCURRENCY} (the event source mapping minimum) and the lowest level ${floors[floors.length - 1]} (lowestLevelShare ${share}), ${needed} in all (given ${total})`,
      );
      if (v.count === 0) {
        const weights = props.weights ?? names.map((_, i) => 2 ** (names.length - 1 - i));
        caps = allocateConcurrency(total, weights, floors);
      }
    }
    v.throwIfInvalid();

    this.mode = mode;
    this.defaultLevel = defaultLevel;
    this.visibilityTimeout = visibilityTimeout ?? DEFAULT_VISIBILITY_TIMEOUT;

    // One queue (and DLQ, alarms) per level; a key the kit creates is shared by every level.
    const levels: PriorityLevel[] = [];
    let encryptionKey = props.encryptionKey ?? props.queueProps?.encryptionMasterKey;
    if (!encryptionKey && props.queueProps?.encryption === sqs.QueueEncryption.KMS) {
      encryptionKey = createQueueKey(this, 'Key');
    }
    names.forEach((name, rank) => {
      const levelScope = new Construct(this, name);
      const built = buildQueue(levelScope, {
        ...props,
        encryptionKey,
        fifo: false,
        visibilityTimeout,
        deadLetterQueueOf: `priority level '${name}'`,
      });
      const what = `Priority queue ${this.node.path}, level '${name}'`;
      const alarms = [
        deadLetterQueueAlarm(levelScope, props.alarms, built.deadLetterQueue, what),
        oldestMessageAlarm(levelScope, props.alarms, built.queue, what),
      ].filter((a): a is cloudwatch.Alarm => a !== undefined);
      let eventSourceMapping: lambda.EventSourceMapping | undefined;
      if (!strict) {
        eventSourceMapping = mapQueueToConsumer(levelScope, {
          queue: built.queue,
          consumer: props.consumer,
          batchSize: props.batchSize,
          maxBatchingWindow: props.maxBatchingWindow,
          maxConcurrency: caps[rank],
          enabled: props.enabled,
          warningScope: this,
          queueDescription: 'the level queues',
          deadLetterDescription: "its level's dead-letter queue through the redrive policy",
        });
      }
      levels.push({
        name,
        rank,
        queue: built.queue,
        deadLetterQueue: built.deadLetterQueue,
        eventSourceMapping,
        maxConcurrency: strict ? undefined : caps[rank],
        alarms,
      });
    });
    this.levels = levels;
    this.encryptionKey = encryptionKey;

    if (!strict) {
      this.warnOnLowReservedConcurrency(props.consumer, total);
    } else {
      const built = buildDispatcher(this, {
        levels,
        consumer: props.consumer,
        consumerTimeout: consumerTimeout!,
        batchSize: props.batchSize ?? DEFAULT_BATCH_SIZE,
        lowestLevelEvery: Math.max(2, Math.round(1 / share)),
        enabled: props.enabled ?? true,
        alarms: props.alarms,
      });
      this.dispatcher = built.dispatcher;
      this.dispatchSchedule = built.schedule;
      this.dispatchScheduleDeadLetterQueue = built.scheduleDeadLetterQueue;
    }

    this.producerConfig = Stack.of(this).toJsonString({
      levels: levels.map((l) => ({ name: l.name, queueUrl: l.queue.queueUrl })),
      defaultLevel,
    });
    this._showOnDashboard(...this.levels.map((l) => this.metricVisibleMessages(l.name)));
  }

  /** The level named `name`; throws when there is none. */
  public level(name: string): PriorityLevel {
    const level = this.levels.find((l) => l.name === name);
    return (
      level ??
      MessagingPatternsError.fail(
        this,
        'level:unknown',
        `there is no priority level ${describeValue(name)} (levels: ${this.levels.map((l) => l.name).join(', ')})`,
      )
    );
  }

  /**
   * Grants `grantee` permission to send messages to every level, and to use the queues' key for
   * that only (`kms:GenerateDataKey`, `kms:Decrypt`).
   */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      this.levels.map((l) => grantSendOnly(l.queue, grantee)),
      'no levels',
    );
  }

  /** Grants `grantee` permission to read and delete messages from every level's dead-letter queue. */
  public grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      this.levels.map((l) => l.deadLetterQueue?.grantConsumeMessages(grantee)),
      'no level has a dead-letter queue the kit knows of',
    );
  }

  /**
   * Makes `fn` a producer: {@link grantSend}, and the configuration `PriorityQueueProducer.fromEnvironment()`
   * reads in its `PRIORITY_QUEUE_CONFIG` environment variable (or `options.environmentVariable`).
   */
  public connectProducer(fn: lambda.IFunction, options: ConnectOptions = {}): iam.Grant {
    return connectFunction(this, fn, { [options.environmentVariable ?? ENV.priorityQueueConfig]: this.producerConfig }, this.grantSend(fn));
  }

  /** Messages available in one level (Maximum over 1 minute). */
  public metricVisibleMessages(level: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.level(level).queue, 'ApproximateNumberOfMessagesVisible', props);
  }

  /** Age of the oldest message in one level, in seconds (Maximum over 1 minute): how long that level waits. */
  public metricOldestMessageAge(level: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.level(level).queue, 'ApproximateAgeOfOldestMessage', props);
  }

  /** Messages in one level's dead-letter queue (Maximum over 1 minute), if it has one. */
  public metricDeadLetterMessages(level: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return optionalQueueMetric(this.level(level).deadLetterQueue, 'ApproximateNumberOfMessagesVisible', props);
  }

  private warnOnLowReservedConcurrency(consumer: lambda.IFunction, total: number): void {
    if (!(consumer instanceof lambda.Function) || isUnresolved(total)) return;
    const reserved = (consumer.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions;
    if (typeof reserved === 'number' && !isUnresolved(reserved) && reserved < total) {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:priorityReservedConcurrency',
        `the consumer's reserved concurrency (${reserved}) is below maxConcurrency (${total}): busy higher levels can use up the function's concurrency and throttle the lower levels' invocations, which breaks their guaranteed share.`,
      );
    }
  }
}
