import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ENV, EXAMPLE_ENV, IDEMPOTENCY_TABLE_ATTRIBUTE, LIMIT, MESSAGE_ATTRIBUTE, SHARED_DEFAULT, TAG } from '../../../../lib/core/wire';
import * as claimCheck from '../../../../lambda/runtime/claim-check';
import * as delayQueue from '../../../../lambda/runtime/delay-queue';
import * as dlq from '../../../../lambda/runtime/dlq';
import * as idempotency from '../../../../lambda/runtime/idempotency';
import * as priorityQueue from '../../../../lambda/runtime/priority-queue';
import * as requestReply from '../../../../lambda/runtime/request-reply';

const WIRE = path.join(__dirname, '../../../../lib/core/wire.ts');

describe('lib/core/wire.ts', () => {
  it('imports nothing (both lib/ and lambda/ import it)', () => {
    const source = readFileSync(WIRE, 'utf8');
    expect(source).not.toMatch(/^\s*import\b/m);
    expect(source).not.toMatch(/\brequire\s*\(/);
    expect(source).not.toMatch(/^\s*export\s+(\*|\{[^}]*\})\s+from\b/m);
  });

  it('names environment variables in UPPER_SNAKE_CASE, each once', () => {
    const names = [...Object.values(ENV), ...Object.values(EXAMPLE_ENV)];
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it("prefixes the kit's tag keys with the package name", () => {
    for (const key of Object.values(TAG)) expect(key).toMatch(/^cdk-messaging-patterns:/);
  });
});

describe("The run-time library's exported names", () => {
  it.each([
    ['claim-check DEFAULT_THRESHOLD_BYTES', claimCheck.DEFAULT_THRESHOLD_BYTES, LIMIT.claimCheckDefaultThresholdBytes],
    ['claim-check MAX_THRESHOLD_BYTES', claimCheck.MAX_THRESHOLD_BYTES, LIMIT.claimCheckMaxThresholdBytes],
    ['claim-check DEFAULT_KEY_PREFIX', claimCheck.DEFAULT_KEY_PREFIX, SHARED_DEFAULT.claimCheckKeyPrefix],
    ['delay-queue DELAY_QUEUE_CONFIG_ENV', delayQueue.DELAY_QUEUE_CONFIG_ENV, ENV.delayQueueConfig],
    ['delay-queue SQS_MAX_DELAY_SECONDS', delayQueue.SQS_MAX_DELAY_SECONDS, LIMIT.sqsMaxDelaySeconds],
    ['delay-queue MAX_DELAY_SECONDS', delayQueue.MAX_DELAY_SECONDS, LIMIT.delayQueueMaxDelaySeconds],
    ['dlq FAILURE_REASON_BUCKET_ENV', dlq.FAILURE_REASON_BUCKET_ENV, ENV.failureReasonBucket],
    ['dlq FAILURE_REASON_PREFIX_ENV', dlq.FAILURE_REASON_PREFIX_ENV, ENV.failureReasonPrefix],
    ['dlq FAILURE_REASONS_TAG', dlq.FAILURE_REASONS_TAG, TAG.failureReasons],
    ['dlq MAX_REDRIVE_RATE', dlq.MAX_REDRIVE_RATE, LIMIT.maxRedriveRatePerSecond],
    ['idempotency IDEMPOTENCY_TABLE_NAME_ENV', idempotency.IDEMPOTENCY_TABLE_NAME_ENV, ENV.idempotencyTableName],
    ['idempotency IDEMPOTENCY_KEY_ATTRIBUTE', idempotency.IDEMPOTENCY_KEY_ATTRIBUTE, MESSAGE_ATTRIBUTE.idempotencyKey],
    [
      'idempotency IDEMPOTENCY_RECORD_ATTRIBUTES.id',
      idempotency.IDEMPOTENCY_RECORD_ATTRIBUTES.id,
      IDEMPOTENCY_TABLE_ATTRIBUTE.partitionKey,
    ],
    [
      'idempotency IDEMPOTENCY_RECORD_ATTRIBUTES.expiration',
      idempotency.IDEMPOTENCY_RECORD_ATTRIBUTES.expiration,
      IDEMPOTENCY_TABLE_ATTRIBUTE.timeToLive,
    ],
    ['priority-queue PRIORITY_QUEUE_CONFIG_ENV', priorityQueue.PRIORITY_QUEUE_CONFIG_ENV, ENV.priorityQueueConfig],
    ['priority-queue PRIORITY_ATTRIBUTE', priorityQueue.PRIORITY_ATTRIBUTE, MESSAGE_ATTRIBUTE.priority],
    ['request-reply CORRELATION_ID_ATTRIBUTE', requestReply.CORRELATION_ID_ATTRIBUTE, MESSAGE_ATTRIBUTE.correlationId],
    ['request-reply REPLY_TO_ATTRIBUTE', requestReply.REPLY_TO_ATTRIBUTE, MESSAGE_ATTRIBUTE.replyTo],
    ['request-reply EXPIRES_AT_ATTRIBUTE', requestReply.EXPIRES_AT_ATTRIBUTE, MESSAGE_ATTRIBUTE.expiresAt],
    ['request-reply REPLY_STATUS_ATTRIBUTE', requestReply.REPLY_STATUS_ATTRIBUTE, MESSAGE_ATTRIBUTE.replyStatus],
    ['request-reply HEARTBEAT_TAG', requestReply.HEARTBEAT_TAG, TAG.replyQueueHeartbeat],
    ['request-reply REQUEST_QUEUE_URL_ENV', requestReply.REQUEST_QUEUE_URL_ENV, ENV.requestQueueUrl],
    ['request-reply REQUEST_QUEUE_ARN_ENV', requestReply.REQUEST_QUEUE_ARN_ENV, ENV.requestQueueArn],
    ['request-reply REPLY_QUEUE_PREFIX_ENV', requestReply.REPLY_QUEUE_PREFIX_ENV, ENV.replyQueuePrefix],
    ['request-reply REPLY_QUEUE_IDLE_TIMEOUT_ENV', requestReply.REPLY_QUEUE_IDLE_TIMEOUT_ENV, ENV.replyQueueIdleTimeoutSeconds],
  ])('%s is the wire value', (_name, runtime, wire) => {
    expect(runtime).toBe(wire);
  });

  it('the names deployed functions already depend on keep their values', () => {
    expect([ENV.requestQueueUrl, ENV.failureReasonBucket, ENV.idempotencyTableName, ENV.delayQueueConfig]).toEqual([
      'REQUEST_QUEUE_URL',
      'FAILURE_REASON_BUCKET',
      'IDEMPOTENCY_TABLE_NAME',
      'DELAY_QUEUE_CONFIG',
    ]);
    expect([MESSAGE_ATTRIBUTE.priority, MESSAGE_ATTRIBUTE.correlationId, TAG.replyQueueHeartbeat, TAG.failureReasons]).toEqual([
      'priority',
      'CorrelationId',
      'cdk-messaging-patterns:heartbeat',
      'cdk-messaging-patterns:failure-reasons',
    ]);
  });
});
