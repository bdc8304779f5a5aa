import { Duration } from 'aws-cdk-lib';

/**
 * Kit-wide defaults, in one place. Each is a constant or a function returning a fresh object.
 */

/**
 * Receives before a message moves to the dead-letter queue.
 *
 * 5 is AWS's minimum recommendation for queues consumed by Lambda: the event source mapping can
 * receive a message and be throttled before the function runs, which still counts as a receive.
 * Lower values send healthy messages to the DLQ under throttling.
 */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/** Retention on dead-letter queues: the SQS maximum, so operators have time to redrive. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/** Visibility timeout multiple of the consumer timeout (AWS: "at least six times"). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Consumer timeout assumed for a function whose timeout cannot be read. */
export const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

/** SQS limits. */
export const SQS_MAX_VISIBILITY_TIMEOUT = Duration.hours(12);
export const SQS_MAX_BATCHING_WINDOW = Duration.minutes(5);
export const SQS_MAX_RETENTION = Duration.days(14);
/** Retention SQS gives a queue whose `retentionPeriod` is not set. */
export const SQS_DEFAULT_RETENTION = Duration.days(4);

/** Age of the oldest message in a source queue that raises the age alarm. */
export const DEFAULT_MAX_MESSAGE_AGE = Duration.hours(1);
