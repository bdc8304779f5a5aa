/**
 * The one error type the kit throws at synth time.
 *
 * Thrown when props are invalid or conflict. The message names the construct path, every problem
 * found (conflicting inputs are reported together) and the bad value.
 */
export class MessagingPatternsError extends Error {
  /** The path of the construct whose props were rejected. */
  public readonly constructPath: string;
  /** Each problem found, one sentence each. */
  public readonly problems: readonly string[];

  constructor(constructPath: string, problems: readonly string[]) {
    const list = problems.length === 1 ? ` ${problems[0]}` : `\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    super(`[${constructPath}]${list}`);
    this.name = 'MessagingPatternsError';
    this.constructPath = constructPath;
    this.problems = problems;
  }
}
