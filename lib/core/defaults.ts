import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { SHARED_DEFAULT } from './wire';

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

// ---------------------------------------------------------------------------------------------
// EventRouter

/**
 * Retry policy of every route target: EventBridge's own defaults (185 attempts over 24 hours),
 * set explicitly so that what is left after them goes to the dead-letter queue.
 */
export const EVENT_TARGET_RETRY_ATTEMPTS = 185;
export const EVENT_TARGET_MAX_EVENT_AGE = Duration.hours(24);

/**
 * Archive retention: a month of events to replay after an incident, without the indefinite
 * retention (and cost) that is EventBridge's own default.
 */
export const EVENT_ARCHIVE_RETENTION = Duration.days(30);

// ---------------------------------------------------------------------------------------------
// StreamPipeline

/** Retention of a stream the kit creates: Kinesis's own default, a day to recover from an outage. */
export const DEFAULT_STREAM_RETENTION = Duration.hours(24);

/**
 * Where a new event source mapping starts reading: TRIM_HORIZON, the oldest record the stream
 * still holds. LATEST loses what producers wrote before the mapping existed (producers deployed in
 * the same stack, a mapping replaced when enhanced fan-out is turned on); the cost of TRIM_HORIZON
 * is that a mapping on a stream that already holds data processes that data (handlers are
 * idempotent anyway, since Kinesis delivers at least once).
 */
export const DEFAULT_STREAM_STARTING_POSITION = lambda.StartingPosition.TRIM_HORIZON;

/** Records per batch of a Kinesis event source mapping: 100, Lambda's own default. */
export const DEFAULT_STREAM_BATCH_SIZE = 100;

/**
 * Retries of a failing batch before its records go to the on-failure destination: 3, never Lambda's
 * default -1 (retry until the record expires, which blocks the shard for up to the whole retention).
 * When the invocation fails, bisection isolates the failing record first (splitting a batch does not
 * count as a retry), so the retries are those of the failing record alone; four attempts in a row
 * that fail the same record mean poison, not a blip. Transient errors are the handler's to retry,
 * with backoff (the AWS SDK's retries): the shard waits while Lambda retries, and nothing behind
 * the record moves.
 */
export const DEFAULT_STREAM_RETRY_ATTEMPTS = 3;

/**
 * `maxRecordAge` as a share of the stream's retention: half (12 hours for the 24-hour default), at
 * most Lambda's 7 days. A record the consumer could not reach in time (a lagging consumer, not a
 * failing one: failures end with the retries) is skipped to the on-failure destination while it is
 * still in the stream for at least as long again, so an operator can read it back by the sequence
 * numbers in the metadata. A fixed hour would skip records on any backlog longer than an hour.
 */
export const STREAM_RECORD_AGE_SHARE_OF_RETENTION = 0.5;

/**
 * The iterator-age alarm fires at half the `maxRecordAge` in effect (6 hours with the defaults, a
 * quarter of the retention): the consumer lags, and records will be skipped at `maxRecordAge` if it
 * does not catch up. Half of the retention, the other common choice, would be the very moment the
 * default `maxRecordAge` skips them.
 */
export const ITERATOR_AGE_ALARM_SHARE_OF_RECORD_AGE = 0.5;

/** The iterator-age alarm waits for 3 consecutive minutes above the threshold, so one slow batch does not page. */
export const ITERATOR_AGE_EVALUATION_PERIODS = 3;

// ---------------------------------------------------------------------------------------------
// FanOut

/**
 * Encryption of a fan-out subscription queue (and of its dead-letter queues) when no key is given:
 * SSE-SQS. The keys are SQS's own, so SNS needs nothing but the queue policy to send (AWS: the
 * key-policy step of an SNS-to-SQS subscription applies to customer managed keys), there is no key
 * to pay for ($1 a month per key plus requests) and no key policy to get wrong. The AWS managed key
 * `alias/aws/sqs` is the one choice that does not work: its key policy cannot grant
 * `sns.amazonaws.com`, so SNS drops every message (the kit fails synth on it). Give `encryptionKey`
 * for a customer managed key: the kit adds the SNS statement to its policy, scoped to the topic.
 */
