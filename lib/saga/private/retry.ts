import { Duration } from 'aws-cdk-lib';
import { SAGA_RETRY_BACKOFF_RATE } from '../../core/defaults';
import { SFN_MAX_RETRY_ATTEMPTS, SFN_MAX_RETRY_DELAY } from '../../core/limits';
import { PropsValidator, describeValue, isUnresolved } from '../../core/validation';
import type { SagaRetry } from '../saga-step';
import type { RetryPolicy } from './definition';

/** A duration for a message, fractions of a second included. */
export const secondsOf = (d: Duration): string => (d.isUnresolved() ? '<token>' : `${d.toSeconds({ integral: false })} seconds`);

/** The kit's retry defaults for one kind of task. */
export interface RetryDefaults {
  readonly maxAttempts: number;
  readonly interval: Duration;
  readonly maxDelay: Duration;
}

export function resolveRetry(defaults: RetryDefaults, ...layers: (SagaRetry | undefined)[]): RetryPolicy {
  const merged: SagaRetry = Object.assign({}, ...layers.filter((l) => l !== undefined).map((l) => definedFields(l)));
  const interval = merged.interval ?? defaults.interval;
  const maxDelay = merged.maxDelay ?? defaults.maxDelay;
  return {
    maxAttempts: merged.maxAttempts ?? defaults.maxAttempts,
    intervalSeconds: interval.toSeconds({ integral: false }),
    backoffRate: merged.backoffRate ?? SAGA_RETRY_BACKOFF_RATE,
    maxDelaySeconds: maxDelay.toSeconds({ integral: false }),
    jitter: merged.jitter ?? true,
    nonRetryableErrors: merged.nonRetryableErrors ?? [],
  };
}

const definedFields = (o: object): object => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Checks a retry policy's fields into `v`, under `path` (`retry`, `steps.<name>.retry`). */
export function validateRetry(v: PropsValidator, path: string, retry: SagaRetry | undefined): void {
  if (!retry) return;
  v.integerInRange(`${path}.maxAttempts`, retry.maxAttempts, 0, SFN_MAX_RETRY_ATTEMPTS);
  for (const [field, value] of [
    ['interval', retry.interval],
    ['maxDelay', retry.maxDelay],
  ] as const) {
    if (value === undefined || value.isUnresolved()) continue;
    const seconds = value.toSeconds({ integral: false });
    v.check(
      `${path}.${field}:range`,
      Number.isInteger(seconds) && seconds >= 1 && seconds <= SFN_MAX_RETRY_DELAY.toSeconds(),
      `${path}.${field} must be a whole number of seconds between 1 and ${SFN_MAX_RETRY_DELAY.toSeconds()} (given ${secondsOf(value)})`,
    );
  }
  if (retry.interval && retry.maxDelay && !retry.interval.isUnresolved() && !retry.maxDelay.isUnresolved()) {
    v.check(
      `${path}.maxDelay:range`,
      retry.maxDelay.toSeconds({ integral: false }) >= retry.interval.toSeconds({ integral: false }),
      `${path}.maxDelay must not be shorter than ${path}.interval (given ${secondsOf(retry.maxDelay)} and ${secondsOf(retry.interval)})`,
    );
  }
  if (retry.backoffRate !== undefined && !isUnresolved(retry.backoffRate)) {
    v.check(
      `${path}.backoffRate:range`,
      Number.isFinite(retry.backoffRate) && retry.backoffRate >= 1,
      `${path}.backoffRate must be a number of at least 1 (given ${retry.backoffRate})`,
    );
  }
  for (const error of retry.nonRetryableErrors ?? []) {
    v.check(
      `${path}.nonRetryableErrors:format`,
      typeof error === 'string' && error.length > 0 && error !== 'States.ALL',
      `${path}.nonRetryableErrors must be error names, not States.ALL (given ${describeValue(error)})`,
    );
  }
}
