import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { DEAD_LETTER_QUEUE_ALARM, MessagingPatternProps, OLDEST_MESSAGE_ALARM, createAlarm, validateAlarms } from '../core/alarms';
import { FAN_OUT_CONTENT_BASED_DEDUPLICATION, NOTIFICATIONS_FAILED_ALARM_THRESHOLD } from '../core/defaults';
import { MessagingPatternsError } from '../core/errors';
import { combineGrants, connectFunction } from '../core/grants';
import { ConnectOptions, MessagingPattern } from '../core/pattern';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';
import { FAN_OUT_LAMBDA_SUBSCRIPTION_ALARMS, FanOutLambdaSubscription, FanOutLambdaSubscriptionOptions } from './lambda-subscription';
import { NOTIFICATIONS_FAILED_ALARM, SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM, inheritAlarms } from './private/alarms';
import { topicMetric } from './private/metrics';
import { FAN_OUT_SUBSCRIPTION_ALARMS, FanOutSubscription, FanOutSubscriptionOptions } from './subscription';

/**
 * The ids of a fan-out's alarms, for `alarms.overrides`: the topic's, and those of its subscriptions
 * (an override of a subscription alarm applies to every subscription added with `add…Subscription`).
 */
export const FAN_OUT_ALARMS = [
  NOTIFICATIONS_FAILED_ALARM,
  DEAD_LETTER_QUEUE_ALARM,
  OLDEST_MESSAGE_ALARM,
  SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM,
];

/** Subscription names: construct ids that make readable logical ids. */
const SUBSCRIPTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Props of {@link FanOut}. */
export interface FanOutProps extends MessagingPatternProps {
  /**
   * An existing topic to fan out from, used as it is: the kit adds no encryption or policy to it.
   *
   * @default - a new topic is created
   */
  readonly existingTopic?: sns.ITopic;

  /**
   * Props for the topic the kit creates, merged over its defaults. The kit keeps encryption on and
   * TLS enforced whatever is given here.
   *
   * @default - encrypted with a new customer managed key (rotation on), TLS-only topic policy
   */
  readonly topicProps?: sns.TopicProps;

  /**
   * Whether the topic is FIFO: messages of one message group reach every subscriber in order,
   * deduplicated; every subscription queue (and dead-letter queue) is then FIFO.
   *
   * @default false
   */
  readonly fifo?: boolean;

  /**
   * FIFO only: whether SNS deduplicates by a SHA-256 of the body when the publisher gives no
   * `MessageDeduplicationId`. Two messages with the same body within 5 minutes are then one message.
   *
   * @default true for a FIFO topic
   */
  readonly contentBasedDeduplication?: boolean;

  /**
   * A customer managed key to encrypt the topic with.
   *
   * @default - a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Fan-out (publish/subscribe): one topic, many durable subscribers.
 *
 * An SNS topic (standard or FIFO) encrypted with a customer managed key and a TLS-only policy.
 * Each {@link addQueueSubscription} adds a subscriber of its own: an SQS queue with its dead-letter
 * queue, a filter policy (message attributes or body), raw delivery, and a dead-letter queue of the
 * subscription for what SNS cannot deliver; optionally consumed by a function as a {@link WorkQueue}.
 * A consumer's failures stay in its own queue (retries, then its dead-letter queue): the other
 * subscribers are not affected. Several invocations of one consumer compete for one subscription's
 * messages (the shared-subscription pattern, bounded by `maxConcurrency`).
 *
 * Alarms (ids for `alarms.overrides`): `NotificationsFailed` (SNS failed to deliver a notification),
 * and for every subscription `DeadLetterQueueNotEmpty`, `OldestMessageTooOld` and
 * `SubscriptionDeadLetterQueueNotEmpty`.
 *
 * @example
 * const orders = new FanOut(this, 'Orders');
 * orders.addQueueSubscription('Billing', { consumer: billingFn });
 * orders.addQueueSubscription('Refunds', {
 *   consumer: refundsFn,
 *   filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['refund'] }) },
 * });
 * orders.connectPublisher(apiFn); // grants publishing, sets FAN_OUT_TOPIC_ARN
 */
export class FanOut extends MessagingPattern {
  /** The topic. */
  public readonly topic: sns.ITopic;
  /** The customer managed key encrypting the topic, when the kit knows of one. */
  public readonly encryptionKey?: kms.IKey;
  /** Whether the topic (and so every subscription queue) is FIFO. */
  public readonly fifo: boolean;

