/**
 * The names that cross the wall between synth-time code (`lib/`) and run-time code (`lambda/`):
 * environment variables a construct sets and a handler reads, message attributes one side writes
 * and the other reads, tag keys, and the limits both sides check. Defined once, here; both worlds
 * import this file, so it imports nothing (a lint rule keeps it that way).
 *
 * Not part of the public API: the root export does not re-export it.
 */

/** Environment variables, by pattern. */
export const ENV = {
  /** WorkQueue / SequentialConvoy producers: the queue's URL. */
  workQueueUrl: 'WORK_QUEUE_URL',
  convoyQueueUrl: 'CONVOY_QUEUE_URL',
  /** PriorityQueue producers: JSON config (levels and queue URLs, default level). */
  priorityQueueConfig: 'PRIORITY_QUEUE_CONFIG',
  /** DelayQueue producers: JSON config (queue, schedule group, role, retry policy). */
  delayQueueConfig: 'DELAY_QUEUE_CONFIG',
  /** ClaimCheck producers and consumers. */
  claimCheckBucketName: 'CLAIM_CHECK_BUCKET_NAME',
  claimCheckThresholdBytes: 'CLAIM_CHECK_THRESHOLD_BYTES',
  claimCheckKeyPrefix: 'CLAIM_CHECK_KEY_PREFIX',
  /** RequestReply requesters, responders and the reaper. */
  requestQueueUrl: 'REQUEST_QUEUE_URL',
  requestQueueArn: 'REQUEST_QUEUE_ARN',
  replyQueuePrefix: 'REPLY_QUEUE_PREFIX',
  replyQueueIdleTimeoutSeconds: 'REPLY_QUEUE_IDLE_TIMEOUT_SECONDS',
  /** IdempotencyTable consumers. */
  idempotencyTableName: 'IDEMPOTENCY_TABLE_NAME',
  /** FailureReasonStore recorders. */
  failureReasonBucket: 'FAILURE_REASON_BUCKET',
  failureReasonPrefix: 'FAILURE_REASON_PREFIX',
  /** DeadLetterQueueRedrive's function. */
  deadLetterQueueArn: 'DEAD_LETTER_QUEUE_ARN',
  destinationQueueArn: 'DESTINATION_QUEUE_ARN',
  maxMessagesPerSecond: 'MAX_MESSAGES_PER_SECOND',
  /** PriorityQueue's strict-mode dispatcher. */
  priorityLevels: 'PRIORITY_LEVELS',
  consumerFunction: 'CONSUMER_FUNCTION',
  batchSize: 'BATCH_SIZE',
  lowestLevelEvery: 'LOWEST_LEVEL_EVERY',
  consumerTimeoutSeconds: 'CONSUMER_TIMEOUT_SECONDS',
  runSeconds: 'RUN_SECONDS',
  idleWaitSeconds: 'IDLE_WAIT_SECONDS',
} as const;

/** SQS message attributes, by pattern. */
export const MESSAGE_ATTRIBUTE = {
  /** PriorityQueue: the level a message was sent at. */
  priority: 'priority',
  /** RequestReply: request and reply correlation. */
  correlationId: 'CorrelationId',
  replyTo: 'ReplyTo',
  expiresAt: 'ExpiresAt',
  replyStatus: 'ReplyStatus',
} as const;

/** Resource tag keys. */
export const TAG = {
  /** On a dead-letter queue: where its failure reasons are (`s3://<bucket>/<prefix>`). */
  failureReasons: 'cdk-messaging-patterns:failure-reasons',
  /** On a reply queue: the last time its requester used it (epoch seconds). */
  replyQueueHeartbeat: 'cdk-messaging-patterns:heartbeat',
} as const;

/** Limits both sides check (the construct at synth, the helper at run time). */
export const LIMIT = {
  /** Longest delay SQS applies itself (`DelaySeconds`); longer delays go through EventBridge Scheduler. */
  sqsMaxDelaySeconds: 900,
  /** The most SQS accepts for a message move task's `MaxNumberOfMessagesPerSecond`. */
  maxRedriveRatePerSecond: 500,
  /** 256 KiB: the SNS and EventBridge entry limit, the claim check's default threshold. */
  claimCheckDefaultThresholdBytes: 262_144,
  /** 1 MiB: the SQS message limit, the claim check's highest threshold. */
  claimCheckMaxThresholdBytes: 1_048_576,
} as const;

/** Defaults both sides use. */
export const SHARED_DEFAULT = {
  /** Key prefix of claimed payloads. */
  claimCheckKeyPrefix: 'claims/',
  /** Key prefix of failure-reason records. */
  failureReasonPrefix: 'reasons/',
} as const;