export const FAN_OUT_QUEUE_ENCRYPTION = sqs.QueueEncryption.SQS_MANAGED;

/**
 * Raw message delivery on queue subscriptions: the body is the published message and its message
 * attributes arrive as SQS message attributes, which is what the kit's consumers read
 * (`processSqsBatch`, `parseJsonBody`, the idempotency key attribute); the SNS envelope (topic,
 * signature, timestamp) adds about 1 KB per message that no queue consumer checks.
 */
export const FAN_OUT_RAW_MESSAGE_DELIVERY = true;

/**
 * A FIFO topic deduplicates by a SHA-256 of the body when the publisher gives no deduplication id
 * (as `SequentialConvoy` does for its queue): without it every publish must carry one.
 */
export const FAN_OUT_CONTENT_BASED_DEDUPLICATION = true;

/**
 * Every subscription gets a redrive policy (its own dead-letter queue): a message SNS cannot deliver
 * (queue policy or key policy denies it, the queue or function is gone, a client error) is otherwise
 * dropped after SNS's retries.
 */
export const FAN_OUT_SUBSCRIPTION_DEAD_LETTER_QUEUE = true;

/** The failed-notifications alarm fires on the first one: each is a message a subscriber did not get. */
export const NOTIFICATIONS_FAILED_ALARM_THRESHOLD = 1;

// ---------------------------------------------------------------------------------------------
// TransactionalOutbox

/**
 * Stream records per relay batch: 100, Lambda's default for streams. One batch is one `PutEvents`
 * call per 10 records (per 10 aggregates, since the relay sends one event per aggregate per call).
 */
export const OUTBOX_RELAY_BATCH_SIZE = 100;

/**
 * Timeout of the relay: a minute. A batch of 100 is 10 publish calls and a few DynamoDB writes in
 * the normal case; the publishers retry throttled entries with backoff (up to 2 s each, 5 calls).
 */
export const OUTBOX_RELAY_TIMEOUT = Duration.minutes(1);

/**
 * Invocations in which an event was the relay's first unpublished record before the relay sends it
 * to the on-failure queue with its reason and holds back the rest of its aggregate: 3, one fewer
 * than the mapping's 4 attempts (1 + `DEFAULT_STREAM_RETRY_ATTEMPTS`), so the relay, which knows
 * the reason, gives up before Lambda, which only knows the sequence numbers.
 */
export const OUTBOX_MAX_DELIVERY_ATTEMPTS = SHARED_DEFAULT.outboxMaxDeliveryAttempts;

/**
 * How long a published outbox record stays before its TTL deletes it: a week, to look up what was
 * published and when. Unpublished records never expire (the relay sets the TTL when it publishes),
 * so nothing unpublished is deleted.
 */
export const OUTBOX_PUBLISHED_RETENTION = Duration.seconds(SHARED_DEFAULT.outboxPublishedRetentionSeconds);

/**
 * How long outbox writes and event-store appends remember a command id: 14 days, the longest SQS
 * keeps a message, so a command redelivered or redriven from a dead-letter queue is still
 * recognised. A command record is one small item.
 */
export const COMMAND_RETENTION = Duration.seconds(SHARED_DEFAULT.commandRetentionSeconds);

/**
 * `maxRecordAge` of the relay and projector mappings: 12 hours, half the 24-hour retention of a
 * DynamoDB stream (see `STREAM_RECORD_AGE_SHARE_OF_RETENTION`).
 */
export const DYNAMODB_STREAM_MAX_RECORD_AGE = Duration.hours(12);

// ---------------------------------------------------------------------------------------------
// EventStore

/**
 * Events between two snapshots: 100. Loading an aggregate reads its latest snapshot and fewer than
 * 100 events (one Query page of small events) instead of its whole history.
 */
