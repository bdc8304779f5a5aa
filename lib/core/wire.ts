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
  /** EventRouter publishers and replayers. */
  eventBusName: 'EVENT_BUS_NAME',
  eventRouterConfig: 'EVENT_ROUTER_CONFIG',
  /** StreamPipeline producers: the stream's name and ARN. */
  streamName: 'STREAM_NAME',
  streamArn: 'STREAM_ARN',
  /** PriorityQueue's strict-mode dispatcher. */
  priorityLevels: 'PRIORITY_LEVELS',
  consumerFunction: 'CONSUMER_FUNCTION',
  batchSize: 'BATCH_SIZE',
  lowestLevelEvery: 'LOWEST_LEVEL_EVERY',
  consumerTimeoutSeconds: 'CONSUMER_TIMEOUT_SECONDS',
  runSeconds: 'RUN_SECONDS',
  idleWaitSeconds: 'IDLE_WAIT_SECONDS',
  /** FanOut publishers: the topic's ARN. */
  fanOutTopicArn: 'FAN_OUT_TOPIC_ARN',
  /** TransactionalOutbox producers: the outbox table, and how long command ids are remembered. */
  outboxTableName: 'OUTBOX_TABLE_NAME',
  outboxCommandRetentionSeconds: 'OUTBOX_COMMAND_RETENTION_SECONDS',
  /** TransactionalOutbox's relay: JSON config (table, target, event source, on-failure queue, attempts, retention). */
  outboxRelayConfig: 'OUTBOX_RELAY_CONFIG',
  /** EventStore producers, consumers and projectors: JSON config (table, payload bucket, snapshots, outbox). */
  eventStoreConfig: 'EVENT_STORE_CONFIG',
  /** Projection projectors, readers and rebuilders: the read-model table and the projection's name. */
  readModelTableName: 'READ_MODEL_TABLE_NAME',
  projectionName: 'PROJECTION_NAME',
  /** Saga producers, approvers and operators: JSON config (state machine ARNs, saga-log table, type). */
  sagaConfig: 'SAGA_CONFIG',
} as const;

/**
 * Environment variables of the kit's example handlers (work-queue, claim-check, dead-letter-queue,
 * priority-queue, sequential-convoy and idempotency consumers), set by the showcase app and the
 * integration stacks.
 */
export const EXAMPLE_ENV = {
  /** Where an example consumer reports each successful processing. */
  resultsQueueUrl: 'RESULTS_QUEUE_URL',
  /** Dead-letter-queue consumer: comma-separated task kinds it supports. */
  supportedKinds: 'SUPPORTED_KINDS',
  /** Priority-queue consumer: simulated work per message, in milliseconds. */
  workMs: 'WORK_MS',
  /** Idempotency notifier: where notifications go. */
  outputQueueUrl: 'OUTPUT_QUEUE_URL',
  /** Idempotency payments consumer: the payments table. */
  paymentsTableName: 'PAYMENTS_TABLE_NAME',
  /** Sequential-convoy consumer: the projection table. */
  tableName: 'TABLE_NAME',
  /** `on` in tests only: messages may ask an example consumer to fail. */
  faultInjection: 'FAULT_INJECTION',
  /** Sample order saga's steps: the orders table (inventory, payments, shipments). */
  ordersTableName: 'ORDERS_TABLE_NAME',
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
  /** Idempotent consumers: the producer's idempotency key (SQS, SNS). */
  idempotencyKey: 'idempotencyKey',
} as const;

/** Attributes of the idempotency table (Powertools idempotency's layout): partition key and TTL. */
export const IDEMPOTENCY_TABLE_ATTRIBUTE = {
  partitionKey: 'id',
  timeToLive: 'expiration',
} as const;

/**
 * Item layout of the outbox and event-store tables, shared by the constructs (keys, TTL, stream
 * filters) and the run-time helpers (what they write and read).
 */
export const RECORD_ATTRIBUTE = {
  /** Partition key (string) of the outbox, event-store and read-model tables. */
  partitionKey: 'pk',
  /** Sort key of the outbox (string) and event-store (number) tables. */
  sortKey: 'sk',
  /** What an item is: the stream filters of the relay and the projector match on it. */
  recordType: 'recordType',
  /** The TTL attribute (epoch seconds) of the outbox and event-store tables. */
  timeToLive: 'expiresAt',
} as const;

/** Values of `recordType` the stream filters select. */
export const RECORD_TYPE = {
  /** An outbox record: the relay publishes it. */
  outbox: 'outbox',
  /** An event of the event store: projectors project it. */
  event: 'event',
} as const;

/** Resource tag keys. */
export const TAG = {
  /** On a dead-letter queue: where its failure reasons are (`s3://<bucket>/<prefix>`). */
  failureReasons: 'cdk-messaging-patterns:failure-reasons',
  /** On a reply queue: the last time its requester used it (epoch seconds). */
  replyQueueHeartbeat: 'cdk-messaging-patterns:heartbeat',
} as const;

/**
 * The saga log (`Saga`'s DynamoDB table): one item per saga, keyed by the saga id (the execution
 * name). The state machine writes the outcome rows, the run-time helpers the start row and read
 * them all.
 */
