export { EventRouter, ReplayedEvents } from './event-router';
export type { CrossAccountPublishers, EventRoute, EventRouterProps, RouteOptions } from './event-router';
export { RouteTarget } from './route-target';
export type { QueueRouteTargetOptions, RouteTargetOptions, StreamRouteTargetOptions } from './route-target';
