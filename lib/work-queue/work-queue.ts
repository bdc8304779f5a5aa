import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
import { DEFAULT_VISIBILITY_TIMEOUT } from '../core/defaults';
import { combineGrants, connectFunction, grantSendOnly } from '../core/grants';
import { ESM_MAX_CONCURRENCY, ESM_MIN_CONCURRENCY, SQS_DEFAULT_RETENTION } from '../core/limits';
import { optionalQueueMetric, queueMetric } from '../core/metrics';
import { MessagingPattern } from '../core/pattern';
import { QueueInputProps, buildQueue, validateQueueInputs } from '../core/queue-builder';
import { PropsValidator } from '../core/validation';
import { ENV } from '../core/wire';
import { IdempotencyTable } from '../idempotency/idempotency-table';

/** The ids of a work queue's alarms, for `alarms.overrides`. */
export const WORK_QUEUE_ALARMS = [DEAD_LETTER_QUEUE_ALARM, OLDEST_MESSAGE_ALARM];

/** Props of {@link WorkQueue}. */
export interface WorkQueueProps extends QueueInputProps, MessagingPatternProps {
  /**
   * The function that processes messages. Its invocations compete for messages (competing
   * consumers), up to `maxConcurrency`. It should return partial batch responses, e.g. with
   * `processSqsBatch` from `cdk-messaging-patterns/runtime/batch`.
   */
  readonly consumer: lambda.IFunction;

  /**
   * The consumer's timeout, when it cannot be read from `consumer` (an imported function).
   *
   * @default - `consumer.timeout` for a `lambda.Function`; required for imported functions
   */
  readonly consumerTimeout?: Duration;

  /**
   * Whether the queue is FIFO: messages of one message group are processed in order, one batch at
   * a time.
   *
   * @default false
   */
  readonly fifo?: boolean;

  /**
   * Messages per batch: 1–10 for FIFO queues, 1–10,000 for standard queues (above 10 requires a
   * `maxBatchingWindow`).
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long the event source mapping gathers messages before invoking the consumer. Not available
   * for FIFO queues.
   *
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * The most concurrent consumer invocations this queue drives (2–1000): the competing consumers
   * scale up to this.
   *
   * @default - no limit beyond the function's and the account's concurrency
   */
  readonly maxConcurrency?: number;

  /**
   * Whether the event source mapping starts enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * An idempotency table for the consumer: the kit grants the consumer read/write on it and sets
   * its `IDEMPOTENCY_TABLE_NAME` environment variable, for `cdk-messaging-patterns/runtime/idempotency`.
   *
   * @default - none
   */
  readonly idempotencyTable?: IdempotencyTable;
}

/**
 * Work queue with competing consumers.
 *
 * An SQS queue (standard or FIFO) with a dead-letter queue, encryption at rest and a TLS-only
 * policy, consumed by a Lambda function through an event source mapping with partial batch
 * responses on. The visibility timeout is at least six times the consumer's timeout plus the
 * batching window, so a message is never visible again while a consumer still works on it.
 *
 * Alarms (ids for `alarms.overrides`): `DeadLetterQueueNotEmpty` (any message in the DLQ) and
 * `OldestMessageTooOld` (the oldest message older than 3600 seconds for 3 minutes).
 *
 * @example
 * const queue = new WorkQueue(this, 'Orders', { consumer: fn, maxConcurrency: 20 });
 * queue.connectProducer(producerFn); // grants sending, sets WORK_QUEUE_URL
 */
export class WorkQueue extends MessagingPattern {
  /** The work queue. */
  public readonly queue: sqs.IQueue;
  /** Its dead-letter queue, when it has one the kit knows of. */
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The customer managed key encrypting the queues, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** The event source mapping feeding the consumer. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** The visibility timeout the queue was given (or `undefined` for an existing queue). */
  public readonly visibilityTimeout?: Duration;
  /** Receives before a message moves to the dead-letter queue, when known. */
  public readonly maxReceiveCount?: number;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    const { fifo, visibilityTimeout } = validateWorkQueueProps(v, props);
    v.throwIfInvalid();

