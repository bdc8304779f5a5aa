import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QueueAlarmProps, QueueAlarms, validateAlarmProps } from '../core/alarms';
import { consumerTimeoutOf, mapQueueToConsumer, resolveVisibilityTimeout, validateBatching } from '../core/consumer';
import { SQS_DEFAULT_RETENTION } from '../core/defaults';
import { grantSendOnly } from '../core/grants';
import { QueueInputProps, buildQueue, validateQueueInputs } from '../core/queue-builder';
import { PropsValidator } from '../core/validation';
import { IdempotencyTable } from '../idempotency/idempotency-table';

/** Props of {@link WorkQueue}. */
export interface WorkQueueProps extends QueueInputProps {
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
   * Alarms on the queue and its dead-letter queue.
   *
   * @default - a dead-letter-queue alarm and an oldest-message alarm (1 hour), no actions
   */
  readonly alarms?: QueueAlarmProps;

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
 * @example
 * const queue = new WorkQueue(this, 'Orders', { consumer: fn, maxConcurrency: 20 });
 * queue.grantSend(producerFn);
 */
export class WorkQueue extends Construct {
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
  /** The queue's alarms. */
  public readonly alarms: QueueAlarms;

  /**
   * Checks `props` as the constructor does, collecting every problem into `v` without throwing.
   * Constructs built on a work queue call it before creating one, so that their own problems and
   * the work queue's come out together in one error.
   */
  public static validateProps(v: PropsValidator, props: WorkQueueProps): void {
    checkProps(v, props);
  }

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);

    const v = new PropsValidator(this);
    const { fifo, visibilityTimeout } = checkProps(v, props);
    v.throwIfInvalid();

    const built = buildQueue(this, { ...props, fifo, visibilityTimeout, deadLetterQueueOf: 'the work queue' });
    this.queue = built.queue;
    this.deadLetterQueue = built.deadLetterQueue;
    this.encryptionKey = built.encryptionKey;
    this.maxReceiveCount = built.maxReceiveCount;
    this.visibilityTimeout = built.created ? (visibilityTimeout ?? Duration.seconds(30)) : undefined;

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
    props.idempotencyTable?.connect(props.consumer);

    this.alarms = new QueueAlarms(this, 'Alarms', {
      ...props.alarms,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      description: `Work queue ${this.node.path}`,
    });
  }

  /**
   * Grants `grantee` permission to send messages: `sqs:SendMessage`, `sqs:GetQueueAttributes`,
   * `sqs:GetQueueUrl`, and on a customer managed key only `kms:GenerateDataKey` and `kms:Decrypt`.
   */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    return grantSendOnly(this.queue, grantee);
  }

  /** Grants `grantee` permission to read and delete messages from the dead-letter queue (operators). */
  public grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant | undefined {
    return this.deadLetterQueue?.grantConsumeMessages(grantee);
  }

  /** Messages available for retrieval (Maximum over 1 minute). */
  public metricVisibleMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Messages received and not yet deleted: work in progress (Maximum over 1 minute). */
  public metricInFlightMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesNotVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Age of the oldest message in the queue, in seconds (Maximum over 1 minute). */
  public metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props });
  }

  /** Messages in the dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.deadLetterQueue?.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
      ...props,
    });
  }
}

/**
 * Checks a work queue's props into `v`, and returns what the constructor derives from them: the
 * queue type and the visibility timeout of a queue the kit creates.
 */
function checkProps(v: PropsValidator, props: WorkQueueProps): { fifo: boolean; visibilityTimeout?: Duration } {
  const fifo = props.fifo ?? props.queueProps?.fifo ?? props.existingQueue?.fifo ?? false;
  validateQueueInputs(v, props);
  v.notWith('fifo', props.fifo, 'existingQueue', props.existingQueue);

  // Event source mapping settings.
  validateBatching(v, props.batchSize, props.maxBatchingWindow, {
    smallBatches: fifo,
    context: fifo ? ' for a FIFO queue' : ' for a standard queue',
    noBatchingWindow: ' for a FIFO queue',
  });
  v.integerInRange('maxConcurrency', props.maxConcurrency, 2, 1000);
  validateAlarmProps(v, props.alarms ?? {}, props.queueProps?.retentionPeriod ?? SQS_DEFAULT_RETENTION);

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
