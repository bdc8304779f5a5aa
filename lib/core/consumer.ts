import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_BATCH_SIZE, LAMBDA_DEFAULT_TIMEOUT, VISIBILITY_TIMEOUT_FACTOR } from './defaults';
import { NO_DURATION, SQS_MAX_BATCH_SIZE, SQS_MAX_BATCHING_WINDOW, SQS_MAX_VISIBILITY_TIMEOUT, SQS_SMALL_BATCH_SIZE } from './limits';
import { PropsValidator, describeValue, isUnresolved } from './validation';

/**
 * The consumer side shared by the patterns that feed a Lambda function from SQS queues: batch
 * settings, the visibility timeout derived from the consumer's timeout, and the event source
 * mapping with its grant.
 */

/** How {@link validateBatching} checks `batchSize` and `maxBatchingWindow`. */
export interface BatchingRules {
  /**
   * Batches of at most 10 messages (FIFO queues, a dispatcher polling itself) instead of 10,000
   * (above 10 with a batching window of at least 1 second).
   */
  readonly smallBatches: boolean;
  /** Appended to the batch size range in the problem, e.g. ' for a FIFO queue'. */
  readonly context: string;
  /**
   * With `smallBatches`: what the batching-window problem says after `maxBatchingWindow is not
   * supported`, e.g. ' for a FIFO queue'.
   *
   * @default - the batching window is not checked with small batches (the caller reports it)
   */
  readonly noBatchingWindow?: string;
}

/** Checks an event source mapping's `batchSize` and `maxBatchingWindow`; problems go into `v`. */
export function validateBatching(
  v: PropsValidator,
  batchSize: number | undefined,
  maxBatchingWindow: Duration | undefined,
  rules: BatchingRules,
): void {
  if (rules.smallBatches) {
    v.integerInRange('batchSize', batchSize, 1, SQS_SMALL_BATCH_SIZE, rules.context);
    if (rules.noBatchingWindow !== undefined) {
      v.check(
        'maxBatchingWindow:unsupported',
        maxBatchingWindow === undefined,
        `maxBatchingWindow is not supported${rules.noBatchingWindow} (given ${describeValue(maxBatchingWindow)})`,
      );
    }
    return;
  }
  v.integerInRange('batchSize', batchSize, 1, SQS_MAX_BATCH_SIZE, rules.context);
  v.durationInRange('maxBatchingWindow', maxBatchingWindow, NO_DURATION, SQS_MAX_BATCHING_WINDOW);
  if (batchSize !== undefined && !isUnresolved(batchSize) && batchSize > SQS_SMALL_BATCH_SIZE) {
    v.check(
      'maxBatchingWindow:required',
      maxBatchingWindow !== undefined && maxBatchingWindow.toSeconds() >= 1,
      `batchSize above 10 requires a maxBatchingWindow of at least 1 second (given batchSize ${batchSize}, maxBatchingWindow ${describeValue(maxBatchingWindow)})`,
    );
  }
}

/** The timeout of `consumer`: `given`, else the function's own, else unknown (an imported function). */
export function consumerTimeoutOf(consumer: lambda.IFunction, given: Duration | undefined): Duration | undefined {
  return given ?? (consumer instanceof lambda.Function ? (consumer.timeout ?? LAMBDA_DEFAULT_TIMEOUT) : undefined);
}

/** What {@link resolveVisibilityTimeout} needs. */
export interface VisibilityTimeoutInputs {
  /** The consumer, named in the problem when its timeout is unknown. */
  readonly consumer: lambda.IFunction;
  /** The consumer's timeout, from {@link consumerTimeoutOf}. */
  readonly consumerTimeout: Duration | undefined;
  /** The event source mapping's batching window, added to the required timeout. */
  readonly maxBatchingWindow?: Duration;
  /** `queueProps.visibilityTimeout`, when the user gave one. */
  readonly given?: Duration;
  /**
   * Multiple of the consumer timeout the visibility timeout must reach.
   *
   * @default 6 (AWS: "at least six times")
   */
  readonly factor?: number;
  /**
   * Appended to the "must be at least" problem after the required seconds, to explain the factor.
   *
   * @default ''
   */
  readonly factorReason?: string;
}

