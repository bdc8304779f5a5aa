/**
 * Where the relay publishes: an EventBridge bus, an SNS topic (FIFO for order) or a Kinesis stream,
 * each through the run-time publishers (only failed entries retried, a key's later entries held back
 * behind a failure, `ordering: 'strict'` keyed by the aggregate id).
 */
import { createHash } from 'node:crypto';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { RuntimeLogger } from '../internal/logger';
import { EventBridgePublisher } from '../publish/eventbridge';
import { KinesisPublisher } from '../publish/kinesis';
import type { PublisherOptions } from '../publish/publisher';
import type { PublishResult } from '../publish/result';
import { SnsPublisher } from '../publish/sns';
import { MESSAGE_ATTRIBUTE } from '../../../lib/core/wire';
import { type OutboxRecord, envelopeText } from './record';

/** Where the relay publishes (the construct's `OUTBOX_RELAY_CONFIG` says which). */
export type OutboxTargetConfig =
  | { readonly kind: 'eventbridge'; readonly eventBusName: string }
  | { readonly kind: 'sns'; readonly topicArn: string }
  | { readonly kind: 'kinesis'; readonly streamName?: string; readonly streamArn?: string };

/** One record to publish, with the id the result names it by (unique within one call). */
export interface RelayEntry {
  readonly id: string;
  readonly record: OutboxRecord;
}

/** A publish target of the relay: publishes records in order per aggregate, and reports each one. */
export interface OutboxTarget {
  readonly kind: OutboxTargetConfig['kind'];
  publish(entries: readonly RelayEntry[]): Promise<PublishResult>;
}

/** The SDK clients a target may use (one is used). */
export interface OutboxTargetClients {
  readonly eventBridge?: EventBridgeClient;
  readonly sns?: SNSClient;
  readonly kinesis?: KinesisClient;
}

/** Options of {@link createOutboxTarget}. */
export interface OutboxTargetOptions {
  /** EventBridge: the events' `source`. */
  readonly source: string;
  readonly clients?: OutboxTargetClients;
  /** The publisher's retries within one invocation (`maxAttempts`, `baseDelayMs`, `maxDelayMs`, `maxConcurrentCalls`). */
  readonly publisher?: Pick<PublisherOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'maxConcurrentCalls'>;
  readonly logger?: RuntimeLogger | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** SNS FIFO: message group and deduplication ids are 1-128 characters of letters, digits and punctuation. */
const SNS_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;
const snsId = (value: string) => (SNS_ID.test(value) ? value : sha256(value));
/** Kinesis partition keys are 1-256 Unicode characters. */
const partitionKey = (value: string) => ([...value].length <= 256 ? value : sha256(value));

/** The relay's publisher for `config`. */
export function createOutboxTarget(config: OutboxTargetConfig, options: OutboxTargetOptions): OutboxTarget {
  const common = { ...options.publisher, ordering: 'strict' as const, logger: options.logger };
  switch (config.kind) {
    case 'eventbridge': {
      const publisher = new EventBridgePublisher({ ...common, eventBusName: config.eventBusName, client: options.clients?.eventBridge });
      return {
        kind: config.kind,
        publish: (entries) =>
          publisher.publish(
            entries.map(({ id, record }) => ({
              id,
              orderingKey: record.aggregateId,
              source: options.source,
              detailType: record.type,
              detail: envelopeText(record),
              time: new Date(record.occurredAt),
            })),
          ),
      };
    }
    case 'sns': {
      const fifo = config.topicArn.endsWith('.fifo');
      const publisher = new SnsPublisher({ ...common, topicArn: config.topicArn, client: options.clients?.sns });
      return {
        kind: config.kind,
        publish: (entries) =>
          publisher.publish(
            entries.map(({ id, record }) => ({
              id,
              orderingKey: record.aggregateId,
              message: envelopeText(record),
              messageAttributes: {
                [MESSAGE_ATTRIBUTE.idempotencyKey]: { DataType: 'String', StringValue: record.eventId },
                eventType: { DataType: 'String', StringValue: record.type },
              },
              ...(fifo ? { messageGroupId: snsId(record.aggregateId), messageDeduplicationId: snsId(record.eventId) } : {}),
            })),
          ),
      };
    }
    case 'kinesis': {
      const publisher = new KinesisPublisher({
        ...common,
        streamName: config.streamName,
        streamArn: config.streamArn,
        client: options.clients?.kinesis,
      });
      return {
        kind: config.kind,
        publish: (entries) =>
          publisher.publish(
            entries.map(({ id, record }) => ({
              id,
              orderingKey: record.aggregateId,
              partitionKey: partitionKey(record.aggregateId),
              data: envelopeText(record),
            })),
          ),
      };
    }
  }
}
