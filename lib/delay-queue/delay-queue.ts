import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEAD_LETTER_QUEUE_ALARM,
  MessagingPatternProps,
  OLDEST_MESSAGE_ALARM,
  createAlarm,
  deadLetterQueueAlarm,
  oldestMessageAlarm,
  validateAlarms,
  validateOldestMessageAlarm,
} from '../core/alarms';
import { DEAD_LETTER_ALARM_THRESHOLD, DEAD_LETTER_RETENTION, SCHEDULE_MAX_EVENT_AGE, SCHEDULE_RETRY_ATTEMPTS } from '../core/defaults';
import { combineGrants, connectFunction, grantSendOnly } from '../core/grants';
import {
  NO_DURATION,
  SCHEDULE_MAX_EVENT_AGE as SCHEDULE_EVENT_AGE_LIMIT,
  SCHEDULE_MAX_RETRY_ATTEMPTS,
  SCHEDULE_MIN_EVENT_AGE,
  SQS_DEFAULT_RETENTION,
  SQS_MAX_DELAY,
} from '../core/limits';
import { metricOptions, queueMetric } from '../core/metrics';
import { acknowledgeDeadLetterQueue, acknowledgeWildcardResource } from '../core/nag';
import { ConnectOptions, MessagingPattern } from '../core/pattern';
import { QueueInputProps, buildQueue, validateQueueInputs } from '../core/queue-builder';
import { PropsValidator, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';

const SCHEDULE_GROUP_NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
/** Alarm ids of a delay queue, for `alarms.overrides`. */
const SCHEDULE_DEAD_LETTER_ALARM = 'ScheduleDeadLetterQueueNotEmpty';
const SCHEDULE_LOST_ALARM = 'ScheduleMessagesLost';
const DELAY_QUEUE_ALARMS = [DEAD_LETTER_QUEUE_ALARM, OLDEST_MESSAGE_ALARM, SCHEDULE_DEAD_LETTER_ALARM, SCHEDULE_LOST_ALARM];

/** Props of {@link DelayQueue}. */
export interface DelayQueueProps extends QueueInputProps, MessagingPatternProps {
  /**
   * How many times EventBridge Scheduler retries sending a due message to the queue (0–185) before
   * it moves the message to the schedule dead-letter queue.
   *
   * @default 185
   */
  readonly scheduleRetryAttempts?: number;

  /**
   * How long EventBridge Scheduler keeps retrying a due message (1 minute – 24 hours).
   *
   * @default Duration.hours(24)
   */
  readonly scheduleMaxEventAge?: Duration;

  /**
   * Name of the schedule group holding the long-delay schedules.
   *
   * @default - a unique name generated from the construct path
   */
  readonly scheduleGroupName?: string;

  /**
   * What happens to the schedule group, and every pending long-delay message in it, when the
   * construct is removed from the stack.
   *
   * @default RemovalPolicy.DESTROY - like the queue, which CDK also destroys
   */
  readonly scheduleGroupRemovalPolicy?: RemovalPolicy;
}

/**
 * Delay queue: messages become visible after a delay of up to a year.
 *
 * Delays up to 15 minutes use SQS `DelaySeconds` (per message, or the queue's `deliveryDelay`
 * from `queueProps`). Longer delays use EventBridge Scheduler one-time schedules (`at(...)`) in a
 * schedule group of their own, which send the message to the queue when due and then delete
 * themselves; a schedule that cannot deliver retries, then moves the message to a schedule
 * dead-letter queue. The producer helper `DelayQueueProducer` (from
 * `cdk-messaging-patterns/runtime/delay-queue`) picks the path, names each schedule after the
 * caller's id (so a repeated call does not schedule a second message) and cancels by id.
 *
 * The queue gets the kit's defaults (encryption, TLS-only policy, dead-letter queue, alarms). To
 * consume it with a Lambda function, pass `existingQueue: workQueue.queue` of a `WorkQueue`, or
 * map this construct's queue yourself.
 *
 * @example
 * const reminders = new DelayQueue(this, 'Reminders');
 * reminders.connectProducer(apiFn); // grants, sets DELAY_QUEUE_CONFIG
 */
export class DelayQueue extends MessagingPattern {
  /** The queue messages are delivered to. */
  public readonly queue: sqs.IQueue;
  /** Its dead-letter queue, when the kit knows of one. */
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The customer managed key encrypting the queues, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** Receives before a message moves to the dead-letter queue, when known. */
  public readonly maxReceiveCount?: number;
  /** The schedule group of the long-delay schedules. */
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The role EventBridge Scheduler assumes to send due messages to the queue. */
  public readonly schedulerRole: iam.Role;
  /** Where a long-delay message goes when its schedule cannot send it to the queue. */
  public readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** The queue's own delivery delay, which the producer subtracts from long delays. */
  public readonly queueDelay: Duration;
  /**
   * The producer's configuration (JSON), for an environment variable read by
   * `DelayQueueProducer.fromEnvironment()`.
   */
  public readonly producerConfig: string;

  constructor(scope: Construct, id: string, props: DelayQueueProps = {}) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    validateQueueInputs(v, props);
    const fifo =
      props.queueProps?.fifo ?? (props.existingQueue && !isUnresolved(props.existingQueue.fifo) ? props.existingQueue.fifo : false);
    v.check(
      'queueProps.fifo:unsupported',
      fifo !== true,
      `a delay queue must be a standard queue: FIFO queues support no per-message delay, and schedules would need a message group (given a FIFO ${props.existingQueue ? 'existingQueue' : 'queueProps'})`,
    );
    v.durationInRange('queueProps.deliveryDelay', props.queueProps?.deliveryDelay, NO_DURATION, SQS_MAX_DELAY);
    v.integerInRange('scheduleRetryAttempts', props.scheduleRetryAttempts, 0, SCHEDULE_MAX_RETRY_ATTEMPTS);
    v.durationInRange('scheduleMaxEventAge', props.scheduleMaxEventAge, SCHEDULE_MIN_EVENT_AGE, SCHEDULE_EVENT_AGE_LIMIT);
    v.matches('scheduleGroupName', props.scheduleGroupName, SCHEDULE_GROUP_NAME, '1 to 64 letters, digits, hyphens, underscores and dots');
    validateAlarms(v, props.alarms, DELAY_QUEUE_ALARMS);
    validateOldestMessageAlarm(v, props.alarms, props.queueProps?.retentionPeriod ?? SQS_DEFAULT_RETENTION);
    v.throwIfInvalid();

    // The queue.
    const built = buildQueue(this, { ...props, deadLetterQueueOf: 'the delay queue' });
    this.queue = built.queue;
    this.deadLetterQueue = built.deadLetterQueue;
    this.encryptionKey = built.encryptionKey;
    this.maxReceiveCount = built.maxReceiveCount;
    this.queueDelay = props.queueProps?.deliveryDelay ?? readDeliveryDelay(props.existingQueue) ?? NO_DURATION;

    // The long-delay path: a schedule group, a dead-letter queue for schedules, a role for Scheduler.
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: props.scheduleGroupName,
      removalPolicy: props.scheduleGroupRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.scheduleDeadLetterQueue = buildQueue(this, {
      encryptionKey: this.encryptionKey,
      deployDeadLetterQueue: false,
      queueProps: { retentionPeriod: DEAD_LETTER_RETENTION },
      ids: { queue: 'ScheduleDeadLetterQueue' },
    }).queue;
    acknowledgeDeadLetterQueue(this.scheduleDeadLetterQueue, "the delay queue's schedules");

    const stack = Stack.of(this);
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `Assumed by EventBridge Scheduler to deliver the long-delay messages of ${this.node.path}`,
      // Only schedules of this account's group may use it (confused-deputy protection). Scheduler
      // gives the schedule GROUP's ARN as aws:SourceArn: a schedule ARN or prefix never matches.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
    });
    // Scheduler only sends: no GetQueueAttributes/GetQueueUrl, and no wildcard KMS actions.
    grantSendOnly(this.queue, this.schedulerRole, []);
    grantSendOnly(this.scheduleDeadLetterQueue, this.schedulerRole, []);

    // Alarms.
    const what = `Delay queue ${this.node.path}`;
    // The queue's own alarms only on a queue this construct created: an existing queue (a WorkQueue's)
    // is alarmed by its owner, and a second DLQ alarm would page twice for one failure.
    if (built.created) {
      deadLetterQueueAlarm(this, props.alarms, this.deadLetterQueue, what);
      oldestMessageAlarm(this, props.alarms, this.queue, what);
    }
    deadLetterQueueAlarm(this, props.alarms, this.scheduleDeadLetterQueue, `${what}, long-delay schedules`, SCHEDULE_DEAD_LETTER_ALARM);
    createAlarm(this, props.alarms, {
      id: SCHEDULE_LOST_ALARM,
      metric: this.scheduleGroup.metricFailedToBeSentToDLQ(undefined, metricOptions(cloudwatch.Stats.SUM)),
      threshold: DEAD_LETTER_ALARM_THRESHOLD,
      description: () =>
        `${what}: EventBridge Scheduler could deliver a due message neither to the queue nor to the schedule dead-letter queue. The message is lost; check the scheduler role's permissions and the queues' keys.`,
    });

    this.producerConfig = stack.toJsonString({
      queueUrl: this.queue.queueUrl,
      queueArn: this.queue.queueArn,
      scheduleGroupName: this.scheduleGroup.scheduleGroupName,
      schedulerRoleArn: this.schedulerRole.roleArn,
      deadLetterQueueArn: this.scheduleDeadLetterQueue.queueArn,
      retryAttempts: props.scheduleRetryAttempts ?? SCHEDULE_RETRY_ATTEMPTS,
      maxEventAgeSeconds: (props.scheduleMaxEventAge ?? SCHEDULE_MAX_EVENT_AGE).toSeconds(),
      queueDelaySeconds: this.queueDelay.toSeconds(),
    });
    this._showOnDashboard(this.metricDelayedMessages(), this.metricVisibleMessages(), this.metricScheduleAttempts());
  }

  /**
   * Grants `grantee` what `DelayQueueProducer` needs: sending to the queue (and using its key for
   * that only), and — through the construct's producer policy, attached to the grantee's role —
   * creating, reading and deleting schedules of the group and passing the scheduler role to
   * EventBridge Scheduler only.
   */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    const send = grantSendOnly(this.queue, grantee);
    const principal = grantee.grantPrincipal as iam.IPrincipal & Partial<iam.IRole>;
    if (principal.roleName !== undefined && principal.roleArn !== undefined) {
      this.producerPolicy.attachToRole(principal as iam.IRole);
      return send;
    }
    // Not a role (a user, an assumed-role principal...): add the statements to it directly.
    return this.producerStatements().reduce(
      (all, statement) =>
        all.combine(
          iam.Grant.addToPrincipal({
            grantee,
            actions: statement.actions,
            resourceArns: statement.resources,
            conditions: statement.conditions,
          }),
        ),
      send,
    );
  }

  /**
   * The managed policy holding the schedule permissions of producers (created by the first
   * {@link grantSend}).
   */
  public get producerPolicy(): iam.ManagedPolicy {
    const existing = this.node.tryFindChild('ProducerPolicy') as iam.ManagedPolicy | undefined;
    if (existing) return existing;
    const policy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      description: `Lets producers of ${this.node.path} schedule and cancel long-delay messages`,
      statements: this.producerStatements().map(
        (s) => new iam.PolicyStatement({ actions: s.actions, resources: s.resources, conditions: s.conditions }),
      ),
    });
    // Schedules are named after the producers' message ids at run time: the group prefix is as
    // narrow as the ARN can be.
    acknowledgeWildcardResource(
      policy,
      this.scheduleArn('*'),
      "Producers create, read and delete one-time schedules named after their message ids at run time; the resource is limited to the schedules of this construct's schedule group.",
    );
    return policy;
  }

  private producerStatements(): Array<{ actions: string[]; resources: string[]; conditions?: Record<string, Record<string, unknown>> }> {
    return [
      { actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'], resources: [this.scheduleArn('*')] },
      {
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ];
  }

  /** Grants `grantee` permission to read and delete messages from both dead-letter queues (operators), and to decrypt them. */
  public grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [this.deadLetterQueue, this.scheduleDeadLetterQueue].map((q) => q?.grantConsumeMessages(grantee)),
      'the delay queue has no dead-letter queue the kit knows of',
    );
  }

  /**
   * Makes `fn` a producer: {@link grantSend}, and the configuration `DelayQueueProducer.fromEnvironment()`
   * reads in its `DELAY_QUEUE_CONFIG` environment variable (or `options.environmentVariable`).
   */
  public connectProducer(fn: lambda.IFunction, options: ConnectOptions = {}): iam.Grant {
    return connectFunction(this, fn, { [options.environmentVariable ?? ENV.delayQueueConfig]: this.producerConfig }, this.grantSend(fn));
  }

  /** Messages waiting out an SQS delay (Maximum over 1 minute). Long delays are not counted: they wait in schedules. */
  public metricDelayedMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateNumberOfMessagesDelayed', props);
  }

  /** Messages available for retrieval (Maximum over 1 minute). */
  public metricVisibleMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateNumberOfMessagesVisible', props);
  }

  /** Age of the oldest message in the queue, in seconds (Maximum over 1 minute). */
  public metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.queue, 'ApproximateAgeOfOldestMessage', props);
  }

  /** Due messages EventBridge Scheduler tried to send to the queue (Sum over 5 minutes). */
  public metricScheduleAttempts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.scheduleGroup.metricAttempts(props);
  }

  /** Due messages moved to the schedule dead-letter queue (Sum over 5 minutes). */
  public metricScheduleDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.scheduleGroup.metricSentToDLQ(props);
  }

  /** ARN of a schedule in the group (`*` for all): the resource of the producers' schedule actions. */
  private scheduleArn(name: string): string {
    return Stack.of(this).formatArn({
      partition: Aws.PARTITION,
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/${name}`,
    });
  }
}

/** The delivery delay of a queue defined in this app, when it can be read. */
function readDeliveryDelay(queue: sqs.IQueue | undefined): Duration | undefined {
  const cfn = queue?.node.defaultChild;
  if (!(cfn instanceof sqs.CfnQueue)) return undefined;
  const seconds = cfn.delaySeconds;
  return typeof seconds === 'number' && !isUnresolved(seconds) ? Duration.seconds(seconds) : undefined;
}
