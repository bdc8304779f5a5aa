export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export { EventRouterConfigurationError, EventRouterError, ReplayFailedError } from './errors';
export { isReplayedEvent, parseEventRouterConfig, replay } from './replay';
export type { EventRouterConfig, ReplayOptions, ReplayProgress, ReplayResult } from './replay';
