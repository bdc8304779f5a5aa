import { Duration, Names, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmsProps, MessagingPatternProps, createAlarm, validateAlarms } from '../core/alarms';
import {
  DEAD_LETTER_ALARM_THRESHOLD,
  DEAD_LETTER_RETENTION,
  DEFAULT_BATCH_SIZE,
  MAX_REPLY_QUEUE_IDLE_TIMEOUT,
  MIN_REPLY_QUEUE_IDLE_TIMEOUT,
  REAPER_RUNS_PER_IDLE_TIMEOUT,
  REAPER_TIMEOUT,
  REPLY_QUEUE_IDLE_TIMEOUT,
} from '../core/defaults';
import { connectFunction } from '../core/grants';
import { KitFunction } from '../core/kit-function';
import { SQS_SMALL_BATCH_SIZE } from '../core/limits';
import { queueMetric } from '../core/metrics';
import { acknowledgeDeadLetterQueue, acknowledgeWildcardResource } from '../core/nag';
import { MessagingPattern } from '../core/pattern';
import { QueueInputProps, buildQueue } from '../core/queue-builder';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';
import { WORK_QUEUE_ALARMS, WorkQueue, WorkQueueProps, validateWorkQueueProps } from '../work-queue/work-queue';

/** The id of the alarm on the reaper schedule's dead-letter queue, for `alarms.overrides`. */
const REAPER_SCHEDULE_DEAD_LETTER_ALARM = 'ReaperScheduleDeadLetterQueueNotEmpty';
/** The ids of RequestReply's alarms: the request queue's (a work queue's), and the reaper schedule's. */
const REQUEST_REPLY_ALARMS = [...WORK_QUEUE_ALARMS, REAPER_SCHEDULE_DEAD_LETTER_ALARM];

/** Props of {@link RequestReply}. */
export interface RequestReplyProps extends QueueInputProps, MessagingPatternProps {
  /**
   * The function that answers requests, fed by the request queue. Write it with `requestHandler`
   * from `cdk-messaging-patterns/runtime/request-reply`.
   */
  readonly responder: lambda.IFunction;

  /**
   * The responder's timeout, when it cannot be read from `responder` (an imported function).
   *
   * @default - `responder.timeout` for a `lambda.Function`
   */
  readonly responderTimeout?: Duration;

  /**
   * Requests per responder invocation, 1–10 (no batching window: a request waits for nothing).
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * The most concurrent responder invocations (2–1000).
   *
   * @default - no limit beyond the function's and the account's concurrency
   */
  readonly maxConcurrency?: number;

  /**
   * Name prefix of the reply queues requesters create at run time (one per requester instance),
   * 8–60 letters, digits, `-` or `_`. Requesters and the reaper get rights on `<prefix>*` only, so
   * it must not be the start of any other queue's name.
   *
   * @default - a name unique to this construct, ending in `-reply-`
   */
  readonly replyQueuePrefix?: string;

  /**
   * How long a reply queue may go unused before the reaper deletes it (its requester is gone: a
   * Lambda execution environment that was shut down, a process that ended). Requesters refresh a
   * heartbeat tag when a quarter of this has passed; keep request timeouts far below it. 5 minutes
   * to 7 days.
   *
   * @default Duration.hours(1)
   */
  readonly replyQueueIdleTimeout?: Duration;

  /**
   * When the reaper runs.
   *
   * @default - every quarter of `replyQueueIdleTimeout` (15 minutes by default)
   */
  readonly reaperSchedule?: events.Schedule;
}

/**
 * Request-reply over SQS with correlation ids.
 *
 * Requesters send requests to one request queue (a `WorkQueue`: DLQ, encryption, TLS-only, alarms)
 * answered by the responder function; each request carries a correlation id, an expiry and the URL
 * of the requester's own reply queue. Each requester instance (a Lambda execution environment, a
 * process) creates one reply queue at run time under `replyQueuePrefix` and is its only reader, so
 * a reply can never reach another requester; replies nobody waits for (timed out, duplicates) are
 * dropped with a log. A scheduled reaper deletes reply queues whose requester is gone.
 *
 * Alarms (ids for `alarms.overrides`): the request queue's `DeadLetterQueueNotEmpty` and
 * `OldestMessageTooOld`, and `ReaperScheduleDeadLetterQueueNotEmpty`, on the dead-letter queue of
 * the reaper's schedule (ticks EventBridge could not deliver to the reaper).
 *
 * @example
 * const quotes = new RequestReply(this, 'Quotes', { responder: quoteFn });
 * quotes.connectRequester(apiFn);   // apiFn: SqsRequester.fromEnvironment().request(payload, { timeoutMs: 5000 })
 */
