import { IConstruct } from 'constructs';

/** One problem found in a construct's props: a stable code and a sentence naming the bad value. */
export interface Problem {
  /**
   * Stable across releases, for tests and tools to match: `<prop>:<kind>`, where `<prop>` is the
   * prop's path (`batchSize`, `queueProps.encryption`, `existingQueue|queueProps` for a conflict
   * between several) and `<kind>` one of `range`, `conflict`, `exclusive`, `required`, `insecure`,
   * `mismatch`, `format`, `unsupported`, `unknown`.
   */
  readonly code: string;
  /** What is wrong, with the given value. */
  readonly message: string;
}

const BRAND = Symbol.for('cdk-messaging-patterns.MessagingPatternsError');

/**
 * The one error type the kit throws at synth time.
 *
 * Thrown when props are invalid or conflict. The message names the construct path and every
 * problem found (conflicting inputs are reported together), each with the bad value and its code.
 *
 * jsii cannot model a class that extends `Error`, so this class is not in the jsii assembly: in
 * other languages the error arrives as the language's jsii runtime error, with the same message.
 *
 * @jsii ignore
 */
export class MessagingPatternsError extends Error {
  /**
   * True for an error thrown by this kit, from any copy of it (`instanceof` fails when an app loads
   * two copies of the package).
   */
  public static isMessagingPatternsError(x: unknown): x is MessagingPatternsError {
    return typeof x === 'object' && x !== null && BRAND in x;
  }

  /** Throws one problem for `scope` (a lookup that failed, a value that cannot be used). */
  public static fail(scope: IConstruct, code: string, message: string): never {
    throw new MessagingPatternsError(scope.node.path, [{ code, message }]);
  }

  /** The path of the construct whose props were rejected. */
  public readonly constructPath: string;
  /** Each problem found, with its code. */
  public readonly details: readonly Problem[];

  constructor(constructPath: string, problems: readonly Problem[]) {
    const lines = problems.map((p) => `${p.message} [${p.code}]`);
    const list = lines.length === 1 ? ` ${lines[0]}` : `\n${lines.map((l) => `  - ${l}`).join('\n')}`;
    super(`[${constructPath}]${list}`);
    Object.defineProperty(this, BRAND, { value: true });
    this.name = 'MessagingPatternsError';
    this.constructPath = constructPath;
    this.details = problems;
  }

  /** Each problem's sentence, in the order found. */
  public get problems(): readonly string[] {
    return this.details.map((p) => p.message);
  }

  /** Each problem's code, in the order found. */
  public get codes(): readonly string[] {
    return this.details.map((p) => p.code);
  }
}
