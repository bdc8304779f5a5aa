import { Annotations, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps, createAlarm, validateAlarms } from '../core/alarms';
import {
  DEAD_LETTER_ALARM_THRESHOLD,
  DEAD_LETTER_RETENTION,
  REDRIVE_FUNCTION_TIMEOUT,
  REDRIVE_SCHEDULE_MAX_EVENT_AGE,
  REDRIVE_SCHEDULE_RETRY_ATTEMPTS,
} from '../core/defaults';
import { KitFunction } from '../core/kit-function';
import { MAX_REDRIVE_RATE } from '../core/limits';
import { queueMetric } from '../core/metrics';
import { acknowledgeDeadLetterQueue } from '../core/nag';
import { MessagingPattern } from '../core/pattern';
import { buildQueue } from '../core/queue-builder';
import { PropsValidator, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';

/** The id of the alarm on the schedule's dead-letter queue, for `alarms.overrides`. */
const SCHEDULE_DEAD_LETTER_ALARM = 'ScheduleDeadLetterQueueNotEmpty';
/** The ids of DeadLetterQueueRedrive's alarms (created with a `schedule` only). */
const REDRIVE_ALARMS = [SCHEDULE_DEAD_LETTER_ALARM];

/** Props of {@link DeadLetterQueueRedrive}. */
export interface DeadLetterQueueRedriveProps extends MessagingPatternProps {
  /**
   * The dead-letter queue to redrive.
   *
   * @default - the dead-letter queue of `sourceQueue`, when it was created with one (every kit queue is)
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * The queue whose dead letters these are. Messages go back to the queue each one came from (the
   * move task names no destination); the function may send to this queue only, so a dead-letter
   * queue shared by several queues needs `grantSendTo` for the others.
   *
   * @default - none; give this or `destinationQueue`
   */
  readonly sourceQueue?: sqs.IQueue;

  /**
   * Move the messages to this queue instead of back to their source. Must be of the dead-letter
   * queue's type (FIFO or standard).
   *
   * @default - none; give this or `sourceQueue`
   */
  readonly destinationQueue?: sqs.IQueue;

  /**
   * Redrive on a schedule too, e.g. `events.Schedule.rate(Duration.hours(6))` to retry messages that
   * failed during a downstream outage. A scheduled run skips an empty dead-letter queue and never
   * starts a second redrive while one runs. Messages that still fail come back to the dead-letter
   * queue after `maxReceiveCount` more receives, and are redriven again at the next run: schedule
   * only what a retry can fix.
   *
   * @default - no schedule: invoke the function to redrive
   */
  readonly schedule?: events.Schedule;

  /**
   * Messages moved per second (1–500), so a recovered consumer is not flooded.
   *
   * @default - SQS chooses a rate based on the backlog
   */
  readonly maxMessagesPerSecond?: number;
}

/**
 * Redrive for a dead-letter queue: a function that starts, reports or cancels an SQS message move
 * task (`StartMessageMoveTask`, `ListMessageMoveTasks`, `CancelMessageMoveTask`) that moves the
 * dead letters back to their queue, optionally on a schedule.
 *
 * Invoke it with `{ "action": "start" }` (default), `{ "action": "status" }` or
 * `{ "action": "cancel" }`; `maxMessagesPerSecond` in the payload overrides the rate once. For an
 * interactive redrive with a progress display, use `scripts/dlq.ts redrive`.
 *
 * Alarms (ids for `alarms.overrides`), with a `schedule` only: `ScheduleDeadLetterQueueNotEmpty`, on
 * the dead-letter queue of the schedule (ticks EventBridge could not deliver to the function).
 *
 * @example
 * const orders = new WorkQueue(this, 'Orders', { consumer });
 * new DeadLetterQueueRedrive(this, 'OrdersRedrive', { sourceQueue: orders.queue });
 */
export class DeadLetterQueueRedrive extends MessagingPattern {
  /** The redrive function. */
  public readonly function: lambda.Function;
  /** The dead-letter queue it redrives. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The schedule's rule, when a schedule was given. */
  public readonly rule?: events.Rule;
  /**
   * Where EventBridge puts the schedule's ticks it could not deliver to the function, watched by an
   * alarm; when a schedule was given.
   */
  public readonly scheduleDeadLetterQueue?: sqs.IQueue;

  constructor(scope: Construct, id: string, props: DeadLetterQueueRedriveProps) {
    super(scope, id, props);
    const v = new PropsValidator(this);
    const sourceDlq = props.sourceQueue instanceof sqs.Queue ? props.sourceQueue.deadLetterQueue?.queue : undefined;
    const deadLetterQueue = props.deadLetterQueue ?? sourceDlq;

    v.check(
      'deadLetterQueue:required',
      deadLetterQueue !== undefined,
      props.sourceQueue
        ? `deadLetterQueue is required: sourceQueue ${props.sourceQueue.node.path} has no dead-letter queue the kit can see (given no deadLetterQueue)`
        : 'deadLetterQueue is required, or a sourceQueue created with a deadLetterQueue (given neither)',
    );
    v.mutuallyExclusive({ sourceQueue: props.sourceQueue, destinationQueue: props.destinationQueue });
    v.check(
      'sourceQueue|destinationQueue:required',
      props.sourceQueue !== undefined || props.destinationQueue !== undefined,
      'provide sourceQueue (messages go back to it) or destinationQueue (messages move there): the function needs permission to send to it (given neither)',
    );
    if (props.deadLetterQueue && sourceDlq && sourceDlq !== props.deadLetterQueue) {
      v.check(
        'deadLetterQueue:mismatch',
        false,
        `deadLetterQueue must be the dead-letter queue of sourceQueue (given ${props.deadLetterQueue.node.path}, but ${props.sourceQueue!.node.path} dead-letters to ${sourceDlq.node.path})`,
      );
    }
    if (deadLetterQueue && props.destinationQueue) {
      v.check(
        'destinationQueue:conflict',
        deadLetterQueue !== props.destinationQueue,
        `destinationQueue must not be the dead-letter queue itself (given ${deadLetterQueue.node.path})`,
      );
      const a = deadLetterQueue.fifo;
      const b = props.destinationQueue.fifo;
      if (!isUnresolved(a) && !isUnresolved(b) && a !== b) {
        v.check(
          'destinationQueue:mismatch',
          false,
          `destinationQueue must be of the dead-letter queue's type: SQS moves FIFO to FIFO and standard to standard only (given a ${b ? 'FIFO' : 'standard'} queue for a ${a ? 'FIFO' : 'standard'} dead-letter queue)`,
        );
      }
    }
    v.integerInRange('maxMessagesPerSecond', props.maxMessagesPerSecond, 1, MAX_REDRIVE_RATE);
    validateAlarms(v, props.alarms, REDRIVE_ALARMS);
    v.throwIfInvalid();

    if (props.sourceQueue instanceof sqs.Queue && !sourceDlq) {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:redriveSourceWithoutDlq',
        `sourceQueue ${props.sourceQueue.node.path} has no dead-letter queue the kit can see: SQS redrives only from a queue that another queue's redrive policy names.`,
      );
    }

    this.deadLetterQueue = deadLetterQueue!;
    const environment: Record<string, string> = { [ENV.deadLetterQueueArn]: this.deadLetterQueue.queueArn };
    if (props.destinationQueue) environment[ENV.destinationQueueArn] = props.destinationQueue.queueArn;
    if (props.maxMessagesPerSecond !== undefined) environment[ENV.maxMessagesPerSecond] = String(props.maxMessagesPerSecond);

    this.function = new KitFunction(this, 'Function', {
      handler: 'dead-letter-queue/redrive',
      functionProps: {
        description: `Redrives the dead-letter queue of ${this.node.path}`,
        timeout: REDRIVE_FUNCTION_TIMEOUT,
        environment,
      },
      synchronousOnlyReason:
        'Invoked by an operator or a schedule. A lost invocation loses no message: the messages stay in the dead-letter queue (whose alarm stays on) and the next run redrives them, so no failure destination is needed.',
    });

    // Permissions SQS checks for a message move task, on the caller.
    this.deadLetterQueue.grantConsumeMessages(this.function);
    this.deadLetterQueue.grant(this.function, 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:CancelMessageMoveTask');
    const target = (props.destinationQueue ?? props.sourceQueue)!;
    target.grantSendMessages(this.function);
    if (this.deadLetterQueue.encryptionMasterKey || target.encryptionMasterKey) {
      for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) {
        Validations.of(this.function.role!).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason: `CDK's queue grants for a KMS-encrypted queue: ${action} covers the variants of one operation (e.g. GenerateDataKey, GenerateDataKeyWithoutPlaintext) on the queue's key only, which SQS needs to move messages between encrypted queues.`,
        });
      }
    }

    if (props.schedule) {
      this.rule = new events.Rule(this, 'Schedule', {
        schedule: props.schedule,
        description: `Redrives the dead-letter queue of ${this.node.path}`,
      });
      // A tick carries no data, but one EventBridge cannot deliver means no scheduled redrive ran:
      // it lands here, and the alarm says so.
      this.scheduleDeadLetterQueue = buildQueue(this, {
        deployDeadLetterQueue: false,
        queueProps: { retentionPeriod: DEAD_LETTER_RETENTION },
        ids: { queue: 'ScheduleDeadLetterQueue' },
      }).queue;
      acknowledgeDeadLetterQueue(this.scheduleDeadLetterQueue, 'the redrive schedule');
      this.rule.addTarget(
        new targets.LambdaFunction(this.function, {
          event: events.RuleTargetInput.fromObject({ action: 'start', trigger: 'schedule' }),
          retryAttempts: REDRIVE_SCHEDULE_RETRY_ATTEMPTS,
          maxEventAge: REDRIVE_SCHEDULE_MAX_EVENT_AGE,
          deadLetterQueue: this.scheduleDeadLetterQueue,
        }),
      );
      createAlarm(this, props.alarms, {
        id: SCHEDULE_DEAD_LETTER_ALARM,
        metric: queueMetric(this.scheduleDeadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
        threshold: DEAD_LETTER_ALARM_THRESHOLD,
        description: () =>
          `Redrive ${this.node.path}: EventBridge could not deliver the schedule's ticks to the redrive function, so scheduled redrives did not run (the dead letters are still in their queue). Check the function and its resource policy; the ticks carry no data (purge them once fixed).`,
      });
    }
  }

  /**
   * Lets the function send to another queue that dead-letters into the same dead-letter queue (a
   * shared DLQ): their messages go back there.
   */
  public grantSendTo(queue: sqs.IQueue): iam.Grant {
    return queue.grantSendMessages(this.function);
  }

  /** Grants `grantee` (an operator role, a runbook) permission to invoke the redrive. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }

  /** Failed invocations of the redrive function (Sum over 5 minutes). */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricErrors(props);
  }
}
