import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps } from '../core/alarms';
import { connectFunction } from '../core/grants';
import { MessagingPattern } from '../core/pattern';
import { QueueInputProps } from '../core/queue-builder';
import { PropsValidator, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';
import { WorkQueue, WorkQueueProps, validateWorkQueueProps } from '../work-queue/work-queue';

/** Props of {@link SequentialConvoy}. */
export interface SequentialConvoyProps extends QueueInputProps, MessagingPatternProps {
  /**
   * The function that applies the events. The event source mapping hands it the messages of a
   * message group in order, one batch per group at a time; it should process them with
   * `processConvoyBatch` from `cdk-messaging-patterns/runtime/sequential-convoy`, which stops a
   * group at its first failure and reports the rest of that group as failed, unprocessed.
   */
  readonly consumer: lambda.IFunction;

  /**
   * The consumer's timeout, when it cannot be read from `consumer` (an imported function).
   *
   * @default - `consumer.timeout` for a `lambda.Function`; required for imported functions
   */
  readonly consumerTimeout?: Duration;

  /**
   * Messages per batch (1–10, the FIFO limit).
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * The most concurrent consumer invocations (2–1000). Messages of one group are never processed
   * concurrently, whatever this is: concurrency only spreads different groups.
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
   * Whether SQS deduplicates messages by a SHA-256 of their body when the producer gives no
   * `MessageDeduplicationId`. An explicit deduplication id always wins. With false, every send must
   * carry a deduplication id (SQS rejects the ones that do not).
   *
   * Two messages with identical bodies sent within 5 minutes are one message under this setting:
   * give every event an id or a sequence number in its body, or send explicit deduplication ids.
   *
   * @default true
   */
  readonly contentBasedDeduplication?: boolean;

  /**
   * FIFO high-throughput mode: deduplication per message group and the throughput quota per
   * message group (`deduplicationScope: MESSAGE_GROUP`, `fifoThroughputLimit: PER_MESSAGE_GROUP_ID`).
   * Use it when there are many groups; a deduplication id then only deduplicates within its group.
   *
   * @default false
   */
  readonly highThroughput?: boolean;
}

/**
 * Sequential convoy: events of one entity are processed in order, entities in parallel.
 *
 * A FIFO queue (and FIFO dead-letter queue) whose message group is the entity, consumed by a Lambda
 * function through an event source mapping with partial batch responses on. SQS never hands out a
 * message of a group while an earlier one of that group is in flight, so each entity's events are
 * applied one after the other in the order they were sent; different entities are processed
 * concurrently. Built on {@link WorkQueue} (same defaults: encryption at rest, TLS-only policy,
 * DLQ after 5 receives, visibility timeout 6 x the consumer timeout, DLQ and age alarms).
 *
 * Limits of FIFO order: a message that fails `maxReceiveCount` times moves to the dead-letter queue
 * and its group goes on without it (the DLQ alarm is the signal); and the messages of a group that
 * were skipped behind a failure are received too, so their receive count grows with every retry of
 * the failing one: keep `maxReceiveCount` above the retries a group may need.
 *
 * Producers send with `ConvoyProducer` (message group = `groupBy` of each event); consumers
 * process with `processConvoyBatch`, both from `cdk-messaging-patterns/runtime/sequential-convoy`.
 *
 * @example
 * const convoy = new SequentialConvoy(this, 'OrderEvents', { consumer: projector });
 * convoy.connectProducer(apiFunction); // grants sending, sets CONVOY_QUEUE_URL
 */
export class SequentialConvoy extends MessagingPattern {
  /** The work queue the convoy is built on (queue, DLQ, mapping and alarms live in it). */
  public readonly workQueue: WorkQueue;
  /** The FIFO queue. */
  public readonly queue: sqs.IQueue;
  /** Its FIFO dead-letter queue, when it has one the kit knows of. */
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The customer managed key encrypting the queues, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** The event source mapping feeding the consumer. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** The visibility timeout the queue was given (or `undefined` for an existing queue). */
  public readonly visibilityTimeout?: Duration;
  /** Receives before a message moves to the dead-letter queue, when known. */
  public readonly maxReceiveCount?: number;
  constructor(scope: Construct, id: string, props: SequentialConvoyProps) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    const q = props.queueProps;
    v.notWith('contentBasedDeduplication', props.contentBasedDeduplication, 'existingQueue', props.existingQueue);
    v.notWith('highThroughput', props.highThroughput, 'existingQueue', props.existingQueue);
    if (props.existingQueue && !isUnresolved(props.existingQueue.fifo)) {
      v.check(
        'existingQueue:mismatch',
        props.existingQueue.fifo,
        `existingQueue must be a FIFO queue: a sequential convoy keeps order per message group (given the standard queue ${props.existingQueue.node.path})`,
      );
    }
    v.check(
      'queueProps.fifo:mismatch',
      q?.fifo !== false,
      'queueProps.fifo must not be false: a sequential convoy is always a FIFO queue (given false)',
    );
    if (props.contentBasedDeduplication !== undefined && q?.contentBasedDeduplication !== undefined) {
      v.check(
        'contentBasedDeduplication:mismatch',
        props.contentBasedDeduplication === q.contentBasedDeduplication,
        `contentBasedDeduplication and queueProps.contentBasedDeduplication disagree (given ${props.contentBasedDeduplication} and ${q.contentBasedDeduplication})`,
      );
    }
    if (props.highThroughput) {
      v.check(
        'queueProps.deduplicationScope:mismatch',
        q?.deduplicationScope === undefined || q.deduplicationScope === sqs.DeduplicationScope.MESSAGE_GROUP,
        `highThroughput needs queueProps.deduplicationScope MESSAGE_GROUP (given ${q?.deduplicationScope})`,
      );
      v.check(
        'queueProps.fifoThroughputLimit:mismatch',
        q?.fifoThroughputLimit === undefined || q.fifoThroughputLimit === sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        `highThroughput needs queueProps.fifoThroughputLimit PER_MESSAGE_GROUP_ID (given ${q?.fifoThroughputLimit})`,
      );
    }
    v.check(
      'deadLetterQueueProps.fifo:mismatch',
      !(props.deadLetterQueueProps?.fifo === false),
      'deadLetterQueueProps.fifo must not be false: the dead-letter queue of a FIFO queue is FIFO (given false)',
    );

    // Defaults, then the user's queueProps, then what the convoy requires (FIFO).
    const queueProps: sqs.QueueProps | undefined =
      props.existingQueue && !q
        ? undefined
        : {
            contentBasedDeduplication: props.contentBasedDeduplication ?? true,
            ...(props.highThroughput
              ? {
                  deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
                  fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
                }
              : {}),
            ...q,
            fifo: true,
          };

    const workQueueProps: WorkQueueProps = {
      existingQueue: props.existingQueue,
      queueProps,
      deployDeadLetterQueue: props.deployDeadLetterQueue,
      deadLetterQueueProps: props.deadLetterQueueProps,
      maxReceiveCount: props.maxReceiveCount,
      encryptionKey: props.encryptionKey,
      consumer: props.consumer,
      consumerTimeout: props.consumerTimeout,
      batchSize: props.batchSize,
      maxConcurrency: props.maxConcurrency,
      enabled: props.enabled,
      alarms: props.alarms,
    };
    // The work queue's problems (shared queue props, FIFO batch limits, visibility timeout) and the
    // convoy's come out together, under the convoy's path.
    validateWorkQueueProps(v, workQueueProps);
    v.throwIfInvalid();

    const workQueue = new WorkQueue(this, 'WorkQueue', workQueueProps);
    this.workQueue = workQueue;
    this.queue = workQueue.queue;
    this.deadLetterQueue = workQueue.deadLetterQueue;
    this.encryptionKey = workQueue.encryptionKey;
    this.eventSourceMapping = workQueue.eventSourceMapping;
    this.visibilityTimeout = workQueue.visibilityTimeout;
    this.maxReceiveCount = workQueue.maxReceiveCount;
    this._showOnDashboard(this.metricVisibleMessages(), this.metricInFlightMessages());
  }

  /** Grants `grantee` permission to send events (and to use the queue's key). */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.workQueue.grantSend(grantee);
  }

  /** Grants `grantee` permission to read and delete messages from the dead-letter queue (operators), and to decrypt them. */
  public grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return this.workQueue.grantConsumeDeadLetters(grantee);
  }

  /** Makes `fn` a producer: {@link grantSend}, and the queue's URL in its `CONVOY_QUEUE_URL` environment variable. */
  public connectProducer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(this, fn, { [ENV.convoyQueueUrl]: this.queue.queueUrl }, this.grantSend(fn));
  }

  /** Events waiting (Maximum over 1 minute). */
  public metricVisibleMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.workQueue.metricVisibleMessages(props);
  }

  /** Events received and not yet deleted (Maximum over 1 minute). */
  public metricInFlightMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.workQueue.metricInFlightMessages(props);
  }

  /** Age of the oldest event, in seconds (Maximum over 1 minute): a stuck group shows here. */
  public metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.workQueue.metricOldestMessageAge(props);
  }

  /** Events in the dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.workQueue.metricDeadLetterMessages(props);
  }
}