export const SAGA_LOG_ATTRIBUTE = {
  /** Partition key (string): the saga id. */
  partitionKey: 'sagaId',
  /** One of {@link SAGA_STATUS}. */
  status: 'status',
  /** The business key the saga id was derived from (start row). */
  businessKey: 'businessKey',
  /** When the saga started and ended (ISO 8601). */
  startedAt: 'startedAt',
  endedAt: 'endedAt',
  /** The execution that ran the saga, and the last resume execution. */
  executionArn: 'executionArn',
  resumeExecutionArn: 'resumeExecutionArn',
  /** JSON: what the saga wrote (`results` per step, `failures`, `compensations`, `compensationFailure`). */
  saga: 'saga',
  /** JSON: the saga input (rows that may be resumed). */
  input: 'input',
  /** The step whose compensation exhausted its retries. */
  failedCompensation: 'failedCompensation',
  /** The steps still to undo, in the order they are undone (a list of strings). */
  stillToUndo: 'stillToUndo',
  /** Resumes started, and when the last one started. */
  resumeCount: 'resumeCount',
  resumedAt: 'resumedAt',
} as const;

/** Values of the saga log's `status`. */
export const SAGA_STATUS = {
  running: 'RUNNING',
  committed: 'COMMITTED',
  compensated: 'COMPENSATED',
  compensationFailed: 'COMPENSATION_FAILED',
  resuming: 'RESUMING',
} as const;

/** Error names the saga state machines end with. */
export const SAGA_ERROR = {
  /** A compensation exhausted its retries: the saga log holds the steps still to undo. */
  compensationFailed: 'Saga.CompensationFailed',
  /** A resume execution was asked to start at a step that has no compensation. */
  unknownResumeStep: 'Saga.UnknownResumeStep',
  /** A map item failed (its compensation ran): counted against the tolerated failure share. */
  itemFailed: 'Saga.ItemFailed',
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
  /** Entries of one SQS batch request (`ReceiveMessage`, `SendMessageBatch`, `DeleteMessageBatch`). */
  sqsMaxBatchEntries: 10,
  /** 1 MiB: the total payload of one `SendMessageBatch` request. */
  sqsMaxBatchBytes: 1_048_576,
  /** Longest long poll of `ReceiveMessage` (`WaitTimeSeconds`). */
  sqsMaxWaitTimeSeconds: 20,
  /** Longest visibility timeout SQS accepts (12 hours). */
  sqsMaxVisibilityTimeoutSeconds: 43_200,
  /** Shortest and longest message retention SQS accepts (1 minute, 14 days). */
  sqsMinRetentionSeconds: 60,
  sqsMaxRetentionSeconds: 1_209_600,
  /** Longest Lambda function timeout. */
  lambdaMaxTimeoutSeconds: 900,
  /** EventBridge Scheduler target retry policy: most retries, shortest and longest event age. */
  scheduleMaxRetryAttempts: 185,
  scheduleMinEventAgeSeconds: 60,
  scheduleMaxEventAgeSeconds: 86_400,
  /** Longest delay a DelayQueue accepts: a year. */
  delayQueueMaxDelaySeconds: 31_536_000,
  /** Longest reply queue name prefix (queue names allow 80 characters; the rest is the requester's id). */
  replyQueuePrefixMaxLength: 60,
  /** Items of one DynamoDB `TransactWriteItems` request. */
  dynamoDbMaxTransactionItems: 100,
  /** 4 MB: the total size of one DynamoDB transaction. */
  dynamoDbMaxTransactionBytes: 4_000_000,
  /** 400 KB: the largest DynamoDB item (attribute names and values). */
  dynamoDbMaxItemBytes: 409_600,
  /** Longest Step Functions execution name (saga ids are execution names). */
  sfnExecutionNameMaxLength: 80,
} as const;

/** Defaults both sides use. */
export const SHARED_DEFAULT = {
  /** Key prefix of claimed payloads. */
  claimCheckKeyPrefix: 'claims/',
  /** Key prefix of failure-reason records. */
  failureReasonPrefix: 'reasons/',
  /** How long a reply queue may sit unused before the reaper deletes it. */
  replyQueueIdleTimeoutSeconds: 3600,
  /** Strict-priority dispatcher: how long one run takes batches, and how long it long-polls when idle. */
  dispatcherRunSeconds: 55,
  dispatcherIdleWaitSeconds: 2,
  /** How long a published outbox record stays in the table before its TTL deletes it: a week. */
  outboxPublishedRetentionSeconds: 604_800,
  /** How long outbox writes and event-store appends remember a command id: 14 days, the longest SQS keeps a message. */
  commandRetentionSeconds: 1_209_600,
  /** Invocations in which an event was the relay's first unpublished one before the relay dead-letters it. */
  outboxMaxDeliveryAttempts: 3,
  /** Events between two snapshots of an aggregate. */
  eventStoreSnapshotEvery: 100,
  /** Event and snapshot payloads above this many bytes go to S3 (a DynamoDB item holds 400 KB, the rest of the item included). */
  eventStorePayloadThresholdBytes: 350_000,
} as const;
