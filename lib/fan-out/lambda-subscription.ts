import { ArnFormat, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps, validateAlarms } from '../core/alarms';
import { FAN_OUT_SUBSCRIPTION_DEAD_LETTER_QUEUE } from '../core/defaults';
import { combineGrants } from '../core/grants';
import { optionalQueueMetric } from '../core/metrics';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator, isUnresolved } from '../core/validation';
import { SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM, subscriptionDeadLetterQueueAlarm } from './private/alarms';
import { validateFilterPolicies } from './private/filters';
import { buildSubscriptionDeadLetterQueue, validateSubscriptionDeadLetterQueue } from './private/subscription-dlq';

/** The ids of a fan-out Lambda subscription's alarms, for `alarms.overrides`. */
export const FAN_OUT_LAMBDA_SUBSCRIPTION_ALARMS = [SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM];

/** Options of a Lambda subscription of a {@link FanOut}: {@link FanOut.addLambdaSubscription}. */
export interface FanOutLambdaSubscriptionOptions extends MessagingPatternProps {
  /**
   * Delivers only messages whose message attributes match (SNS `FilterPolicyScope: MessageAttributes`).
   * Not with `filterPolicyWithMessageBody`.
   *
   * @default - every message (no filter)
   */
  readonly filterPolicy?: { [attribute: string]: sns.SubscriptionFilter };

  /**
   * Delivers only messages whose JSON body matches (SNS `FilterPolicyScope: MessageBody`). Not with
   * `filterPolicy`.
   *
   * @default - every message (no filter)
   */
  readonly filterPolicyWithMessageBody?: { [key: string]: sns.FilterOrPolicy };

  /**
   * Whether the subscription gets a dead-letter queue of its own (its redrive policy), for the
   * messages SNS cannot hand to Lambda (the function deleted, the invocation refused).
   *
   * @default true
   */
  readonly deploySubscriptionDeadLetterQueue?: boolean;

  /**
   * Props for the subscription's dead-letter queue, merged over the kit's defaults.
   *
   * @default - SSE-SQS, 14-day retention, TLS-only policy
   */
  readonly subscriptionDeadLetterQueueProps?: sqs.QueueProps;
}

/** Props of {@link FanOutLambdaSubscription}. */
export interface FanOutLambdaSubscriptionProps extends FanOutLambdaSubscriptionOptions {
  /** The topic to subscribe to (a standard topic: FIFO topics deliver to SQS queues only). */
  readonly topic: sns.ITopic;
  /** The function SNS invokes, asynchronously, with each message. */
  readonly fn: lambda.IFunction;
}

/**
 * A Lambda subscription of a fan-out topic: SNS invokes the function asynchronously with each
 * message (the permission is scoped to the topic), with a filter policy and a dead-letter queue of
 * the subscription for what SNS cannot hand to Lambda.
 *
 * SNS hands the message to Lambda's asynchronous queue and is done: a function that throws is
 * retried by Lambda (twice by default), then the event goes to the function's own on-failure
 * destination or dead-letter queue, which are the function's to configure. For durable processing
 * with retries you control, use a queue subscription with a consumer instead
 * ({@link FanOut.addQueueSubscription}).
 *
 * Alarms (ids for `alarms.overrides`): `SubscriptionDeadLetterQueueNotEmpty`.
 */
export class FanOutLambdaSubscription extends MessagingPattern {
  /** The topic subscribed to. */
  public readonly topic: sns.ITopic;
  /** The function invoked. */
  public readonly fn: lambda.IFunction;
  /** The SNS subscription. */
  public readonly subscription: sns.Subscription;
  /** The subscription's dead-letter queue (messages SNS could not hand to Lambda), unless turned off. */
  public readonly subscriptionDeadLetterQueue?: sqs.IQueue;

  constructor(scope: Construct, id: string, props: FanOutLambdaSubscriptionProps) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    validateFanOutLambdaSubscriptionProps(v, props);
    v.throwIfInvalid();