export class RequestReply extends MessagingPattern {
  /** The request side: request queue, dead-letter queue, event source mapping and alarms. */
  public readonly requests: WorkQueue;
  /** The request queue. */
  public readonly requestQueue: sqs.IQueue;
  /** Its dead-letter queue, when it has one the kit knows of. */
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The customer managed key encrypting the request queues, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** Name prefix of the reply queues. */
  public readonly replyQueuePrefix: string;
  /** ARN pattern of the reply queues (`arn:...:sqs:<region>:<account>:<prefix>*`). */
  public readonly replyQueueArnPattern: string;
  /** The function deleting idle reply queues. */
  public readonly reaper: lambda.Function;
  /** How long a reply queue may go unused before it is deleted. */
  public readonly replyQueueIdleTimeout: Duration;
  /**
   * Where EventBridge puts the reaper's schedule ticks it could not deliver (the function was
   * missing, or its resource policy refused EventBridge), watched by an alarm.
   */
  public readonly reaperScheduleDeadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: RequestReplyProps) {
    super(scope, id, props);
    const requestsProps: WorkQueueProps = {
      existingQueue: props.existingQueue,
      queueProps: props.queueProps,
      deployDeadLetterQueue: props.deployDeadLetterQueue,
      deadLetterQueueProps: props.deadLetterQueueProps,
      maxReceiveCount: props.maxReceiveCount,
      encryptionKey: props.encryptionKey,
      consumer: props.responder,
      consumerTimeout: props.responderTimeout,
      batchSize: props.batchSize ?? DEFAULT_BATCH_SIZE,
      maxConcurrency: props.maxConcurrency,
      alarms: requestAlarms(props.alarms),
    };
    const v = new PropsValidator(this);
    v.check(
      'queueProps.fifo:unsupported',
      props.queueProps?.fifo !== true,
      'queueProps.fifo must not be true: requests are independent, and replies are matched by correlation id, not order (given true)',
    );
    // Stricter than the work queue's batch limits, which are therefore not checked again below.
    v.integerInRange('batchSize', props.batchSize, 1, SQS_SMALL_BATCH_SIZE);
    v.durationInRange('replyQueueIdleTimeout', props.replyQueueIdleTimeout, MIN_REPLY_QUEUE_IDLE_TIMEOUT, MAX_REPLY_QUEUE_IDLE_TIMEOUT);
    v.matches(
      'replyQueuePrefix',
      props.replyQueuePrefix,
      /^[A-Za-z0-9_-]{8,60}$/,
      '8-60 letters, digits, - or _, so that <prefix>* names only reply queues',
    );
    if (props.replyQueuePrefix !== undefined && !isUnresolved(props.replyQueuePrefix)) {
      const requestName = props.queueProps?.queueName;
      if (requestName && !isUnresolved(requestName)) {
        v.check(
          'replyQueuePrefix:conflict',
          !requestName.startsWith(props.replyQueuePrefix),
          `replyQueuePrefix must not start the request queue's name, or requesters could delete it (given ${describeValue(props.replyQueuePrefix)} and queue ${describeValue(requestName)})`,
        );
      }
    }
    validateAlarms(v, props.alarms, REQUEST_REPLY_ALARMS);
    // The request side's problems (shared queue props, concurrency, alarms, visibility timeout) and
    // this construct's own come out together, under this construct's path.
    validateWorkQueueProps(v, { ...requestsProps, batchSize: undefined });
    v.throwIfInvalid();

    this.requests = new WorkQueue(this, 'Requests', requestsProps);
    this.requestQueue = this.requests.queue;
    this.deadLetterQueue = this.requests.deadLetterQueue;
    this.encryptionKey = this.requests.encryptionKey;

    this.replyQueuePrefix = props.replyQueuePrefix ?? `${Names.uniqueResourceName(this, { maxLength: 40, separator: '-' })}-reply-`;
    const stack = Stack.of(this);
    this.replyQueueArnPattern = `arn:${stack.partition}:sqs:${stack.region}:${stack.account}:${this.replyQueuePrefix}*`;
    this.replyQueueIdleTimeout = props.replyQueueIdleTimeout ?? REPLY_QUEUE_IDLE_TIMEOUT;

    // The responder replies to reply queues only, and checks reply-to addresses against the prefix.
    connectFunction(this, props.responder, { [ENV.replyQueuePrefix]: this.replyQueuePrefix }, this.grantReply(props.responder));

    // The reaper.
    this.reaper = new KitFunction(this, 'Reaper', {
      handler: 'request-reply/reaper',
      functionProps: {
        description: `Deletes idle reply queues of ${this.node.path}`,
        timeout: REAPER_TIMEOUT,
        environment: {
          [ENV.replyQueuePrefix]: this.replyQueuePrefix,
          [ENV.replyQueueIdleTimeoutSeconds]: String(this.replyQueueIdleTimeout.toSeconds()),
        },
      },
      synchronousOnlyReason:
        'Invoked only by its schedule. A missed run loses nothing: idle reply queues are deleted by the next run, and they hold no message anyone waits for.',
    });
    const accountQueues = `arn:${stack.partition}:sqs:${stack.region}:${stack.account}:*`;
    this.reaper.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:ListQueues'], resources: [accountQueues] }));
    this.reaper.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sqs:ListQueueTags', 'sqs:GetQueueAttributes', 'sqs:DeleteQueue'],
        resources: [this.replyQueueArnPattern],
      }),
    );
    acknowledgeWildcardResource(
      this.reaper.role!,
      accountQueues,
      "sqs:ListQueues is authorised on the account's queue wildcard only (arn:...:sqs:<region>:<account>:*); the reaper lists with a name prefix and acts on <prefix>* queues only.",
    );
    acknowledgeWildcardResource(
      this.reaper.role!,
      this.replyQueueArnPattern,
      "Reply queues are created at run time, one per requester instance, under this construct's own name prefix: their names are not known at synth time.",
    );

    const minutes = Math.max(1, Math.floor(this.replyQueueIdleTimeout.toMinutes({ integral: false }) / REAPER_RUNS_PER_IDLE_TIMEOUT));
    const rule = new events.Rule(this, 'ReaperSchedule', {
      schedule: props.reaperSchedule ?? events.Schedule.rate(Duration.minutes(minutes)),
      description: `Deletes idle reply queues of ${this.node.path}`,
    });
    // A tick carries no data, but one EventBridge cannot deliver means the reaper is not running
    // (reply queues pile up towards the account's queue quota): it lands here, and the alarm says so.
    this.reaperScheduleDeadLetterQueue = buildQueue(this, {
      deployDeadLetterQueue: false,
      queueProps: { retentionPeriod: DEAD_LETTER_RETENTION },
      ids: { queue: 'ReaperScheduleDeadLetterQueue' },
    }).queue;
    acknowledgeDeadLetterQueue(this.reaperScheduleDeadLetterQueue, "the reaper's schedule");
    rule.addTarget(new targets.LambdaFunction(this.reaper, { retryAttempts: 0, deadLetterQueue: this.reaperScheduleDeadLetterQueue }));
    createAlarm(this, props.alarms, {
      id: REAPER_SCHEDULE_DEAD_LETTER_ALARM,
      metric: queueMetric(this.reaperScheduleDeadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
      threshold: DEAD_LETTER_ALARM_THRESHOLD,
      description: () =>
        `Request-reply ${this.node.path}: EventBridge could not deliver the reaper's schedule ticks to the reaper, so idle reply queues are not deleted. Check the function and its resource policy; the ticks carry no data (purge them once fixed).`,
    });
    this._showOnDashboard(this.metricWaitingRequests(), this.metricOldestRequestAge());
  }

  /**
   * Makes `fn` a requester: grants {@link grantRequest} and sets the variables
   * `SqsRequester.fromEnvironment()` reads.
   */
  public connectRequester(fn: lambda.IFunction): iam.Grant {
    return connectFunction(
      this,
      fn,
      {
        [ENV.requestQueueUrl]: this.requestQueue.queueUrl,
        [ENV.requestQueueArn]: this.requestQueue.queueArn,
        [ENV.replyQueuePrefix]: this.replyQueuePrefix,
        [ENV.replyQueueIdleTimeoutSeconds]: String(this.replyQueueIdleTimeout.toSeconds()),
      },
      this.grantRequest(fn),
    );
  }

  /**
   * Grants `grantee` what a requester needs: send to the request queue (and, on a customer managed
   * key, only `kms:GenerateDataKey` and `kms:Decrypt`), and create, tag, read and delete its own
   * reply queue under the prefix.
   *
   * The reply-queue statement names `<prefix>*`: cdk-nag reports AwsSolutions-IAM5 on the grantee's
   * policy; acknowledge it there with the reason that reply queues are created at run time.
   */
  public grantRequest(grantee: iam.IGrantable): iam.Grant {
    const send = this.requests.grantSend(grantee);
    const replies = iam.Grant.addToPrincipal({
      grantee,
      // CreateQueue with tags needs TagQueue too; TagQueue also refreshes the heartbeat.
      actions: ['sqs:CreateQueue', 'sqs:TagQueue', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:DeleteQueue'],
      resourceArns: [this.replyQueueArnPattern],
    });
    return send.combine(replies);
  }

  /** Grants `grantee` (a responder) permission to send replies to reply queues. */
  public grantReply(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [this.replyQueueArnPattern] });
  }

  /** Requests waiting for a responder (Maximum over 1 minute). */
  public metricWaitingRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.requests.metricVisibleMessages(props);
  }

  /** Age of the oldest request, in seconds (Maximum over 1 minute): requesters time out long before it grows. */
  public metricOldestRequestAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.requests.metricOldestMessageAge(props);
  }

  /** Requests in the dead-letter queue (Maximum over 1 minute), if there is one. */
  public metricDeadLetterRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.requests.metricDeadLetterMessages(props);
  }
}

/**
 * The alarm props of the request side (a work queue): the overrides of the work queue's alarms
 * only, so that it neither rejects nor creates this construct's own.
 */
function requestAlarms(alarms: AlarmsProps | undefined): AlarmsProps | undefined {
  if (!alarms?.overrides) return alarms;
  const overrides = Object.fromEntries(Object.entries(alarms.overrides).filter(([id]) => WORK_QUEUE_ALARMS.includes(id)));
  return { ...alarms, overrides };
}
