/**
 * A DynamoDB client that answers from a script, for the pure logic of the library (what it sends,
 * how it reads DynamoDB's answers). What DynamoDB itself does is tested against the emulator in
 * integration/idempotency.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

export interface SentCommand {
  readonly name: string;
  readonly input: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type Answer = (command: SentCommand) => unknown;

export class ScriptedClient {
  public readonly sent: SentCommand[] = [];
  /** What Powertools checks to accept a client as an SDK v3 client. */
  public readonly config = {};
  public readonly middlewareStack = { identify: () => ['addPowertoolsToUserAgent - after'], addRelativeTo: () => undefined };
  private readonly script: Answer[];

  constructor(script: Answer[] = []) {
    this.script = [...script];
  }

  /** Answers the next command with the next script entry (or an empty success when the script is done). */
  public async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const sent = { name: command.constructor.name, input: command.input };
    this.sent.push(sent);
    const answer = this.script.shift();
    const result = answer ? await answer(sent) : {};
    if (result instanceof Error) throw result;
    return result;
  }

  public get client(): DynamoDBClient {
    return this as unknown as DynamoDBClient;
  }

  public names(): string[] {
    return this.sent.map((c) => c.name);
  }
}

export const ok = (): Answer => () => ({});

export const cancelled =
  (...reasons: CancellationReason[]): Answer =>
  () =>
    new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });

export const conditionFailed =
  (item?: Record<string, unknown>): Answer =>
  () =>
    new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: item ? marshall(item) : undefined,
    });

export const fails =
  (error: Error): Answer =>
  () =>
    error;

export const marshalled = (item: Record<string, unknown>) => marshall(item, { removeUndefinedValues: true });
