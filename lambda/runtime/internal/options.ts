/**
 * Checks every feature's option resolver shares, so that a bad option fails where it is resolved,
 * with the same message everywhere: `<option> must be <rule> (given <value>)`. Each check takes the
 * feature's `fail`, which throws that feature's `<Feature>ConfigurationError`. Not a public entry
 * point.
 */

/** Throws the feature's configuration error for `option`, whose value `value` breaks a rule. */
export type Fail = (option: string, message: string, value: unknown) => never;

/** A value as an error message shows it: strings quoted, the rest as JSON (or `String`), cut at 200 characters. */
export function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = `'${value}'`;
  else if (typeof value === 'number' || typeof value === 'bigint' || value === undefined || typeof value === 'function')
    text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** `value` if it is an integer in `[min, max]`. */
export function checkInteger(fail: Fail, option: string, value: unknown, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `between ${min} and ${max}`;
    fail(option, `${option} must be an integer ${range} (given ${show(value)})`, value);
  }
  return value as number;
}

/** `value` if it is a finite number above `min` (or at least `min` with `inclusive`) and at most `max`. */
export function checkNumber(
  fail: Fail,
  option: string,
  value: unknown,
  bounds: { readonly min: number; readonly inclusive?: boolean; readonly max?: number; readonly rule?: string },
): number {
  const max = bounds.max ?? Number.POSITIVE_INFINITY;
  const ok =
    typeof value === 'number' && Number.isFinite(value) && (bounds.inclusive ? value >= bounds.min : value > bounds.min) && value <= max;
  if (!ok) {
    const rule =
      bounds.rule ??
      (bounds.max === undefined
        ? `a number ${bounds.inclusive ? 'of at least' : 'above'} ${bounds.min}`
        : `a number ${bounds.inclusive ? 'from' : 'above'} ${bounds.min} to ${bounds.max}`);
    fail(option, `${option} must be ${rule} (given ${show(value)})`, value);
  }
  return value as number;
}

/** `value` if it is a non-empty string. */
export function checkString(fail: Fail, option: string, value: unknown, hint = ''): string {
  if (typeof value !== 'string' || value.trim() === '') {
    fail(option, `${option} must be a non-empty string${hint} (given ${show(value)})`, value);
  }
  return value as string;
}

/** `value` if it is a string (possibly empty) of at most `maxLength` characters. */
export function checkOptionalText(fail: Fail, option: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length > maxLength) {
    fail(option, `${option} must be a string of at most ${maxLength} characters (given ${show(value)})`, value);
  }
  return value as string;
}

/** `value` if it matches `pattern`; `rule` says what it must look like. */
export function checkPattern(fail: Fail, option: string, value: unknown, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(option, `${option} must be ${rule} (given ${show(value)})`, value);
  return value as string;
}

/** `value` if it is a boolean, or undefined. */
export function checkBoolean(fail: Fail, option: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') fail(option, `${option} must be true or false (given ${show(value)})`, value);
  return value as boolean | undefined;
}

/** `value` if it is a function, or undefined. */
export function checkFunction<F>(fail: Fail, option: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') fail(option, `${option} must be a function (given ${show(value)})`, value);
  return value;
}

/** `value` if it is one of `allowed`. */
export function checkOneOf<T extends string>(fail: Fail, option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    fail(option, `${option} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (given ${show(value)})`, value);
  }
  return value as T;
}

/** `value` if it is a finite number (no range: the caller checks it). */
export function checkFinite(fail: Fail, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(option, `${option} must be a number (given ${show(value)})`, value);
  return value as number;
}

/** `value` if it is a logger (an object with a `warn` method: a Powertools `Logger`, `console`), `null` or undefined. */
export function checkLogger<L>(fail: Fail, option: string, value: L): L {
  if (value !== undefined && value !== null && typeof (value as { warn?: unknown }).warn !== 'function') {
    fail(option, `${option} must have a warn method (a Powertools Logger, console), or be null (given ${show(value)})`, value);
  }
  return value;
}

/** `value` if it is an object with a `send` method (an AWS SDK v3 client), or undefined. */
export function checkClient<C>(fail: Fail, option: string, value: C | undefined): C | undefined {
  if (value !== undefined && typeof (value as { send?: unknown } | null)?.send !== 'function') {
    fail(option, `${option} must be an AWS SDK v3 client (an object with a send method) (given ${show(value)})`, value);
  }
  return value;
}

/** `value` if it is an http(s) URL (an SQS queue URL, in AWS or in an emulator). */
export function checkUrl(fail: Fail, option: string, value: unknown): string {
  let ok = false;
  if (typeof value === 'string') {
    try {
      ok = /^https?:$/.test(new URL(value).protocol);
    } catch {
      ok = false;
    }
  }
  if (!ok) fail(option, `${option} must be an http(s) URL (given ${show(value)})`, value);
  return value as string;
}

/** An ARN of `service` whose resource part matches `resource`. */
function arnPattern(service: string, resource: string): RegExp {
  return new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]*:\\d{12}:${resource}$`);
}

/** `value` if it is an SQS queue ARN (`arn:<partition>:sqs:<region>:<account>:<name>`). */
export function checkQueueArn(fail: Fail, option: string, value: unknown): string {
  return checkPattern(fail, option, value, arnPattern('sqs', '[A-Za-z0-9_-]{1,80}(\\.fifo)?'), 'an SQS queue ARN');
}

/** `value` if it is an IAM role ARN (`arn:<partition>:iam::<account>:role/<path and name>`). */
export function checkRoleArn(fail: Fail, option: string, value: unknown): string {
  return checkPattern(fail, option, value, /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN');
}

/** A bucket name (lowercase letters, digits, dots, hyphens; at most 63) or an S3 access point ARN. */
const BUCKET = /^([a-z0-9][a-z0-9.-]{0,62}|arn:aws[a-z-]*:s3:.+)$/;

/** `value` if it is an S3 bucket name or access point ARN. */
export function checkBucket(fail: Fail, option: string, value: unknown): string {
  return checkPattern(
    fail,
    option,
    value,
    BUCKET,
    'an S3 bucket name (lowercase letters, digits, dots and hyphens, at most 63) or an access point ARN',
  );
}

/**
 * A number read from environment variable `variable` and checked by `check` (for example
 * `(f, v) => checkInteger(f, VARIABLE, v, 1, 10)`): undefined when the variable is unset or empty.
 * The error names the variable and shows its text as given.
 */
export function numberFromEnvironment(
  fail: Fail,
  variable: string,
  check: (fail: Fail, value: number) => number,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  const asGiven: Fail = (option, message) => fail(option, message.replace(/\(given [^()]*\)$/, `(given ${show(raw)})`), raw);
  return check(asGiven, Number(raw));
}
