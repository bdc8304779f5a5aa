import { Duration } from 'aws-cdk-lib';
import { LIMIT } from './wire';

/**
 * AWS service limits the kit checks props against. Not choices: each is AWS's number (the run-time
 * side's copies are in `wire.ts`).
 */

/** A zero duration, the lower bound of delays and batching windows. */
export const NO_DURATION = Duration.seconds(0);

/** SQS. */
export const SQS_MAX_VISIBILITY_TIMEOUT = Duration.hours(12);
export const SQS_MAX_BATCHING_WINDOW = Duration.minutes(5);
export const SQS_MAX_RETENTION = Duration.days(14);
export const SQS_MIN_RETENTION = Duration.minutes(1);
/** Retention SQS gives a queue whose `retentionPeriod` is not set. */
export const SQS_DEFAULT_RETENTION = Duration.days(4);
/** Longest delay SQS applies itself (`DelaySeconds`). */
export const SQS_MAX_DELAY = Duration.seconds(LIMIT.sqsMaxDelaySeconds);
/** Largest batch of an SQS event source mapping, and the largest without a batching window. */
export const SQS_MAX_BATCH_SIZE = 10_000;
export const SQS_SMALL_BATCH_SIZE = 10;
/** `maxConcurrency` of an SQS event source mapping. */
export const ESM_MIN_CONCURRENCY = 2;
export const ESM_MAX_CONCURRENCY = 1000;
/** `maxReceiveCount` of a redrive policy. */
export const SQS_MAX_RECEIVE_COUNT = 1000;
/** A message move task's `MaxNumberOfMessagesPerSecond`. */
export const MAX_REDRIVE_RATE = LIMIT.maxRedriveRatePerSecond;

/** CloudWatch alarm periods (10 s needs high-resolution metrics; a day is the longest). */
export const ALARM_MIN_PERIOD = Duration.seconds(10);
export const ALARM_MAX_PERIOD = Duration.days(1);

/** Lambda. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** EventBridge Scheduler target retry policy. */
export const SCHEDULE_MAX_RETRY_ATTEMPTS = 185;
export const SCHEDULE_MAX_EVENT_AGE = Duration.hours(24);
export const SCHEDULE_MIN_EVENT_AGE = Duration.minutes(1);

/** A day, the unit of S3 lifecycle rules. */
export const ONE_DAY = Duration.days(1);

/** EventBridge: targets per rule, and a target's retry policy. */
export const EVENTS_MAX_TARGETS_PER_RULE = 5;
export const EVENT_TARGET_MAX_RETRY_ATTEMPTS = 185;
export const EVENT_TARGET_MIN_EVENT_AGE = Duration.minutes(1);
export const EVENT_TARGET_MAX_EVENT_AGE_LIMIT = Duration.hours(24);

/** Kinesis Data Streams: retention, and the name of a registered (enhanced fan-out) consumer. */
export const KINESIS_MIN_RETENTION = Duration.hours(24);
export const KINESIS_MAX_RETENTION = Duration.hours(8760);
export const KINESIS_CONSUMER_NAME_MAX_LENGTH = 128;

/** Kinesis and DynamoDB Streams event source mappings. */
export const STREAM_MAX_BATCH_SIZE = 10_000;
export const STREAM_MAX_BATCHING_WINDOW = Duration.minutes(5);
export const STREAM_MAX_RETRY_ATTEMPTS = 10_000;
export const STREAM_MIN_RECORD_AGE = Duration.minutes(1);
export const STREAM_MAX_RECORD_AGE = Duration.days(7);
export const STREAM_MAX_PARALLELIZATION_FACTOR = 10;
export const STREAM_MAX_TUMBLING_WINDOW = Duration.minutes(15);

/** SNS filter policies: keys per policy (leaf keys in a body policy), and combinations of values. */
export const SNS_FILTER_POLICY_MAX_KEYS = 5;
export const SNS_FILTER_POLICY_MAX_COMBINATIONS = 150;

/** DynamoDB Streams: records are kept 24 hours. */
export const DYNAMODB_STREAM_RETENTION = Duration.hours(24);
/** DynamoDB transactions: items per `TransactWriteItems`. */
export const DYNAMODB_MAX_TRANSACTION_ITEMS = LIMIT.dynamoDbMaxTransactionItems;

/** Step Functions: names, Express's execution limit, task timeouts and retriers. */
export const SFN_MAX_NAME_LENGTH = LIMIT.sfnExecutionNameMaxLength;
export const SFN_EXPRESS_MAX_DURATION = Duration.minutes(5);
export const SFN_MAX_TASK_TIMEOUT = Duration.days(365);
export const SFN_MIN_TASK_TIMEOUT = Duration.seconds(1);
export const SFN_MAX_RETRY_DELAY = Duration.seconds(31_622_400);
export const SFN_MAX_RETRY_ATTEMPTS = 99_999_999;
/** Concurrent iterations of a Distributed Map (an inline Map runs at most 40 at once whatever it says). */
export const SFN_MAX_MAP_CONCURRENCY = 10_000;

/** CloudWatch dashboards are 24 grid units wide. */
export const DASHBOARD_GRID_WIDTH = 24;

/** Lambda's shortest function timeout. */
export const LAMBDA_MIN_TIMEOUT = Duration.seconds(1);

/** Kafka event source mappings (MSK and self-managed). */
export const KAFKA_MAX_BATCH_SIZE = 10_000;
export const KAFKA_MAX_BATCHING_WINDOW = Duration.minutes(5);
export const KAFKA_MAX_RETRY_ATTEMPTS = 10_000;
export const KAFKA_MIN_RECORD_AGE = Duration.minutes(1);
export const KAFKA_MAX_RECORD_AGE = Duration.days(7);
/** Provisioned pollers: `MinimumPollers` 1-200, `MaximumPollers` 1-2000. */
export const KAFKA_MAX_MINIMUM_POLLERS = 200;
export const KAFKA_MAX_POLLERS = 2000;
/** A consumer group id: 1-200 characters of `[a-zA-Z0-9-/*:_+=.@-]`. */
export const KAFKA_CONSUMER_GROUP_ID_MAX_LENGTH = 200;
/** A Kafka topic name: 1-249 characters of `[a-zA-Z0-9._-]`. */
export const KAFKA_TOPIC_MAX_LENGTH = 249;
/** An MSK cluster name: 1-64 characters, a letter first, then letters, digits and hyphens. */
export const MSK_CLUSTER_NAME_MAX_LENGTH = 64;

/** Amazon MQ event source mappings, and brokers. */
export const MQ_MAX_BATCH_SIZE = 10_000;
export const MQ_MAX_BATCHING_WINDOW = Duration.minutes(5);
/** A broker name: 1-50 characters of letters, digits, `-` and `_`. */
export const MQ_BROKER_NAME_MAX_LENGTH = 50;
/** A broker username: 2-100 characters of letters, digits, `-`, `.`, `_` and `~`. */
export const MQ_USERNAME_MAX_LENGTH = 100;
/** A queue name of an MQ mapping: 1-1000 characters. */
export const MQ_QUEUE_NAME_MAX_LENGTH = 1000;
