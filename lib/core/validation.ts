import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { MessagingPatternsError, Problem } from './errors';

/** Formats a value for an error message: durations in seconds, strings quoted, everything else as is. */
export function describeValue(value: unknown): string {
  if (value instanceof Duration) {
    return value.isUnresolved() ? '<token>' : `${value.toSeconds()} seconds`;
  }
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

/** True when a value cannot be checked at synth time (a token, or a duration built from one). */
export function isUnresolved(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (value instanceof Duration) return value.isUnresolved();
  return Token.isUnresolved(value);
}

/**
 * Collects every problem in a construct's props, each with a stable code, then throws them
 * together in one {@link MessagingPatternsError}. Values that are unresolved tokens are skipped.
 *
 * Codes are `<prop>:<kind>` (see {@link Problem.code}); the generic checks derive them from the
 * prop name (`integerInRange('batchSize', ...)` reports `batchSize:range`).
 */
export class PropsValidator {
  private readonly found: Problem[] = [];

  constructor(private readonly scope: IConstruct) {}

  /** Records problem `code` with `message` when `condition` is false. A problem already recorded is not repeated. */
  public check(code: string, condition: boolean, message: string): this {
    if (!condition) this.add(code, message);
    return this;
  }

  /** Records `<name>:range` when `value` is a resolved number that is not an integer in [min, max]. */
  public integerInRange(name: string, value: number | undefined, min: number, max: number, context = ''): this {
    if (value === undefined || isUnresolved(value)) return this;
    return this.check(
      `${name}:range`,
      Number.isInteger(value) && value >= min && value <= max,
      `${name} must be an integer between ${min} and ${max}${context} (given ${value})`,
    );
  }

  /** Records `<name>:range` when `value` is a resolved number outside [min, max]. */
  public numberInRange(name: string, value: number | undefined, min: number, max: number, context = ''): this {
    if (value === undefined || isUnresolved(value)) return this;
    return this.check(
      `${name}:range`,
      Number.isFinite(value) && value >= min && value <= max,
      `${name} must be between ${min} and ${max}${context} (given ${value})`,
    );
  }

  /** Records `<name>:range` when `value` is a resolved duration outside [min, max]. */
  public durationInRange(name: string, value: Duration | undefined, min: Duration, max: Duration, context = ''): this {
    if (value === undefined || value.isUnresolved()) return this;
    const s = value.toSeconds();
    return this.check(
      `${name}:range`,
      s >= min.toSeconds() && s <= max.toSeconds(),
      `${name} must be between ${describeValue(min)} and ${describeValue(max)}${context} (given ${describeValue(value)})`,
    );
  }

  /** Records `<name>:format` when `value` is a resolved string that does not match `pattern`. */
  public matches(name: string, value: string | undefined, pattern: RegExp, description: string): this {
    if (value === undefined || isUnresolved(value)) return this;
    return this.check(`${name}:format`, pattern.test(value), `${name} must be ${description} (given ${describeValue(value)})`);
  }

  /** Records `<a>|<b>:exclusive` when more than one of the named inputs is set. */
  public mutuallyExclusive(inputs: Record<string, unknown>): this {
    const names = Object.keys(inputs);
    const given = names.filter((k) => inputs[k] !== undefined);
    return this.check(
      `${names.join('|')}:exclusive`,
      given.length <= 1,
      `provide only one of ${names.join(', ')} (given ${given.join(' and ')})`,
    );
  }

  /** Records `<input>:conflict` when `input` is set while `because` is set too. */
  public notWith(input: string, value: unknown, because: string, becauseValue: unknown): this {
    return this.check(
      `${input}:conflict`,
      value === undefined || becauseValue === undefined,
      `${input} cannot be used with ${because}: ${because} is used as it is`,
    );
  }

  /** Number of problems found so far. */
  public get count(): number {
    return this.found.length;
  }

  /** The codes of the problems found so far, in order. */
  public get codes(): readonly string[] {
    return this.found.map((p) => p.code);
  }

  /** Throws all problems found, if any. */
  public throwIfInvalid(): void {
    if (this.found.length > 0) {
      throw new MessagingPatternsError(this.scope.node.path, [...this.found]);
    }
  }

  private add(code: string, message: string): void {
    if (!this.found.some((p) => p.code === code && p.message === message)) this.found.push({ code, message });
  }
}