    const built = buildQueue(this, { ...props, fifo, visibilityTimeout, deadLetterQueueOf: 'the work queue' });
    this.queue = built.queue;
    this.deadLetterQueue = built.deadLetterQueue;
    this.encryptionKey = built.encryptionKey;
    this.maxReceiveCount = built.maxReceiveCount;
    this.visibilityTimeout = built.created ? (visibilityTimeout ?? DEFAULT_VISIBILITY_TIMEOUT) : undefined;

    this.eventSourceMapping = mapQueueToConsumer(this, {
      queue: this.queue,
      consumer: props.consumer,
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      enabled: props.enabled,
      warningScope: this,
      queueDescription: 'the queue',
      deadLetterDescription: "the queue's dead-letter queue through its redrive policy",
    });
    props.idempotencyTable?.connectConsumer(props.consumer);

    deadLetterQueueAlarm(this, props.alarms, this.deadLetterQueue, `Work queue ${this.node.path}`);
    oldestMessageAlarm(this, props.alarms, this.queue, `Work queue ${this.node.path}`);
    this._showOnDashboard(this.metricVisibleMessages(), this.metricInFlightMessages());
  }

  /**
   * Grants `grantee` permission to send messages: `sqs:SendMessage`, `sqs:GetQueueAttributes`,
   * `sqs:GetQueueUrl`, and on a customer managed key only `kms:GenerateDataKey` and `kms:Decrypt`.
   */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    return grantSendOnly(this.queue, grantee);
  }

  /** Grants `grantee` permission to read and delete messages from the dead-letter queue (operators), and to decrypt them. */
  public grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [this.deadLetterQueue?.grantConsumeMessages(grantee)],
      'the work queue has no dead-letter queue the kit knows of',
    );
  }

  /** Makes `fn` a producer: {@link grantSend}, and the queue's URL in its `WORK_QUEUE_URL` environment variable. */
  public connectProducer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(this, fn, { [ENV.workQueueUrl]: this.queue.queueUrl }, this.grantSend(fn));
  }

  /** Messages available for retrieval (Maximum over 1 minute). */
  public metricVisibleMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateNumberOfMessagesVisible', props);
  }

  /** Messages received and not yet deleted: work in progress (Maximum over 1 minute). */
  public metricInFlightMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateNumberOfMessagesNotVisible', props);
  }

  /** Age of the oldest message in the queue, in seconds (Maximum over 1 minute). */
  public metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateAgeOfOldestMessage', props);
  }

  /** Messages in the dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return optionalQueueMetric(this.deadLetterQueue, 'ApproximateNumberOfMessagesVisible', props);
  }
}

/**
 * Checks a work queue's props into `v`, and returns what the constructor derives from them: the
 * queue type and the visibility timeout of a queue the kit creates. Constructs built on a work
 * queue call it before creating one, so that their problems and the work queue's come out together.
 */
export function validateWorkQueueProps(v: PropsValidator, props: WorkQueueProps): { fifo: boolean; visibilityTimeout?: Duration } {
  const fifo = props.fifo ?? props.queueProps?.fifo ?? props.existingQueue?.fifo ?? false;
  validateQueueInputs(v, props);
  v.notWith('fifo', props.fifo, 'existingQueue', props.existingQueue);

  // Event source mapping settings.
  validateBatching(v, props.batchSize, props.maxBatchingWindow, {
    smallBatches: fifo,
    context: fifo ? ' for a FIFO queue' : ' for a standard queue',
    noBatchingWindow: ' for a FIFO queue',
  });
  v.integerInRange('maxConcurrency', props.maxConcurrency, ESM_MIN_CONCURRENCY, ESM_MAX_CONCURRENCY);
  validateAlarms(v, props.alarms, WORK_QUEUE_ALARMS);
  validateOldestMessageAlarm(v, props.alarms, props.queueProps?.retentionPeriod ?? SQS_DEFAULT_RETENTION);

  // Visibility timeout >= 6 x consumer timeout + batching window.
  const visibilityTimeout = props.existingQueue
    ? undefined
    : resolveVisibilityTimeout(v, {
        consumer: props.consumer,
        consumerTimeout: consumerTimeoutOf(props.consumer, props.consumerTimeout),
        maxBatchingWindow: props.maxBatchingWindow,
        given: props.queueProps?.visibilityTimeout,
      });
  return { fifo, visibilityTimeout };
}