  constructor(scope: Construct, id: string, props: FanOutProps = {}) {
    super(scope, id, props);
    // Subscribing a queue with a customer managed key adds SNS's statement to the key policy; with
    // this flag CDK scopes it to the topic (aws:SourceArn), whatever the app's flags say. It covers
    // subscriptions the user adds to `topic` with CDK's SqsSubscription too.
    this.node.setContext(cxapi.SNS_SUBSCRIPTIONS_SQS_DECRYPTION_POLICY, true);

    const v = new PropsValidator(this);
    const { fifo, contentBasedDeduplication } = validateFanOutProps(v, props);
    v.throwIfInvalid();
    this.fifo = fifo;

    if (props.existingTopic) {
      this.topic = props.existingTopic;
      this.encryptionKey = props.existingTopic.masterKey;
    } else {
      const t = props.topicProps ?? {};
      this.encryptionKey =
        props.encryptionKey ??
        t.masterKey ??
        new kms.Key(this, 'Key', {
          enableKeyRotation: true,
          description: `Encrypts the messages of the topic of ${this.node.path}`,
          removalPolicy: RemovalPolicy.DESTROY,
        });
      this.topic = new sns.Topic(this, 'Resource', {
        ...t,
        // required
        masterKey: this.encryptionKey,
        enforceSSL: true,
        fifo: fifo ? true : undefined,
        contentBasedDeduplication,
      });
    }

    createAlarm(this, props.alarms, {
      id: NOTIFICATIONS_FAILED_ALARM,
      metric: topicMetric(this.topic, 'NumberOfNotificationsFailed'),
      threshold: NOTIFICATIONS_FAILED_ALARM_THRESHOLD,
      description: (n) =>
        `Fan-out ${this.node.path}: SNS failed to deliver ${n === 1 ? 'a notification' : `${n} or more notifications`} in a minute. ` +
        'A subscription with a dead-letter queue keeps them there (SubscriptionDeadLetterQueueNotEmpty); for any other subscription they are lost.',
    });
    this._showOnDashboard(this.metricNumberOfMessagesPublished(), this.metricNumberOfNotificationsFailed());
  }

  /**
   * Adds a durable subscriber: a queue subscribed to the topic (with its dead-letter queue, its
   * filter, and the subscription's dead-letter queue), consumed by `options.consumer` if given.
   *
   * @param name the subscription's name: its construct id under `Subscriptions` (letters, digits, `-`, `_`)
   */
  public addQueueSubscription(name: string, options: FanOutSubscriptionOptions = {}): FanOutSubscription {
    return new FanOutSubscription(this.subscriptionScope(name), name, {
      ...options,
      topic: this.topic,
      alarms: inheritAlarms(this._alarmsProps, options.alarms, FAN_OUT_SUBSCRIPTION_ALARMS),
    });
  }

  /**
   * Adds a Lambda subscriber: SNS invokes `fn` asynchronously with each message it matches. Standard
   * topics only. Prefer {@link addQueueSubscription} with a consumer for durable processing: a
   * function's failures are Lambda's asynchronous retries (twice) and then its own destination.
   *
   * @param name the subscription's name: its construct id under `Subscriptions` (letters, digits, `-`, `_`)
   */
  public addLambdaSubscription(
    name: string,
    fn: lambda.IFunction,
    options: FanOutLambdaSubscriptionOptions = {},
  ): FanOutLambdaSubscription {
    return new FanOutLambdaSubscription(this.subscriptionScope(name), name, {
      ...options,
      topic: this.topic,
      fn,
      alarms: inheritAlarms(this._alarmsProps, options.alarms, FAN_OUT_LAMBDA_SUBSCRIPTION_ALARMS),
    });
  }

