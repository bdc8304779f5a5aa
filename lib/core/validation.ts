import { Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MessagingPatternsError } from './errors';

/** Formats a value for an error message: durations in seconds, everything else as JSON. */
export function describeValue(value: unknown): string {
  if (value instanceof Duration) {
    return value.isUnresolved() ? '<token>' : `${value.toSeconds()} seconds`;
  }
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

/** True when a value cannot be checked at synth time (a token, or a duration built from one). */
export function isUnresolved(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (value instanceof Duration) return value.isUnresolved();
  return Token.isUnresolved(value);
}

/**
 * Collects every problem in a construct's props, then throws them together in one
 * {@link MessagingPatternsError}. Values that are unresolved tokens are skipped.
 */
export class PropsValidator {
  private readonly found: string[] = [];

  constructor(private readonly scope: Construct) {}

  /** Records `message` when `condition` is false. A problem already recorded is not repeated. */
  public check(condition: boolean, message: string): this {
    if (!condition) this.add(message);
    return this;
  }

  /** Records a problem when `value` is a resolved number outside [min, max]. */
  public integerInRange(name: string, value: number | undefined, min: number, max: number, context = ''): this {
    if (value === undefined || isUnresolved(value)) return this;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.add(`${name} must be an integer between ${min} and ${max}${context} (given ${value})`);
    }
    return this;
  }

  /** Records a problem when `value` is a resolved duration outside [min, max]. */
  public durationInRange(name: string, value: Duration | undefined, min: Duration, max: Duration, context = ''): this {
    if (value === undefined || value.isUnresolved()) return this;
    const s = value.toSeconds();
    if (s < min.toSeconds() || s > max.toSeconds()) {
      this.add(`${name} must be between ${describeValue(min)} and ${describeValue(max)}${context} (given ${describeValue(value)})`);
    }
    return this;
  }

  /** Records a problem when more than one of the named inputs is set. */
  public mutuallyExclusive(inputs: Record<string, unknown>): this {
    const given = Object.entries(inputs)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (given.length > 1) {
      this.add(`provide only one of ${Object.keys(inputs).join(', ')} (given ${given.join(' and ')})`);
    }
    return this;
  }

  /** Records a problem when `input` is set while `because` is set too. */
  public notWith(input: string, value: unknown, because: string, becauseValue: unknown): this {
    if (value !== undefined && becauseValue !== undefined) {
      this.add(`${input} cannot be used with ${because}: ${because} is used as it is`);
    }
    return this;
  }

  /** Number of problems found so far. */
  public get count(): number {
    return this.found.length;
  }

  /** The problems found so far, in the order they were found, without throwing them. */
  public get problems(): readonly string[] {
    return [...this.found];
  }

  /** Throws all problems found, if any. */
  public throwIfInvalid(): void {
    if (this.found.length > 0) {
      throw new MessagingPatternsError(this.scope.node.path, [...this.found]);
    }
  }

  private add(problem: string): void {
    if (!this.found.includes(problem)) this.found.push(problem);
  }
}
