import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QueueAlarmProps, QueueAlarms, validateAlarmProps } from '../core/alarms';
import {
  LAMBDA_DEFAULT_TIMEOUT,
  SQS_MAX_BATCHING_WINDOW,
  SQS_MAX_VISIBILITY_TIMEOUT,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../core/defaults';
import { grantSendOnly } from '../core/grants';
import { acknowledgeDeadLetterQueue } from '../core/nag';
import { QueueInputProps, buildQueue, validateQueueInputs } from '../core/queue-builder';
import { PropsValidator, describeValue } from '../core/validation';
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

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);

    const fifo = props.fifo ?? props.queueProps?.fifo ?? props.existingQueue?.fifo ?? false;
    const v = new PropsValidator(this);
    validateQueueInputs(v, props);
    v.notWith('fifo', props.fifo, 'existingQueue', props.existingQueue);

    // Event source mapping settings.
    if (fifo) {
      v.integerInRange('batchSize', props.batchSize, 1, 10, ' for a FIFO queue');
      v.check(
        props.maxBatchingWindow === undefined,
        `maxBatchingWindow is not supported for a FIFO queue (given ${describeValue(props.maxBatchingWindow)})`,
      );
    } else {
      v.integerInRange('batchSize', props.batchSize, 1, 10_000, ' for a standard queue');
      v.durationInRange('maxBatchingWindow', props.maxBatchingWindow, Duration.seconds(0), SQS_MAX_BATCHING_WINDOW);
      if (props.batchSize !== undefined && props.batchSize > 10) {
        v.check(
          props.maxBatchingWindow !== undefined && props.maxBatchingWindow.toSeconds() >= 1,
          `batchSize above 10 requires a maxBatchingWindow of at least 1 second (given batchSize ${props.batchSize}, maxBatchingWindow ${describeValue(props.maxBatchingWindow)})`,
        );
      }
    }
    v.integerInRange('maxConcurrency', props.maxConcurrency, 2, 1000);
    validateAlarmProps(v, props.alarms ?? {}, props.queueProps?.retentionPeriod ?? Duration.days(4));

    // Visibility timeout >= 6 x consumer timeout + batching window.
    const consumerTimeout =
      props.consumerTimeout ?? (props.consumer instanceof lambda.Function ? (props.consumer.timeout ?? LAMBDA_DEFAULT_TIMEOUT) : undefined);
    let visibilityTimeout: Duration | undefined;
    if (!props.existingQueue) {
      if (consumerTimeout === undefined) {
        v.check(
          props.queueProps?.visibilityTimeout !== undefined,
          `consumerTimeout is required when consumer is an imported function (given consumer ${props.consumer.node.path}): the kit sets the visibility timeout to ${VISIBILITY_TIMEOUT_FACTOR} x the consumer's timeout`,
        );
        visibilityTimeout = props.queueProps?.visibilityTimeout;
      } else if (!consumerTimeout.isUnresolved() && !(props.maxBatchingWindow?.isUnresolved() ?? false)) {
        const requiredSeconds =
          VISIBILITY_TIMEOUT_FACTOR * consumerTimeout.toSeconds() + (props.maxBatchingWindow?.toSeconds() ?? 0);
        const given = props.queueProps?.visibilityTimeout;
        if (given && !given.isUnresolved()) {
          v.check(
            given.toSeconds() >= requiredSeconds,
            `queueProps.visibilityTimeout must be at least ${VISIBILITY_TIMEOUT_FACTOR} x the consumer timeout + maxBatchingWindow = ${requiredSeconds} seconds (given ${given.toSeconds()} seconds)`,
          );
          visibilityTimeout = given;
        } else {
          v.check(
            requiredSeconds <= SQS_MAX_VISIBILITY_TIMEOUT.toSeconds(),
            `the consumer timeout is too long for SQS: ${VISIBILITY_TIMEOUT_FACTOR} x the consumer timeout + maxBatchingWindow = ${requiredSeconds} seconds exceeds the 43200-second visibility timeout limit (given consumer timeout ${consumerTimeout.toSeconds()} seconds)`,
          );
          visibilityTimeout = given ?? Duration.seconds(requiredSeconds);
        }
      } else {
        visibilityTimeout = props.queueProps?.visibilityTimeout;
      }
    }
    v.throwIfInvalid();

    const built = buildQueue(this, { ...props, fifo, visibilityTimeout });
    this.queue = built.queue;
    this.deadLetterQueue = built.deadLetterQueue;
    this.encryptionKey = built.encryptionKey;
    this.maxReceiveCount = built.maxReceiveCount;
    this.visibilityTimeout = built.created ? visibilityTimeout ?? Duration.seconds(30) : undefined;
    if (this.deadLetterQueue && built.created) acknowledgeDeadLetterQueue(this.deadLetterQueue, 'the work queue');

    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'EventSourceMapping', {
      target: props.consumer,
      eventSourceArn: this.queue.queueArn,
      batchSize: props.batchSize ?? 10,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      reportBatchItemFailures: true,
      enabled: props.enabled,
    });
    // The mapping checks the consumer's permissions when it is created: create the policy first.
    if (props.consumer.role) {
      this.queue.grantConsumeMessages(props.consumer).applyBefore(this.eventSourceMapping);
    } else {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:consumerWithoutRole',
        `consumer ${props.consumer.node.path} was imported without its role, so the kit could not grant it sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on the queue: grant them to its role.`,
      );
    }
    props.idempotencyTable?.connect(props.consumer);
    Validations.of(this.eventSourceMapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings do not support on-failure destinations: a message that keeps failing moves to the queue\'s dead-letter queue through its redrive policy.',
    });

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
    return this.queue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props });
  }

  /** Messages received and not yet deleted: work in progress (Maximum over 1 minute). */
  public metricInFlightMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props });
  }

  /** Age of the oldest message in the queue, in seconds (Maximum over 1 minute). */
  public metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props });
  }

  /** Messages in the dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.deadLetterQueue?.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props });
  }
}