  /**
   * Grants `grantee` permission to publish: `sns:Publish` on the topic, and on its key (when the kit
   * knows it) only `kms:GenerateDataKey` and `kms:Decrypt`.
   */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [
        iam.Grant.addToPrincipalOrResource({
          grantee,
          actions: ['sns:Publish'],
          resourceArns: [this.topic.topicArn],
          resource: this.topic,
        }),
        this.encryptionKey?.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'),
      ],
      'nothing to grant',
    );
  }

  /**
   * Makes `fn` a publisher: {@link grantPublish}, and the topic's ARN in its `FAN_OUT_TOPIC_ARN`
   * environment variable (or `options.environmentVariable`).
   */
  public connectPublisher(fn: lambda.IFunction, options: ConnectOptions = {}): iam.Grant {
    return connectFunction(this, fn, { [options.environmentVariable ?? ENV.fanOutTopicArn]: this.topic.topicArn }, this.grantPublish(fn));
  }

  /** Messages published to the topic (Sum over 1 minute). */
  public metricNumberOfMessagesPublished(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return topicMetric(this.topic, 'NumberOfMessagesPublished', props);
  }

  /** Notifications delivered to subscribers, one per message and matching subscription (Sum over 1 minute). */
  public metricNumberOfNotificationsDelivered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return topicMetric(this.topic, 'NumberOfNotificationsDelivered', props);
  }

  /** Notifications SNS failed to deliver (Sum over 1 minute). */
  public metricNumberOfNotificationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return topicMetric(this.topic, 'NumberOfNotificationsFailed', props);
  }

  /** Notifications a subscription's filter policy rejected (Sum over 1 minute). */
  public metricNumberOfNotificationsFilteredOut(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return topicMetric(this.topic, 'NumberOfNotificationsFilteredOut', props);
  }

  /** Notifications moved to a subscription's dead-letter queue (Sum over 1 minute). */
  public metricNumberOfNotificationsRedrivenToDlq(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return topicMetric(this.topic, 'NumberOfNotificationsRedrivenToDlq', props);
  }

  /** Notifications SNS could not even move to a subscription's dead-letter queue: lost (Sum over 1 minute). */
  public metricNumberOfNotificationsFailedToRedriveToDlq(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return topicMetric(this.topic, 'NumberOfNotificationsFailedToRedriveToDlq', props);
  }

  /** The `Subscriptions` scope, after checking `name` is a new, well-formed subscription name. */
  private subscriptionScope(name: string): Construct {
    if (!SUBSCRIPTION_NAME.test(name)) {
      MessagingPatternsError.fail(
        this,
        'subscriptionName:format',
        `a subscription name must be letters, digits, '-' or '_', starting with a letter or digit (given ${describeValue(name)})`,
      );
    }
    const scope = (this.node.tryFindChild('Subscriptions') as Construct | undefined) ?? new Construct(this, 'Subscriptions');
    if (scope.node.tryFindChild(name)) {
      MessagingPatternsError.fail(
        this,
        'subscriptionName:conflict',
        `this fan-out already has a subscription named ${describeValue(name)}`,
      );
    }
    return scope;
  }
}

/**
 * Checks a fan-out's props into `v`, and returns what the constructor derives: whether the topic
 * is FIFO, and its content-based deduplication (FIFO only).
 */
export function validateFanOutProps(v: PropsValidator, props: FanOutProps): { fifo: boolean; contentBasedDeduplication?: boolean } {
  const t = props.topicProps ?? {};
  v.mutuallyExclusive({ existingTopic: props.existingTopic, topicProps: props.topicProps });
  if (props.existingTopic) {
    for (const [name, value] of Object.entries({
      encryptionKey: props.encryptionKey,
      fifo: props.fifo,
      contentBasedDeduplication: props.contentBasedDeduplication,
    })) {
      v.notWith(name, value, 'existingTopic', props.existingTopic);
    }
  }
  v.check(
    'encryptionKey:conflict',
    !(props.encryptionKey && t.masterKey),
    'encryptionKey cannot be used with topicProps.masterKey: give the key one way',
  );
  v.check(
    'topicProps.enforceSSL:insecure',
    t.enforceSSL !== false,
    'topicProps.enforceSSL must not be false: the kit denies publishing that does not use TLS (given false)',
  );
  if (props.fifo !== undefined && t.fifo !== undefined) {
    v.check('topicProps.fifo:mismatch', props.fifo === t.fifo, `fifo and topicProps.fifo disagree (given ${props.fifo} and ${t.fifo})`);
  }
  const existingFifo = props.existingTopic && !isUnresolved(props.existingTopic.fifo) ? props.existingTopic.fifo : undefined;
  const fifo = existingFifo ?? props.fifo ?? t.fifo ?? false;
  for (const [name, value] of Object.entries({
    contentBasedDeduplication: props.contentBasedDeduplication,
    'topicProps.contentBasedDeduplication': t.contentBasedDeduplication,
  })) {
    if (props.existingTopic) break;
    v.check(
      `${name}:conflict`,
      value === undefined || fifo,
      `${name} needs a FIFO topic: standard topics do not deduplicate (given ${value} for a standard topic)`,
    );
  }
  if (props.contentBasedDeduplication !== undefined && t.contentBasedDeduplication !== undefined) {
    v.check(
      'contentBasedDeduplication:mismatch',
      props.contentBasedDeduplication === t.contentBasedDeduplication,
      `contentBasedDeduplication and topicProps.contentBasedDeduplication disagree (given ${props.contentBasedDeduplication} and ${t.contentBasedDeduplication})`,
    );
  }
  if (t.topicName && !isUnresolved(t.topicName) && !fifo) {
    v.check(
      'topicProps.topicName:format',
      !t.topicName.endsWith('.fifo'),
      `topicProps.topicName must not end in '.fifo' for a standard topic (given ${describeValue(t.topicName)})`,
    );
  }
  validateAlarms(v, props.alarms, FAN_OUT_ALARMS);
  return {
    fifo,
    contentBasedDeduplication:
      fifo && !props.existingTopic
        ? (props.contentBasedDeduplication ?? t.contentBasedDeduplication ?? FAN_OUT_CONTENT_BASED_DEDUPLICATION)
        : undefined,
  };
}