    this.topic = props.topic;
    this.fn = props.fn;
    const what = `the fan-out subscription ${this.node.path}`;
    const deployDlq = props.deploySubscriptionDeadLetterQueue ?? FAN_OUT_SUBSCRIPTION_DEAD_LETTER_QUEUE;
    this.subscriptionDeadLetterQueue = deployDlq
      ? buildSubscriptionDeadLetterQueue(this, { topic: this.topic, fifo: false, props: props.subscriptionDeadLetterQueueProps, of: what })
      : undefined;

    // SNS may invoke the function for this topic only.
    props.fn.addPermission(`AllowInvokeFromSns${Names.nodeUniqueId(this.node)}`, {
      principal: new iam.ServicePrincipal('sns.amazonaws.com'),
      sourceArn: this.topic.topicArn,
    });
    // The subscription lives with the function when that is in another stack (as with CDK's
    // LambdaSubscription): the function's stack then depends on the topic's, never the other way.
    const inOtherStack = Stack.of(props.fn) !== Stack.of(this);
    this.subscription = new sns.Subscription(inOtherStack ? props.fn : this, inOtherStack ? Names.nodeUniqueId(this.node) : 'Resource', {
      topic: this.topic,
      protocol: sns.SubscriptionProtocol.LAMBDA,
      endpoint: props.fn.functionArn,
      filterPolicy: props.filterPolicy,
      filterPolicyWithMessageBody: props.filterPolicyWithMessageBody,
      deadLetterQueue: this.subscriptionDeadLetterQueue,
      region: topicRegionFor(this.topic, props.fn),
    });
    // SNS may redrive from the first message on: the dead-letter queue's policy (which lets SNS
    // send) exists first. The queue itself is a dependency already, through the redrive policy's ARN.
    const dlqPolicy = this.subscriptionDeadLetterQueue?.node.tryFindChild('Policy'); // the queue's sqs.QueuePolicy
    if (dlqPolicy) this.subscription.node.addDependency(dlqPolicy);

    subscriptionDeadLetterQueueAlarm(this, props.alarms, this.subscriptionDeadLetterQueue, `Fan-out subscription ${this.node.path}`);
  }

  /** Grants `grantee` permission to read and delete messages from the subscription's dead-letter queue (operators), and to decrypt them. */
  public grantConsumeSubscriptionDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [this.subscriptionDeadLetterQueue?.grantConsumeMessages(grantee)],
      'the subscription has no dead-letter queue (deploySubscriptionDeadLetterQueue: false)',
    );
  }

  /** Messages in the subscription's dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricSubscriptionDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return optionalQueueMetric(this.subscriptionDeadLetterQueue, 'ApproximateNumberOfMessagesVisible', props);
  }
}

/** The topic's region when it differs from the function's (a cross-region subscription), else undefined. */
function topicRegionFor(topic: sns.ITopic, fn: lambda.IFunction): string | undefined {
  const fnRegion = Stack.of(fn).region;
  const topicRegion =
    topic instanceof sns.Topic ? topic.env.region : Stack.of(topic).splitArn(topic.topicArn, ArnFormat.SLASH_RESOURCE_NAME).region;
  if (Token.isUnresolved(fnRegion) || Token.isUnresolved(topicRegion) || !topicRegion) return undefined;
  return topicRegion === fnRegion ? undefined : topicRegion;
}

/** Checks a fan-out Lambda subscription's props into `v`. */
export function validateFanOutLambdaSubscriptionProps(v: PropsValidator, props: FanOutLambdaSubscriptionProps): void {
  if (!isUnresolved(props.topic.fifo)) {
    v.check(
      'fn:unsupported',
      !props.topic.fifo,
      `a FIFO topic delivers to SQS queues only: subscribe a queue with this function as its consumer instead (given a Lambda subscription of the FIFO topic ${props.topic.node.path})`,
    );
  }
  validateFilterPolicies(v, props);
  validateSubscriptionDeadLetterQueue(v, props.deploySubscriptionDeadLetterQueue, props.subscriptionDeadLetterQueueProps, false);
  validateAlarms(v, props.alarms, FAN_OUT_LAMBDA_SUBSCRIPTION_ALARMS);
}
