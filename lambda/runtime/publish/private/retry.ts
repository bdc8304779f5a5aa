/** Which failures a publisher retries, and how long it waits. Not public. */

/** Error codes (of an entry or of a whole call) that mean "too fast, try again later". */
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'Throttled',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'KMSThrottling',
  'KMSThrottlingException',
  'SlowDown',
]);

/** Error codes that mean "the service failed, not the request". */
const TRANSIENT_CODES = new Set([
  'InternalFailure',
  'InternalError',
  'InternalErrorException',
  'InternalServerError',
  'InternalServiceError',
  'InternalException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSInternalException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Node.js socket errors of a call that may well succeed on another connection. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
]);

/** Whether an entry's error code is throttling or an internal failure (retried), as opposed to a refusal (reported at once). */
export function isRetryableErrorCode(code: string | undefined): boolean {
  return code !== undefined && (THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code));
}

/**
 * Whether a whole call that threw may succeed when sent again: the SDK marked it retryable, an
 * HTTP 429 or 5xx, a throttling or internal error code, a timeout or a socket error. Anything else
 * (access denied, a missing topic or stream, a malformed request) is reported for every entry of
 * the call.
 */
export function isRetryableCallError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  const name = typeof e.name === 'string' ? e.name : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  return isRetryableErrorCode(name) || isRetryableErrorCode(code) || (code !== undefined && NETWORK_CODES.has(code));
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a random delay between 0 and `min(maxDelayMs, baseDelayMs * 2^(attempt - 1))`, `attempt` being
 * the number of calls that already carried the entry.
 */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random * ceiling);
}

/** The name and message of anything thrown, for a failed entry. */
export function describeError(error: unknown): { readonly errorCode: string; readonly errorMessage: string } {
  if (error instanceof Error) return { errorCode: error.name || 'Error', errorMessage: error.message };
  return { errorCode: 'Error', errorMessage: String(error) };
}
