import { Annotations, Duration, FeatureFlags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cxapi from 'aws-cdk-lib/cx-api';
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
import { DEFAULT_VISIBILITY_TIMEOUT, FAN_OUT_RAW_MESSAGE_DELIVERY, FAN_OUT_SUBSCRIPTION_DEAD_LETTER_QUEUE } from '../core/defaults';
import { combineGrants } from '../core/grants';
import { SQS_DEFAULT_RETENTION } from '../core/limits';
import { optionalQueueMetric, queueMetric } from '../core/metrics';
import { MessagingPattern } from '../core/pattern';
import { BuiltQueue, QueueInputProps, buildQueue, isAwsManagedQueueKey, validateQueueInputs } from '../core/queue-builder';
import { PropsValidator, isUnresolved } from '../core/validation';
import { IdempotencyTable } from '../idempotency/idempotency-table';
import { WorkQueue, validateWorkQueueProps } from '../work-queue/work-queue';
import { SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM, subscriptionDeadLetterQueueAlarm } from './private/alarms';
import { canEditKeyPolicy, isAwsManagedSqsKey, warnImportedKey } from './private/encryption';
import { validateFilterPolicies } from './private/filters';
import { buildSubscriptionDeadLetterQueue, validateSubscriptionDeadLetterQueue } from './private/subscription-dlq';

/** The ids of a fan-out queue subscription's alarms, for `alarms.overrides`. */
export const FAN_OUT_SUBSCRIPTION_ALARMS = [DEAD_LETTER_QUEUE_ALARM, OLDEST_MESSAGE_ALARM, SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM];

/** Options of a queue subscription of a {@link FanOut}: {@link FanOut.addQueueSubscription}. */
export interface FanOutSubscriptionOptions extends QueueInputProps, MessagingPatternProps {
  /**
   * Delivers only messages whose message attributes match (SNS `FilterPolicyScope: MessageAttributes`).
   * Up to 5 attribute names and 150 combinations of values. Not with `filterPolicyWithMessageBody`.
   *
   * @default - every message (no filter)
   */
  readonly filterPolicy?: { [attribute: string]: sns.SubscriptionFilter };

  /**
   * Delivers only messages whose JSON body matches (SNS `FilterPolicyScope: MessageBody`). Up to 5
   * leaf keys and 150 combinations of values. Not with `filterPolicy`.
   *
   * @default - every message (no filter)
   */
  readonly filterPolicyWithMessageBody?: { [key: string]: sns.FilterOrPolicy };

  /**
   * Whether SNS delivers the published message as the SQS body, with its message attributes as SQS
   * message attributes (raw), instead of the SNS JSON envelope. SQS's limit of 10 message
   * attributes applies to raw messages: a message with more cannot be delivered raw and goes to the
   * subscription's dead-letter queue.
   *
   * @default true - the kit's consumers read the SQS body and message attributes
   */
  readonly rawMessageDelivery?: boolean;

  /**
   * Whether the subscription gets a dead-letter queue of its own (its redrive policy), for the
   * messages SNS cannot deliver to the queue.
   *
   * @default true
   */
  readonly deploySubscriptionDeadLetterQueue?: boolean;

  /**
   * Props for the subscription's dead-letter queue, merged over the kit's defaults.
   *
   * @default - the subscription queue's encryption (SSE-SQS, or its customer managed key), 14-day
   * retention, TLS-only policy, FIFO for a FIFO topic
   */
  readonly subscriptionDeadLetterQueueProps?: sqs.QueueProps;

  /**
   * A function that consumes the subscription queue, through a {@link WorkQueue} over it (partial
   * batch responses, visibility timeout 6 x its timeout + the batching window). Its invocations
   * compete for the messages (the shared-subscription pattern), up to `maxConcurrency`.
   *
   * @default - no consumer: read the queue yourself (`grantConsumeMessages`)
   */
  readonly consumer?: lambda.IFunction;

  /**
   * The consumer's timeout, when it cannot be read from `consumer` (an imported function).
   *
   * @default - `consumer.timeout` for a `lambda.Function`; required for imported functions
   */
  readonly consumerTimeout?: Duration;

  /**
   * Messages per batch: 1–10 for a FIFO topic, 1–10,000 for a standard one (above 10 requires a
   * `maxBatchingWindow`). Needs `consumer`.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long the event source mapping gathers messages before invoking the consumer. Not for a
   * FIFO topic. Needs `consumer`.
   *
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * The most concurrent consumer invocations on this subscription (2–1000). Needs `consumer`.
   *
   * @default - no limit beyond the function's and the account's concurrency
   */
  readonly maxConcurrency?: number;

  /**
   * An idempotency table for the consumer (read/write grant and `IDEMPOTENCY_TABLE_NAME`). SNS and SQS
   * both deliver at least once: a consumer with side effects should be idempotent. Needs `consumer`.
   *
   * @default - none
   */
  readonly idempotencyTable?: IdempotencyTable;
}

/** Props of {@link FanOutSubscription}. */
export interface FanOutSubscriptionProps extends FanOutSubscriptionOptions {
  /** The topic to subscribe to (a {@link FanOut}'s `topic`, or any SNS topic). */
  readonly topic: sns.ITopic;
}

/**
 * A durable subscription of a fan-out topic: an SQS queue (the kit's queue builder: its own
 * dead-letter queue, encryption at rest, TLS-only policy) subscribed to the topic, with a filter
 * policy, raw delivery, and a dead-letter queue of the subscription itself for what SNS cannot
 * deliver. The queue policy lets only this topic send (`aws:SourceArn`); a customer managed key
 * gets the same condition. Optionally consumed by a function through a {@link WorkQueue}.
 *
 * Usually created with {@link FanOut.addQueueSubscription}; construct it yourself to subscribe a
 * queue in another stack or scope.
 *
 * Alarms (ids for `alarms.overrides`): `DeadLetterQueueNotEmpty` (the consumer failed a message
 * `maxReceiveCount` times), `OldestMessageTooOld` (older than 3600 seconds for 3 minutes),
 * `SubscriptionDeadLetterQueueNotEmpty` (SNS could not deliver a message).
 */
export class FanOutSubscription extends MessagingPattern {
  /** The topic subscribed to. */
  public readonly topic: sns.ITopic;
  /** The subscription queue. */
  public readonly queue: sqs.IQueue;
  /** The queue's dead-letter queue (consumer failures), when it has one the kit knows of. */
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The subscription's dead-letter queue (messages SNS could not deliver), unless turned off. */
  public readonly subscriptionDeadLetterQueue?: sqs.IQueue;
  /** The customer managed key encrypting the queues, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** The SNS subscription. */
  public readonly subscription: sns.Subscription;
  /** The work queue feeding `consumer`, when one was given. */
  public readonly workQueue?: WorkQueue;
  /** Whether messages arrive raw (the published message as the body). */
  public readonly rawMessageDelivery: boolean;
  /** The visibility timeout the queue was given (`undefined` for an existing queue). */
  public readonly visibilityTimeout?: Duration;
  /** Receives before a message moves to the queue's dead-letter queue, when known. */
  public readonly maxReceiveCount?: number;

  constructor(scope: Construct, id: string, props: FanOutSubscriptionProps) {
    super(scope, id, props);
    // See the subscription below: set before any child is added.
    this.node.setContext(cxapi.SNS_SUBSCRIPTIONS_SQS_DECRYPTION_POLICY, true);

    const v = new PropsValidator(this);
    const { fifo, visibilityTimeout } = validateFanOutSubscriptionProps(v, props, id);
    v.throwIfInvalid();

    this.topic = props.topic;
    this.rawMessageDelivery = props.rawMessageDelivery ?? FAN_OUT_RAW_MESSAGE_DELIVERY;
    const what = `the fan-out subscription ${this.node.path}`;

    const built: BuiltQueue = props.existingQueue
      ? existingQueueOf(this, props.existingQueue, !props.consumer)
      : buildQueue(this, { ...props, fifo, visibilityTimeout, deadLetterQueueOf: what });
    this.queue = built.queue;
    this.deadLetterQueue = built.deadLetterQueue;
    this.encryptionKey = built.encryptionKey;
    this.maxReceiveCount = built.maxReceiveCount;
    this.visibilityTimeout = built.created ? (visibilityTimeout ?? DEFAULT_VISIBILITY_TIMEOUT) : undefined;
    if (props.existingQueue && !(props.existingQueue instanceof sqs.Queue)) {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:importedQueue',
        `existingQueue ${props.existingQueue.node.path} was imported, so the kit could not add the queue policy that lets the topic send to it: ` +
          'allow sns.amazonaws.com sqs:SendMessage with the condition ArnEquals aws:SourceArn = the topic, or SNS drops every message.',
      );
    }
    if (this.encryptionKey && !canEditKeyPolicy(this.encryptionKey)) warnImportedKey(this, this.encryptionKey, `the queue of ${what}`);

    const deployDlq = props.deploySubscriptionDeadLetterQueue ?? FAN_OUT_SUBSCRIPTION_DEAD_LETTER_QUEUE;
    this.subscriptionDeadLetterQueue = deployDlq
      ? buildSubscriptionDeadLetterQueue(this, {
          topic: this.topic,
          fifo,
          props: props.subscriptionDeadLetterQueueProps,
          key: this.encryptionKey,
          of: what,
        })
      : undefined;

    // CDK's SqsSubscription: the queue policy for this topic only (aws:SourceArn), SNS's statement on
    // the queue's key, the region and service principal of cross-region topics, the subscription
    // after the policy. The key statement carries aws:SourceArn only under a feature flag read from
    // the topic's scope: FanOut sets it in its own scope; a topic from a scope that does not have it
    // is subscribed through a reference to the same ARN inside this construct, where the flag is set.
    const topic = FeatureFlags.of(props.topic).isEnabled(cxapi.SNS_SUBSCRIPTIONS_SQS_DECRYPTION_POLICY)
      ? props.topic
      : sns.Topic.fromTopicArn(this, 'TopicReference', props.topic.topicArn);
    this.subscription = topic.addSubscription(
      new subs.SqsSubscription(this.queue, {
        rawMessageDelivery: this.rawMessageDelivery,
        filterPolicy: props.filterPolicy,
        filterPolicyWithMessageBody: props.filterPolicyWithMessageBody,
        deadLetterQueue: this.subscriptionDeadLetterQueue,
      }),
    );
    // SNS may redrive from the first message on: the dead-letter queue's policy (which lets SNS
    // send) exists first. The queue itself is a dependency already, through the redrive policy's ARN.
    const dlqPolicy = this.subscriptionDeadLetterQueue?.node.tryFindChild('Policy'); // the queue's sqs.QueuePolicy
    if (dlqPolicy) this.subscription.node.addDependency(dlqPolicy);

    if (props.consumer) {
      this.workQueue = new WorkQueue(this, 'WorkQueue', {
        existingQueue: this.queue,
        consumer: props.consumer,
        consumerTimeout: props.consumerTimeout,
        batchSize: props.batchSize,
        maxBatchingWindow: props.maxBatchingWindow,
        maxConcurrency: props.maxConcurrency,
        idempotencyTable: props.idempotencyTable,
        // The subscription's alarms are its own (below), whether or not it has a consumer.
        alarms: { overrides: { [DEAD_LETTER_QUEUE_ALARM]: { enabled: false }, [OLDEST_MESSAGE_ALARM]: { enabled: false } } },
      });
    }

    deadLetterQueueAlarm(this, props.alarms, this.deadLetterQueue, `Fan-out subscription ${this.node.path}`);
    oldestMessageAlarm(this, props.alarms, this.queue, `Fan-out subscription ${this.node.path}`);
    subscriptionDeadLetterQueueAlarm(this, props.alarms, this.subscriptionDeadLetterQueue, `Fan-out subscription ${this.node.path}`);
  }

  /** Grants `grantee` permission to receive and delete messages from the subscription queue (and to decrypt them). */
  public grantConsumeMessages(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantConsumeMessages(grantee);
  }

  /** Grants `grantee` permission to read and delete messages from the queue's dead-letter queue (operators), and to decrypt them. */
  public grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [this.deadLetterQueue?.grantConsumeMessages(grantee)],
      'the subscription queue has no dead-letter queue the kit knows of',
    );
  }

  /** Grants `grantee` permission to read and delete messages from the subscription's dead-letter queue (operators), and to decrypt them. */
  public grantConsumeSubscriptionDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [this.subscriptionDeadLetterQueue?.grantConsumeMessages(grantee)],
      'the subscription has no dead-letter queue (deploySubscriptionDeadLetterQueue: false)',
    );
  }

  /** Messages waiting in the subscription queue (Maximum over 1 minute). */
  public metricVisibleMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateNumberOfMessagesVisible', props);
  }

  /** Messages received and not yet deleted: work in progress (Maximum over 1 minute). */
  public metricInFlightMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateNumberOfMessagesNotVisible', props);
  }

  /** Age of the oldest message in the subscription queue, in seconds (Maximum over 1 minute). */
  public metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateAgeOfOldestMessage', props);
  }

  /** Messages in the queue's dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return optionalQueueMetric(this.deadLetterQueue, 'ApproximateNumberOfMessagesVisible', props);
  }

  /** Messages in the subscription's dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricSubscriptionDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return optionalQueueMetric(this.subscriptionDeadLetterQueue, 'ApproximateNumberOfMessagesVisible', props);
  }
}

/** An existing queue as the queue builder describes it; `warn` when nobody else (a WorkQueue over it) says it has no DLQ. */
function existingQueueOf(scope: Construct, queue: sqs.IQueue, warn: boolean): BuiltQueue {
  if (warn) return buildQueue(scope, { existingQueue: queue });
  const redrive = queue instanceof sqs.Queue ? queue.deadLetterQueue : undefined;
  return {
    queue,
    deadLetterQueue: redrive?.queue,
    maxReceiveCount: redrive?.maxReceiveCount,
    encryptionKey: queue.encryptionMasterKey,
    created: false,
  };
}