export const EVENT_STORE_SNAPSHOT_EVERY = SHARED_DEFAULT.eventStoreSnapshotEvery;

/** Records per projector batch: 100, Lambda's default for streams. */
export const PROJECTION_BATCH_SIZE = 100;

// ---------------------------------------------------------------------------------------------
// Saga

/**
 * Retries of a saga action after its first attempt: 3, from 1 second, doubling, at most 30 seconds
 * apart, with full jitter (Step Functions' `JitterStrategy: FULL`): about 7 seconds of waiting at
 * most, enough for a throttle, a cold dependency or a lost connection, short enough that a step that
 * keeps failing is compensated within seconds. Business errors that retrying cannot fix belong in
 * `nonRetryableErrors`.
 */
export const SAGA_ACTION_MAX_ATTEMPTS = 3;
export const SAGA_ACTION_RETRY_INTERVAL = Duration.seconds(1);
export const SAGA_ACTION_MAX_DELAY = Duration.seconds(30);

/** Backoff of every saga retry: the delay doubles. */
export const SAGA_RETRY_BACKOFF_RATE = 2;

/**
 * Retries of a compensation in a Standard saga: 20, from 1 second, doubling, at most a minute
 * apart, full jitter: up to about 15 minutes of waiting, so an outage of the service that undoes the
 * step (a refund API down for ten minutes) is ridden out before the saga ends COMPENSATION_FAILED
 * and pages an operator. A compensation that fails this long needs a fix, then `resumeSaga`.
 */
export const SAGA_COMPENSATION_MAX_ATTEMPTS = 20;
export const SAGA_COMPENSATION_RETRY_INTERVAL = Duration.seconds(1);
export const SAGA_COMPENSATION_MAX_DELAY = Duration.minutes(1);

/**
 * Retries of a compensation in an Express saga: 8 (1, 2, 4 ... 60 seconds: about 3 minutes), so
 * they end within Express's 5-minute execution limit, which would otherwise stop the saga without
 * recording anything.
 */
export const SAGA_EXPRESS_COMPENSATION_MAX_ATTEMPTS = 8;

/**
 * Retries of a callback step (`.waitForTaskToken`): none. A callback fails when the approver says
 * no (`failTask`) or nobody answered in time; asking again is a decision, not a retry.
 */
export const SAGA_CALLBACK_MAX_ATTEMPTS = 0;

/**
 * Retries of the saga-log writes (the outcome rows): 5, from 1 second, doubling, at most 10 seconds
 * apart: DynamoDB throttling on an on-demand table passes within seconds.
 */
export const SAGA_LOG_WRITE_MAX_ATTEMPTS = 5;
export const SAGA_LOG_WRITE_RETRY_INTERVAL = Duration.seconds(1);
export const SAGA_LOG_WRITE_MAX_DELAY = Duration.seconds(10);

/** Each saga alarm fires on the first execution it counts: every one is a saga left half done. */
export const SAGA_ALARM_THRESHOLD = 1;

// ---------------------------------------------------------------------------------------------
// MessagingDashboard

/** The dashboard opens on the last three hours: an incident's span, at one-minute resolution. */
export const DASHBOARD_START = '-PT3H';
/** Three graphs per row, six grid units high: readable on a laptop screen. */
export const DASHBOARD_WIDGETS_PER_ROW = 3;
export const DASHBOARD_WIDGET_HEIGHT = 6;

/**
 * Bounds of the outbox's and event store's retention props (published records, command ids): at
 * least a minute (TTL deletes within days of expiry anyway), at most a year.
 */
export const MIN_RECORD_RETENTION = Duration.minutes(1);
export const MAX_RECORD_RETENTION = Duration.days(365);

// ---------------------------------------------------------------------------------------------
// KafkaConsumer

/**
 * Where a new Kafka mapping starts reading: TRIM_HORIZON, the oldest record the topic still holds,
 * for the reason of `DEFAULT_STREAM_STARTING_POSITION` (LATEST loses what producers wrote before
 * the mapping existed). Only a consumer group without committed offsets uses it: a group that has
 * them resumes where it stopped.
 */
