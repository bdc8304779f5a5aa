/** Fake SDK clients for the saga helpers: each command answered by a handler of its name, every request recorded. */
import { marshall } from '@aws-sdk/util-dynamodb';

export interface Sent {
  readonly name: string;
  readonly input: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type Handler = (input: Record<string, any>, n: number) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

export class FakeClient {
  public readonly sent: Sent[] = [];
  public readonly config = {};
  public readonly middlewareStack = { identify: () => [], addRelativeTo: () => undefined };
  private readonly counts = new Map<string, number>();

  constructor(private readonly handlers: Record<string, Handler> = {}) {}

  public async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    this.sent.push({ name, input: command.input });
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    const handler = this.handlers[name];
    const result = handler ? await handler(command.input, n) : {};
    if (result instanceof Error) throw result;
    return result;
  }

  public names(): string[] {
    return this.sent.map((s) => s.name);
  }

  public as<T>(): T {
    return this as unknown as T;
  }
}

/** An SDK-shaped error with `name`. */
export function sdkError(name: string, message = name, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, $metadata: {}, ...extra });
}

export const item = (o: Record<string, unknown>) => ({ Item: marshall(o, { removeUndefinedValues: true }) });

export const CONFIG = {
  stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:orders',
  resumeStateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:orders-resume',
  logTableName: 'saga-log',
  type: 'STANDARD' as const,
};
