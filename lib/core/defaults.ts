import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Every default the kit chooses, in one place, each with its reason. Durations and numbers that
 * are AWS's own limits live in `limits.ts`. A lint rule keeps literal durations out of every other
 * file in `lib/`: a pattern that needs a new default adds it here.
 */

// ---------------------------------------------------------------------------------------------
// Queues

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

/** Visibility timeout of a queue with no consumer the kit knows of: SQS's own default. */
export const DEFAULT_VISIBILITY_TIMEOUT = Duration.seconds(30);

/** Consumer timeout assumed for a function whose timeout is not set: Lambda's own default. */
export const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

/**
 * Messages per batch of an SQS event source mapping: 10, Lambda's default and the most a FIFO
 * queue (or a batch without a batching window) may take.
 */
export const DEFAULT_BATCH_SIZE = 10;

// ---------------------------------------------------------------------------------------------
// Alarms and metrics

/** Period and statistic of the queue metrics: the worst value within each minute. */
export const METRIC_PERIOD = Duration.minutes(1);

/** A dead-letter queue alarm fires on the first message: each one failed every retry and waits for an operator. */
export const DEAD_LETTER_ALARM_THRESHOLD = 1;

/**
 * Age of the oldest message in a source queue that raises the age alarm: an hour of backlog means
 * consumers are failing or too slow, long before the 4-day default retention expires messages.
 */
export const DEFAULT_MAX_MESSAGE_AGE = Duration.hours(1);

/** The age alarm waits for 3 consecutive minutes above the threshold, so one slow batch does not page. */
export const OLDEST_MESSAGE_EVALUATION_PERIODS = 3;

// ---------------------------------------------------------------------------------------------
// Functions the kit creates

/** Memory of the kit's functions: enough for the SDK and a batch of 10 at 256 KiB each. */
export const KIT_FUNCTION_MEMORY_MB = 256;

/** Timeout of the kit's functions unless a pattern needs another. */
export const KIT_FUNCTION_TIMEOUT = Duration.seconds(30);

/** Log retention of the kit's functions: long enough to investigate last month's incident. */
export const KIT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

// ---------------------------------------------------------------------------------------------
// PriorityQueue

/** Levels used when `levels` is not given: highest priority first. */
export const DEFAULT_PRIORITY_LEVELS: readonly string[] = ['high', 'normal', 'low'];

/** Total concurrency shared by the levels in weighted mode: 2 or more per level, most for the highest. */
export const DEFAULT_PRIORITY_MAX_CONCURRENCY = 20;

/** Share of concurrency (weighted) or of batches (strict) the lowest level keeps at least: no starvation. */
export const DEFAULT_LOWEST_LEVEL_SHARE = 0.1;

/** The strict dispatcher is started every minute (the shortest EventBridge schedule rate) and takes batches for 55 s. */
export const DISPATCHER_SCHEDULE_RATE = Duration.minutes(1);
export const DISPATCHER_RUN_SECONDS = 55;

/** How long the dispatcher long-polls every level at once when all were empty. */
export const DISPATCHER_IDLE_WAIT_SECONDS = 2;

/** The dispatcher's timeout is the consumer's plus this (run, idle wait, margin). */
export const DISPATCHER_OVERHEAD_SECONDS = DISPATCHER_RUN_SECONDS + DISPATCHER_IDLE_WAIT_SECONDS + 13;

/** A dispatcher run that failed is not retried: the next starts within a minute and its messages stay queued. */
export const DISPATCHER_MAX_EVENT_AGE = Duration.minutes(1);

// ---------------------------------------------------------------------------------------------
// DelayQueue

/** EventBridge Scheduler's defaults (and maxima) for a target's retry policy: retry as long as Scheduler allows. */
export const SCHEDULE_RETRY_ATTEMPTS = 185;
export const SCHEDULE_MAX_EVENT_AGE = Duration.hours(24);

// ---------------------------------------------------------------------------------------------
// ClaimCheck

/** How long claimed payloads are kept: longer than a message can live (14 days in a queue, 14 more in a DLQ). */
export const CLAIM_EXPIRATION = Duration.days(30);

/** How long S3 server access logs of the claim bucket are kept. */
export const ACCESS_LOG_EXPIRATION = Duration.days(90);

/** Incomplete multipart uploads are aborted after a day: nobody resumes a claim upload later. */
export const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(1);

/** Period of the daily S3 storage metrics. */
export const STORAGE_METRIC_PERIOD = Duration.days(1);

// ---------------------------------------------------------------------------------------------
// Dead-letter queue operations

/** Failure reasons outlive the longest dead-letter retention by a day, so every dead letter has its reason. */
export const FAILURE_REASON_RETENTION = Duration.days(15);

/** The redrive function starts, reports or cancels one move task: seconds of work. */
export const REDRIVE_FUNCTION_TIMEOUT = Duration.seconds(30);

/** A scheduled redrive tick is retried twice within an hour; a lost tick loses nothing. */
export const REDRIVE_SCHEDULE_RETRY_ATTEMPTS = 2;
export const REDRIVE_SCHEDULE_MAX_EVENT_AGE = Duration.hours(1);

// ---------------------------------------------------------------------------------------------
// RequestReply

/** Bounds of `replyQueueIdleTimeout`: longer than a request waits, shorter than SQS keeps a message. */
export const MIN_REPLY_QUEUE_IDLE_TIMEOUT = Duration.minutes(5);
export const MAX_REPLY_QUEUE_IDLE_TIMEOUT = Duration.days(7);

/** A reply queue unused this long belongs to a requester that is gone, and is deleted. */
export const REPLY_QUEUE_IDLE_TIMEOUT = Duration.hours(1);

/** The reaper lists and deletes idle reply queues: a couple of minutes for thousands of queues. */
export const REAPER_TIMEOUT = Duration.minutes(2);

/** The reaper runs every quarter of the idle timeout, so a queue lives at most 1.25 idle timeouts. */
export const REAPER_RUNS_PER_IDLE_TIMEOUT = 4;
