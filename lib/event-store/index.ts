export { EventStore } from './event-store';
export type { EventStoreProps } from './event-store';
export { Projection } from './projection';
export type { ProjectionOptions, ProjectionProps } from './projection';