export const KAFKA_STARTING_POSITION = lambda.StartingPosition.TRIM_HORIZON;

/** Records per batch of a Kafka mapping: 100, Lambda's own default. */
export const KAFKA_BATCH_SIZE = 100;

/**
 * Retries of a failing Kafka batch before its records go to the on-failure destination: 10, the
 * cap Lambda itself applies when an on-failure destination is set and retries are left infinite
 * (kafka-retry-configurations), never Lambda's default -1 (retry until the records expire, which
 * blocks the partition for up to the topic's whole retention). Not the 3 of streams: a Kafka batch
 * spans partitions, every whole-batch failure (a crash, a timeout) spends a retry of every
 * partition in it, and bisection needs up to log2(batch size) attempts to isolate a poison record
 * if splits count as retries (AWS does not say for Kafka; the emulator counts them). Transient
 * errors are still the handler's to retry with backoff.
 */
export const KAFKA_RETRY_ATTEMPTS = 10;

/**
 * Provisioned pollers of a Kafka mapping: at least 1, at most 200 (Lambda's default maximum).
 * Provisioned mode is what makes Lambda honour the error-handling controls the kit sets (bounded
 * retries, bisection, partial batch responses, maximum record age: AWS's kafka-retry-configurations
 * page configures them "in provisioned mode"); one event poller handles up to 5 MB/s or 5
 * concurrent invocations and is billed per event poller unit hour.
 */
export const KAFKA_MINIMUM_POLLERS = 1;
export const KAFKA_MAXIMUM_POLLERS = 200;

/**
 * The offset-lag alarm fires at 10,000 records behind the topic (100 batches of the default size)
 * for 5 consecutive minutes: Lambda's pollers scale on offset lag within about 3 minutes, so a
 * burst the autoscaler absorbs does not page; a lag that stays is a consumer falling behind, whose
 * records the topic deletes at the end of its retention.
 */
export const KAFKA_OFFSET_LAG_ALARM_THRESHOLD = 10_000;
export const KAFKA_OFFSET_LAG_EVALUATION_PERIODS = 5;

// ---------------------------------------------------------------------------------------------
// BrokerConsumer

/**
 * Messages per batch of an Amazon MQ mapping: 10, not Lambda's 100. MQ mappings have no partial
 * batch response: a message that fails fails its whole batch, which the broker redelivers and,
 * once the redeliveries are spent, dead-letters whole. A smaller batch bounds how many healthy
 * messages share a poison message's redeliveries and its dead-letter queue.
 */
export const BROKER_BATCH_SIZE = 10;

/**
 * Engine versions of a broker the kit creates: the newest Amazon MQ offers as `major.minor`
 * (patch versions are applied by Amazon MQ in the maintenance window, with automatic minor version
 * upgrades on, which these versions require).
 */
export const RABBITMQ_ENGINE_VERSION = '3.13';
export const ACTIVEMQ_ENGINE_VERSION = '5.18';

/**
 * Instance type of a broker the kit creates: `mq.m5.large`, the smallest type Amazon MQ supports
 * for both engines in every deployment mode (`mq.t3.micro` is single-instance only, for
 * evaluation).
 */
export const BROKER_INSTANCE_TYPE = 'mq.m5.large';

/** Username of the broker user the kit creates (the consumer's credentials). */
export const BROKER_USERNAME = 'lambda-consumer';

/** Length of the generated broker password: 32 letters and digits (Amazon MQ allows 12 to 250, no `,:=`). */
export const BROKER_PASSWORD_LENGTH = 32;

/**
 * The consumer-errors alarm fires on the first failed invocation: with no partial batch response
 * and no on-failure destination, each failed batch is redelivered by the broker and ends in its
 * dead-letter queue once the redeliveries are spent.
 */
export const CONSUMER_ERRORS_ALARM_THRESHOLD = 1;