/**
 * Checks a fan-out queue subscription's props into `v`, and returns what the constructor derives:
 * whether the queues are FIFO (the topic's type) and the visibility timeout of a queue the kit
 * creates for a consumer. With a consumer, the work queue's checks run on the same validator.
 * `name` (the subscription's id) goes into the messages of the encryption problems.
 */
export function validateFanOutSubscriptionProps(
  v: PropsValidator,
  props: FanOutSubscriptionProps,
  name = 'subscription',
): { fifo: boolean; visibilityTimeout?: Duration } {
  const topicFifo = props.topic.fifo;
  const fifo = isUnresolved(topicFifo) ? (props.queueProps?.fifo ?? props.existingQueue?.fifo ?? false) : topicFifo;
  const q = props.queueProps;
  const type = (f: boolean) => (f ? 'FIFO' : 'standard');

  validateFilterPolicies(v, props);

  // A FIFO topic keeps order per message group only into FIFO queues; a standard topic cannot deliver to one.
  if (q?.fifo !== undefined && !isUnresolved(q.fifo)) {
    v.check(
      'queueProps.fifo:mismatch',
      q.fifo === fifo,
      `queueProps.fifo must match the topic: a ${type(fifo)} topic is subscribed with a ${type(fifo)} queue (given ${q.fifo})` +
        (fifo ? '; a standard queue would lose the order and deduplication the FIFO topic promises' : ''),
    );
  }
  if (props.existingQueue && !isUnresolved(props.existingQueue.fifo)) {
    v.check(
      'existingQueue:mismatch',
      props.existingQueue.fifo === fifo,
      `existingQueue must be a ${type(fifo)} queue for a ${type(fifo)} topic (given the ${type(props.existingQueue.fifo)} queue ${props.existingQueue.node.path})`,
    );
  }

  // SNS cannot use the AWS managed key aws/sqs: every message to such a queue is dropped, on AWS (the emulator does not check).
  const dropped = 'SNS cannot use the AWS managed key alias/aws/sqs, so every message sent to this subscription would be dropped';
  v.check(
    'queueProps.encryption:unsupported',
    q?.encryption !== sqs.QueueEncryption.KMS_MANAGED,
    `queueProps.encryption must not be KMS_MANAGED for the queue of subscription '${name}': ${dropped}; use SQS_MANAGED (the default), KMS, or pass encryptionKey (given KMS_MANAGED)`,
  );
  v.check(
    'queueProps.encryptionMasterKey:unsupported',
    !isAwsManagedSqsKey(q?.encryptionMasterKey),
    `queueProps.encryptionMasterKey must not be the AWS managed key alias/aws/sqs for the queue of subscription '${name}': ${dropped}; use a customer managed key (given ${q?.encryptionMasterKey?.node.path})`,
  );
  v.check(
    'encryptionKey:unsupported',
    !isAwsManagedSqsKey(props.encryptionKey),
    `encryptionKey must not be the AWS managed key alias/aws/sqs for the queue of subscription '${name}': ${dropped}; use a customer managed key (given ${props.encryptionKey?.node.path})`,
  );
  if (props.existingQueue) {
    v.check(
      'existingQueue:unsupported',
      !isAwsManagedQueueKey(props.existingQueue) && !isAwsManagedSqsKey(props.existingQueue.encryptionMasterKey),
      `existingQueue must not be encrypted with the AWS managed key alias/aws/sqs (subscription '${name}'): ${dropped}; re-encrypt it with SSE-SQS or a customer managed key (given ${props.existingQueue.node.path})`,
    );
  }

  validateSubscriptionDeadLetterQueue(v, props.deploySubscriptionDeadLetterQueue, props.subscriptionDeadLetterQueueProps, fifo);

  // The queue: shared queue props, and with a consumer the work queue's checks (batching, visibility timeout).
  const queueProps = q ? { ...q, fifo: undefined } : undefined; // its type is checked above, against the topic
  const queueInputs = {
    existingQueue: props.existingQueue,
    queueProps,
    fifo: props.existingQueue ? undefined : fifo,
    deployDeadLetterQueue: props.deployDeadLetterQueue,
    deadLetterQueueProps: props.deadLetterQueueProps,
    maxReceiveCount: props.maxReceiveCount,
    encryptionKey: props.encryptionKey,
  };
  let visibilityTimeout: Duration | undefined;
  if (props.consumer) {
    ({ visibilityTimeout } = validateWorkQueueProps(v, {
      ...queueInputs,
      consumer: props.consumer,
      consumerTimeout: props.consumerTimeout,
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      idempotencyTable: props.idempotencyTable,
    }));
  } else {
    validateQueueInputs(v, queueInputs);
    for (const [name, value] of Object.entries({
      consumerTimeout: props.consumerTimeout,
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      idempotencyTable: props.idempotencyTable,
    })) {
      v.check(
        'consumer:required',
        value === undefined,
        `${name} needs a consumer: it configures the consumer of the subscription queue (given ${name} without consumer)`,
      );
    }
  }

  validateAlarms(v, props.alarms, FAN_OUT_SUBSCRIPTION_ALARMS);
  validateOldestMessageAlarm(v, props.alarms, q?.retentionPeriod ?? SQS_DEFAULT_RETENTION);
  return { fifo, visibilityTimeout };
}