/**
 * The visibility timeout of a queue a pattern creates: `given` when it is at least `factor` x the
 * consumer timeout + batching window, else that required value. Problems (the given timeout too
 * short, the required one above SQS's limit, the consumer timeout unknown with no timeout given)
 * go into `v`. Unresolved tokens are used as they are.
 *
 * @returns the visibility timeout, or `undefined` for SQS's default
 */
export function resolveVisibilityTimeout(v: PropsValidator, inputs: VisibilityTimeoutInputs): Duration | undefined {
  const factor = inputs.factor ?? VISIBILITY_TIMEOUT_FACTOR;
  const { consumerTimeout, given, maxBatchingWindow } = inputs;
  if (consumerTimeout === undefined) {
    v.check(
      'consumerTimeout:required',
      given !== undefined,
      `consumerTimeout is required when consumer is an imported function (given consumer ${inputs.consumer.node.path}): the kit sets the visibility timeout to ${factor} x the consumer's timeout`,
    );
    return given;
  }
  if (consumerTimeout.isUnresolved() || (maxBatchingWindow?.isUnresolved() ?? false)) return given;
  const requiredSeconds = factor * consumerTimeout.toSeconds() + (maxBatchingWindow?.toSeconds() ?? 0);
  if (given && !given.isUnresolved()) {
    v.check(
      'queueProps.visibilityTimeout:range',
      given.toSeconds() >= requiredSeconds,
      `queueProps.visibilityTimeout must be at least ${factor} x the consumer timeout + maxBatchingWindow = ${requiredSeconds} seconds${inputs.factorReason ?? ''} (given ${given.toSeconds()} seconds)`,
    );
    return given;
  }
  v.check(
    'consumerTimeout:range',
    requiredSeconds <= SQS_MAX_VISIBILITY_TIMEOUT.toSeconds(),
    `the consumer timeout is too long for SQS: ${factor} x the consumer timeout + maxBatchingWindow = ${requiredSeconds} seconds exceeds the 43200-second visibility timeout limit (given consumer timeout ${consumerTimeout.toSeconds()} seconds)`,
  );
  return given ?? Duration.seconds(requiredSeconds);
}

/** What {@link mapQueueToConsumer} needs. */
export interface QueueConsumerOptions {
  readonly queue: sqs.IQueue;
  readonly consumer: lambda.IFunction;
  /** @default 10 */
  readonly batchSize?: number;
  readonly maxBatchingWindow?: Duration;
  readonly maxConcurrency?: number;
  readonly enabled?: boolean;
  /** Where the warning about a consumer imported without its role goes. */
  readonly warningScope: Construct;
  /** The queue(s) in that warning, e.g. 'the queue'. */
  readonly queueDescription: string;
  /** The dead-letter queue in the nag acknowledgement, e.g. "the queue's dead-letter queue through its redrive policy". */
  readonly deadLetterDescription: string;
}

/**
 * An event source mapping `EventSourceMapping` in `scope` from `queue` to `consumer`, with partial
 * batch responses on, created after the consumer may consume the queue. A consumer imported
 * without its role cannot be granted: the kit warns instead.
 */
export function mapQueueToConsumer(scope: Construct, options: QueueConsumerOptions): lambda.EventSourceMapping {
  const { consumer, queue } = options;
  const mapping = new lambda.EventSourceMapping(scope, 'EventSourceMapping', {
    target: consumer,
    eventSourceArn: queue.queueArn,
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    maxBatchingWindow: options.maxBatchingWindow,
    maxConcurrency: options.maxConcurrency,
    reportBatchItemFailures: true,
    enabled: options.enabled,
  });
  // The mapping checks the consumer's permissions when it is created: create the policy first.
  if (consumer.role) {
    queue.grantConsumeMessages(consumer).applyBefore(mapping);
  } else {
    Annotations.of(options.warningScope).addWarningV2(
      'cdk-messaging-patterns:consumerWithoutRole',
      `consumer ${consumer.node.path} was imported without its role, so the kit could not grant it sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on ${options.queueDescription}: grant them to its role.`,
    );
  }
  Validations.of(mapping).acknowledge({
    id: 'Serverless-LambdaEventSourceMappingDestination',
    reason: `SQS event source mappings do not support on-failure destinations: a message that keeps failing moves to ${options.deadLetterDescription}.`,
  });
  return mapping;
}
