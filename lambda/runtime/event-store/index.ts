export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export {
  ConcurrencyError,
  EventStoreConfigurationError,
  EventStoreError,
  EventStoreInputError,
  EventStorePersistenceError,
  MalformedEventError,
  ReducerError,
  UpcastError,
} from './errors';
export { EVENT_ATTRIBUTE, EVENT_RECORD_TYPE, SNAPSHOT_RECORD_TYPE, checkAggregateId, commandKey, snapshotKey } from './layout';
export type { NewEvent, StoredEvent } from './layout';
export { LIVE_CHECKPOINT_KEY, Projector, READ_MODEL_ATTRIBUTE, REBUILD_CHECKPOINT_KEY, projectStreamBatch } from './projection';
export type { ProjectionDefinition, ProjectionReport, ProjectorOptions, ReadModel, RebuildOptions, RebuildReport } from './projection';
export { EventStore } from './store';
export type {
  AppendOptions,
  AppendResult,
  EventPage,
  EventRange,
  EventStoreConfig,
  EventStoreOptions,
  ExecuteOptions,
  HistoryPoint,
  LoadedAggregate,
  Reducer,
} from './store';
export { UpcasterChain } from './upcast';
export type { UpcastContext, UpcastFunction, Upcasters } from './upcast';
