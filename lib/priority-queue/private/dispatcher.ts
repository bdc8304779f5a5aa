import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DISPATCHER_IDLE_WAIT_SECONDS,
  DISPATCHER_MAX_EVENT_AGE,
  DISPATCHER_OVERHEAD_SECONDS,
  DISPATCHER_RUN_SECONDS,
  DISPATCHER_SCHEDULE_RATE,
} from '../../core/defaults';
import { KitFunction } from '../../core/kit-function';
import { ENV } from '../../core/wire';

/** What {@link buildDispatcher} needs. */
export interface DispatcherOptions {
  /** The levels, highest priority first. */
  readonly levels: ReadonlyArray<{ readonly name: string; readonly queue: sqs.IQueue }>;
  readonly consumer: lambda.IFunction;
  readonly consumerTimeout: Duration;
  readonly batchSize: number;
  readonly lowestLevelEvery: number;
  readonly enabled: boolean;
}

/**
 * Strict mode's consumer side: the kit's dispatcher function (polls the levels in order and
 * invokes the consumer with each batch) and the schedule that starts it every minute.
 */
export function buildDispatcher(scope: Construct, options: DispatcherOptions): { dispatcher: KitFunction; schedule: events.Rule } {
  const reason =
    'The dispatcher is started every minute by a schedule and its event carries no data: a failed run loses nothing (messages stay in the level queues and reach their dead-letter queues through redrive), and the next run starts a minute later.';
  const dispatcher = new KitFunction(scope, 'Dispatcher', {
    handler: 'priority-queue/dispatcher',
    functionProps: {
      description: `Strict-priority dispatcher of ${scope.node.path}: polls the levels in order and invokes the consumer`,
      timeout: Duration.seconds(options.consumerTimeout.toSeconds() + DISPATCHER_OVERHEAD_SECONDS),
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

  const schedule = new events.Rule(scope, 'DispatchSchedule', {
    description: `Starts the strict-priority dispatcher of ${scope.node.path} every minute`,
    schedule: events.Schedule.rate(DISPATCHER_SCHEDULE_RATE),
    enabled: options.enabled,
    targets: [new targets.LambdaFunction(dispatcher, { retryAttempts: 0, maxEventAge: DISPATCHER_MAX_EVENT_AGE })],
  });

  Validations.of(schedule).acknowledge({ id: 'Serverless-EventBusDLQ', reason });
  return { dispatcher, schedule };
}
