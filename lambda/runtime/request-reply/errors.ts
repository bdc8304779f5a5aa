import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the request-reply errors. */
export class RequestReplyError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'RequestReplyError';
  }
}

/**
 * Thrown when a requester, responder or the reaper lacks a setting or is given an invalid one (an
 * environment variable not set, a prefix, timeout or retention out of range, a malformed ARN).
 */
export class RequestReplyConfigurationError extends RequestReplyError {
  /** The option (or environment variable) at fault, e.g. `replyRetentionSeconds`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'RequestReplyConfigurationError';
    this.option = option;
  }
}

/** Thrown (rejected) by `SqsRequester.request` when no reply arrives within the timeout. Retryable. */
export class RequestTimeoutError extends RequestReplyError {
  /** The correlation id of the request; a reply that still arrives is dropped. */
  public readonly correlationId: string;
  /** The timeout, in milliseconds. */
  public readonly timeoutMs: number;

  constructor(correlationId: string, timeoutMs: number) {
    super(`no reply to request ${correlationId} within ${timeoutMs} ms`, { retryable: true, context: { correlationId, timeoutMs } });
    this.name = 'RequestTimeoutError';
    this.correlationId = correlationId;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Thrown (rejected) by `SqsRequester.request` when the responder replied with an error: it threw a
 * `RejectRequestError` (a request it will never accept, so it answers at once instead of retrying).
 */
export class RequestRejectedError extends RequestReplyError {
  public readonly correlationId: string;
  /** The name of the responder's error. */
  public readonly remoteName: string;
  /** The message of the responder's error. */
  public readonly remoteMessage: string;

  constructor(correlationId: string, remoteName: string, remoteMessage: string) {
    super(`request ${correlationId} was rejected by the responder: ${remoteName}: ${remoteMessage}`, {
      retryable: false,
      context: { correlationId, remoteName },
    });
    this.name = 'RequestRejectedError';
    this.correlationId = correlationId;
    this.remoteName = remoteName;
    this.remoteMessage = remoteMessage;
  }
}

/**
 * Thrown (rejected) by `SqsRequester.request` when the requester's reply queue disappeared while
 * the request waited (deleted by the reaper after a long idle period, or by hand). Retryable: the
 * next request creates a new reply queue.
 */
export class ReplyQueueLostError extends RequestReplyError {
  public readonly correlationId: string;

  constructor(correlationId: string, options: { cause?: unknown } = {}) {
    super(`the reply queue of request ${correlationId} was deleted while it waited`, {
      cause: options.cause,
      retryable: true,
      context: { correlationId },
    });
    this.name = 'ReplyQueueLostError';
    this.correlationId = correlationId;
  }
}

/**
 * Throw it from a responder's handler to reply with an error at once (the requester gets a
 * `RequestRejectedError`). Any other error fails the message, which is retried and, after
 * `maxReceiveCount` receives, moved to the request queue's dead-letter queue. Not retryable.
 */
export class RejectRequestError extends RequestReplyError {
  constructor(message: string, options: { cause?: unknown; context?: Readonly<Record<string, unknown>> } = {}) {
    super(message, { cause: options.cause, retryable: false, context: options.context });
    this.name = 'RejectRequestError';
  }
}

/**
 * Thrown by the responder for a request it cannot answer: no correlation id or reply-to, or a
 * reply-to that is not a reply queue of this pattern (another prefix or another account). The
 * message fails and ends in the request queue's dead-letter queue, where an operator sees it.
 */
export class InvalidRequestError extends RequestReplyError {
  public readonly messageId: string;

  constructor(messageId: string, reason: string) {
    super(`request ${messageId} cannot be answered: ${reason}`, { retryable: false, context: { messageId, reason } });
    this.name = 'InvalidRequestError';
    this.messageId = messageId;
  }
}
