/** Checks of the publishers' options; each throws {@link PublishConfigurationError} naming the option and the value. Not public. */
import type { RuntimeLogger } from '../../internal/logger';
import { PublishConfigurationError } from '../errors';

const show = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));

/** `value` when it is an integer in [min, max], `fallback` when undefined; throws otherwise. */
export function integerOption(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PublishConfigurationError(option, `must be an integer between ${min} and ${max} (given ${show(value)})`);
  }
  return value;
}

/** `value` when it is a finite number in [min, max], `fallback` when undefined; throws otherwise. */
export function numberOption(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new PublishConfigurationError(option, `must be a number between ${min} and ${max} (given ${show(value)})`);
  }
  return value;
}

/** `value` when it is a boolean, `fallback` when undefined; throws otherwise. */
export function booleanOption(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new PublishConfigurationError(option, `must be true or false (given ${show(value)})`);
  return value;
}

/** `value` when it is one of `allowed`, `fallback` when undefined; throws otherwise. */
export function enumOption<T extends string>(option: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new PublishConfigurationError(option, `must be one of ${allowed.map(show).join(', ')} (given ${show(value)})`);
  }
  return value as T;
}

/** `value` when it is a non-empty string; `undefined` when optional and absent; throws otherwise. */
export function stringOption(option: string, value: unknown, required: true): string;
export function stringOption(option: string, value: unknown, required: false): string | undefined;
export function stringOption(option: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new PublishConfigurationError(option, `must be a non-empty string (given ${value === undefined ? 'nothing' : show(value)})`);
  }
  return value;
}

/** `value` when it is a logger (has `warn`), `null`, or undefined; throws otherwise. */
export function loggerOption(value: unknown): RuntimeLogger | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof (value as RuntimeLogger).warn !== 'function') {
    throw new PublishConfigurationError(
      'logger',
      `must have a warn method (a Powertools Logger, console) or be null (given ${show(value)})`,
    );
  }
  return value as RuntimeLogger;
}

/** `value` when it looks like an SDK v3 client (has `send`), undefined when absent; throws otherwise. */
export function clientOption<C>(value: C | undefined): C | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as { send?: unknown } | null)?.send !== 'function') {
    throw new PublishConfigurationError('client', `must be an AWS SDK v3 client (given ${show(value)})`);
  }
  return value;
}
