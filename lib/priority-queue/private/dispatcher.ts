import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmsProps, createAlarm } from '../../core/alarms';
import {
  DEAD_LETTER_ALARM_THRESHOLD,
  DEAD_LETTER_RETENTION,
  DISPATCHER_IDLE_WAIT_SECONDS,
  DISPATCHER_MAX_EVENT_AGE,
  DISPATCHER_OVERHEAD_SECONDS,
  DISPATCHER_RUN_SECONDS,
  DISPATCHER_SCHEDULE_RATE,
} from '../../core/defaults';
import { KitFunction } from '../../core/kit-function';
import { queueMetric } from '../../core/metrics';
import { acknowledgeDeadLetterQueue } from '../../core/nag';
import { buildQueue } from '../../core/queue-builder';
import { ENV } from '../../core/wire';

/** The id of the alarm on the dispatch schedule's dead-letter queue (strict mode), for `alarms.overrides`. */
export const DISPATCH_SCHEDULE_DEAD_LETTER_ALARM = 'DispatchScheduleDeadLetterQueueNotEmpty';

/** What {@link buildDispatcher} needs. */
export interface DispatcherOptions {
  /** The levels, highest priority first. */
  readonly levels: ReadonlyArray<{ readonly name: string; readonly queue: sqs.IQueue }>;
  readonly consumer: lambda.IFunction;
  readonly consumerTimeout: Duration;
  readonly batchSize: number;
  readonly lowestLevelEvery: number;
  readonly enabled: boolean;
  readonly alarms?: AlarmsProps;
}

/**
 * Strict mode's consumer side: the kit's dispatcher function (polls the levels in order and
 * invokes the consumer with each batch) and the schedule that starts it every minute, with a
 * dead-letter queue (and its alarm) for the ticks EventBridge cannot deliver.
 */
export function buildDispatcher(
  scope: Construct,
  options: DispatcherOptions,
): { dispatcher: KitFunction; schedule: events.Rule; scheduleDeadLetterQueue: sqs.IQueue } {
  const reason =
    'The dispatcher is started every minute by a schedule and its event carries no data: a failed run loses nothing (messages stay in the level queues and reach their dead-letter queues through redrive), and the next run starts a minute later.';
  const dispatcher = new KitFunction(scope, 'Dispatcher', {
    handler: 'priority-queue/dispatcher',
    functionProps: {
      description: `Strict-priority dispatcher of ${scope.node.path}: polls the levels in order and invokes the consumer`,
      timeout: Duration.seconds(options.consumerTimeout.toSeconds() + DISPATCHER_OVERHEAD_SECONDS),
      // One dispatcher at a time: a run stops taking batches after 55 s but may wait up to the
      // consumer's timeout for the last one, while the schedule starts the next run every minute.
      // With one reserved execution that next start is throttled (and dropped after the one-minute
      // event age) instead of invoking the consumer beside the first: one batch at a time, strictly.
      reservedConcurrentExecutions: 1,
      environment: {
        [ENV.priorityLevels]: Stack.of(scope).toJsonString(
          options.levels.map((l) => ({ name: l.name, queueUrl: l.queue.queueUrl, queueArn: l.queue.queueArn })),
        ),
        [ENV.consumerFunction]: options.consumer.functionArn,
        [ENV.batchSize]: String(options.batchSize),
        [ENV.lowestLevelEvery]: String(options.lowestLevelEvery),
        [ENV.consumerTimeoutSeconds]: String(options.consumerTimeout.toSeconds()),
        [ENV.runSeconds]: String(DISPATCHER_RUN_SECONDS),
        [ENV.idleWaitSeconds]: String(DISPATCHER_IDLE_WAIT_SECONDS),
      },
    },
    synchronousOnlyReason: reason,
  });
  // A failed run is not retried: the next one starts a minute later, and its messages stay queued.
  dispatcher.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: DISPATCHER_MAX_EVENT_AGE });
  for (const level of options.levels) level.queue.grantConsumeMessages(dispatcher);
  // Invoke the unqualified consumer only (no ':*' for versions and aliases).
  dispatcher.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [options.consumer.functionArn] }));

  // A tick carries no data, but one EventBridge cannot deliver means the dispatcher did not start:
  // in strict mode nothing else consumes the levels. It lands here, and the alarm says so.
  const scheduleDeadLetterQueue = buildQueue(scope, {
    deployDeadLetterQueue: false,
    queueProps: { retentionPeriod: DEAD_LETTER_RETENTION },
    ids: { queue: 'DispatchScheduleDeadLetterQueue' },
  }).queue;
  acknowledgeDeadLetterQueue(scheduleDeadLetterQueue, "the dispatcher's schedule");
  const schedule = new events.Rule(scope, 'DispatchSchedule', {
    description: `Starts the strict-priority dispatcher of ${scope.node.path} every minute`,
    schedule: events.Schedule.rate(DISPATCHER_SCHEDULE_RATE),
    enabled: options.enabled,
    targets: [
      new targets.LambdaFunction(dispatcher, {
        retryAttempts: 0,
        maxEventAge: DISPATCHER_MAX_EVENT_AGE,
        deadLetterQueue: scheduleDeadLetterQueue,
      }),
    ],
  });
  createAlarm(scope, options.alarms, {
    id: DISPATCH_SCHEDULE_DEAD_LETTER_ALARM,
    metric: queueMetric(scheduleDeadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
    threshold: DEAD_LETTER_ALARM_THRESHOLD,
    description: () =>
      `Priority queue ${scope.node.path}: EventBridge could not deliver the dispatch schedule's ticks to the dispatcher, so it did not run and no level was consumed. Check the function and its resource policy; the ticks carry no data (purge them once fixed).`,
  });
  return { dispatcher, schedule, scheduleDeadLetterQueue };
}
