import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the event router helpers' errors. */
export class EventRouterError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'EventRouterError';
  }
}

/** Thrown when the router configuration or a `replay()` option is missing or invalid. */
export class EventRouterConfigurationError extends EventRouterError {
  /** The option at fault, e.g. `routes`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'EventRouterConfigurationError';
    this.option = option;
  }
}

/** Thrown by `replay()` when the replay ends FAILED or CANCELLED. */
export class ReplayFailedError extends EventRouterError {
  /** The replay's name. */
  public readonly replayName: string;
  /** Its final state. */
  public readonly state: string;

  constructor(replayName: string, state: string, reason: string | undefined) {
    super(`replay ${replayName} ended ${state}${reason ? `: ${reason}` : ''}`, {
      retryable: state === 'CANCELLED',
      context: { replayName, state },
    });
    this.name = 'ReplayFailedError';
    this.replayName = replayName;
    this.state = state;
  }
}
