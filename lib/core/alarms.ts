import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_MAX_MESSAGE_AGE } from './defaults';
import { PropsValidator } from './validation';

/**
 * Alarm settings shared by every queue-based pattern. Both alarms are on by default: each one
 * watches a place where silence loses data.
 */
export interface QueueAlarmProps {
  /**
   * Alarm when any message is visible in the dead-letter queue.
   *
   * Uses `ApproximateNumberOfMessagesVisible` (not `NumberOfMessagesSent`, which does not count
   * messages moved there by a redrive policy).
   *
   * @default true
   */
  readonly deadLetterQueueAlarm?: boolean;

  /**
   * Alarm when the oldest message in the source queue is older than `maxMessageAge`: consumers are
   * stuck or too slow, and messages will expire at the end of the retention period.
   *
   * @default true
   */
  readonly oldestMessageAlarm?: boolean;

  /**
   * Age of the oldest message that raises the oldest-message alarm.
   *
   * @default Duration.hours(1)
   */
  readonly maxMessageAge?: Duration;

  /**
   * SNS topic notified when an alarm fires or clears.
   *
   * @default - no topic
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Further alarm actions, added to every alarm.
   *
   * @default - none
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

/** Props of {@link QueueAlarms}. */
export interface QueueAlarmsProps extends QueueAlarmProps {
  /** The source queue. */
  readonly queue: sqs.IQueue;
  /** Its dead-letter queue, if any. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** A name used in alarm descriptions. */
  readonly description: string;
}

/** Checks alarm props; problems are collected into `v`. */
export function validateAlarmProps(v: PropsValidator, props: QueueAlarmProps, retention?: Duration): void {
  v.durationInRange('alarms.maxMessageAge', props.maxMessageAge, Duration.minutes(1), Duration.days(14));
  if (props.maxMessageAge && retention && !props.maxMessageAge.isUnresolved() && !retention.isUnresolved()) {
    v.check(
      props.maxMessageAge.toSeconds() < retention.toSeconds(),
      `alarms.maxMessageAge must be shorter than the queue's retention period, or messages expire before it fires (given ${props.maxMessageAge.toSeconds()} seconds, retention ${retention.toSeconds()} seconds)`,
    );
  }
}

/**
 * Notifies `alarmTopic` and runs `alarmActions` when `alarm` fires and when it clears.
 */
export function addAlarmActions(alarm: cloudwatch.Alarm, props: Pick<QueueAlarmProps, 'alarmTopic' | 'alarmActions'>): void {
  const actions: cloudwatch.IAlarmAction[] = [
    ...(props.alarmTopic ? [new cwActions.SnsAction(props.alarmTopic)] : []),
    ...(props.alarmActions ?? []),
  ];
  alarm.addAlarmAction(...actions);
  alarm.addOkAction(...actions);
}

/**
 * The alarm factory: a dead-letter-queue alarm and an oldest-message alarm for one queue, wired to
 * an optional SNS topic and alarm actions.
 */
export class QueueAlarms extends Construct {
  /** Fires when any message is visible in the dead-letter queue. */
  public readonly deadLetterQueueAlarm?: cloudwatch.Alarm;
  /** Fires when the oldest message in the queue is older than `maxMessageAge`. */
  public readonly oldestMessageAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: QueueAlarmsProps) {
    super(scope, id);

    if (props.deadLetterQueue && props.deadLetterQueueAlarm !== false) {
      this.deadLetterQueueAlarm = new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
        alarmDescription: `${props.description}: messages in the dead-letter queue. They failed every retry and wait for an operator (peek, fix, redrive).`,
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (props.oldestMessageAlarm !== false) {
      const maxAge = props.maxMessageAge ?? DEFAULT_MAX_MESSAGE_AGE;
      this.oldestMessageAlarm = new cloudwatch.Alarm(this, 'OldestMessageTooOld', {
        alarmDescription: `${props.description}: the oldest message is older than ${maxAge.toHumanString()}. Consumers are failing or too slow; messages expire at the end of the retention period.`,
        metric: props.queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: maxAge.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const alarm of this.alarms) addAlarmActions(alarm, props);
  }

  /** The alarms created, for dashboards and composite alarms. */
  public get alarms(): cloudwatch.Alarm[] {
    return [this.deadLetterQueueAlarm, this.oldestMessageAlarm].filter((a): a is cloudwatch.Alarm => a !== undefined);
  }
}
