/**
 * The event table's items, and the events and snapshots as the store hands them out.
 *
 * | item | `pk` (S) | `sk` (N) | attributes |
 * |---|---|---|---|
 * | event | `<aggregateId>` | version (1, 2, ...) | `recordType` `event`, `eventId`, `type`, `schemaVersion`, `data` (JSON text, or a claim when the payload is in S3), `recordedAt` (epoch ms), `metadata`, `commandId` |
 * | snapshot | `<aggregateId>#snapshot#r<reducerVersion>` | version of the state | `recordType` `snapshot`, `state` (JSON text or a claim), `reducerVersion`, `lastEventId`, `lastRecordedAt`, `takenAt` |
 * | command | `<aggregateId>#command#<commandId>` | 0 | `recordType` `command`, `fromVersion`, `toVersion`, `eventIds`, `expiresAt` (TTL) |
 *
 * The stream (NEW_IMAGE) shows every insert; projectors are filtered to `recordType` `event`.
 */
import { RECORD_ATTRIBUTE, RECORD_TYPE } from '../../../lib/core/wire';
import { EventStoreInputError } from './errors';

export const EVENT_ATTRIBUTE = {
  partitionKey: RECORD_ATTRIBUTE.partitionKey,
  sortKey: RECORD_ATTRIBUTE.sortKey,
  recordType: RECORD_ATTRIBUTE.recordType,
  expiresAt: RECORD_ATTRIBUTE.timeToLive,
  eventId: 'eventId',
  type: 'type',
  schemaVersion: 'schemaVersion',
  data: 'data',
  recordedAt: 'recordedAt',
  metadata: 'metadata',
  commandId: 'commandId',
  state: 'state',
  reducerVersion: 'reducerVersion',
  lastEventId: 'lastEventId',
  lastRecordedAt: 'lastRecordedAt',
  takenAt: 'takenAt',
  fromVersion: 'fromVersion',
  toVersion: 'toVersion',
  eventIds: 'eventIds',
} as const;

export const EVENT_RECORD_TYPE = RECORD_TYPE.event;
export const SNAPSHOT_RECORD_TYPE = 'snapshot';
export const COMMAND_RECORD_TYPE = 'command';

const SNAPSHOT_MARK = '#snapshot#';
const COMMAND_MARK = '#command#';

/** A new event, as `append` takes it. */
export interface NewEvent<D = unknown> {
  /** The event's type (`Deposited`, `OrderShipped`). */
  readonly type: string;
  /** Its data: anything `JSON.stringify` accepts. */
  readonly data: D;
  /**
   * The schema version `data` follows.
   *
   * @default - the latest for its type (one past the highest upcaster's `fromVersion`, else 1)
   */
  readonly schemaVersion?: number;
  /** @default - a random UUID */
  readonly eventId?: string;
  /** Fields of your own (correlation id, actor...). @default - none */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** An event as read back: its data at the latest schema version. */
export interface StoredEvent<D = unknown> {
  readonly aggregateId: string;
  readonly version: number;
  readonly eventId: string;
  readonly type: string;
  /** The schema version of `data` (the latest, once upcast). */
  readonly schemaVersion: number;
  readonly data: D;
  /** When it was appended (ISO 8601). */
  readonly recordedAt: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** The command that appended it, when one was given. */
  readonly commandId?: string;
}

/** Checks an aggregate id: 1 to 1024 bytes, not starting with `#`, without the store's `#snapshot#` and `#command#` marks. */
export function checkAggregateId(aggregateId: unknown): string {
  if (
    typeof aggregateId !== 'string' ||
    aggregateId === '' ||
    Buffer.byteLength(aggregateId) > 1024 ||
    aggregateId.startsWith('#') ||
    aggregateId.includes(SNAPSHOT_MARK) ||
    aggregateId.includes(COMMAND_MARK)
  ) {
    throw new EventStoreInputError(
      `aggregateId must be a string of 1 to 1024 bytes, not starting with '#' and without '${SNAPSHOT_MARK}' or '${COMMAND_MARK}' (given ${JSON.stringify(aggregateId)})`,
    );
  }
  return aggregateId;
}

export const snapshotKey = (aggregateId: string, reducerVersion: number): string => `${aggregateId}${SNAPSHOT_MARK}r${reducerVersion}`;
export const commandKey = (aggregateId: string, commandId: string): string => `${aggregateId}${COMMAND_MARK}${commandId}`;
