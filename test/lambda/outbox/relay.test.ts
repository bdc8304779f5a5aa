import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lambdaContext } from '../../helpers/events';

const CONFIG = JSON.stringify({
  tableName: 'outbox',
  target: { kind: 'eventbridge', eventBusName: 'bus' },
  source: 'orders',
  deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/on-failure',
});

/** An outbox INSERT as the stream delivers it. */
const insert = (n: number, metadata?: Record<string, unknown>) => ({
  eventID: `e${n}`,
  eventName: 'INSERT' as const,
  eventSource: 'aws:dynamodb',
  dynamodb: {
    SequenceNumber: String(100 + n),
    Keys: { pk: { S: 'outbox#a' }, sk: { S: String(n) } },
    NewImage: {
      pk: { S: 'outbox#a' },
      sk: { S: String(n).padStart(20, '0') },
      recordType: { S: 'outbox' },
      eventId: { S: `ev-${n}` },
      aggregateId: { S: 'a' },
      sequence: { N: String(n) },
      type: { S: 'T' },
      data: { S: '{}' },
      occurredAt: { S: '2026-01-01T00:00:00.000Z' },
      createdAt: { N: '0' },
      ...(metadata
        ? {
            metadata: {
              M: Object.fromEntries(
                Object.entries(metadata).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: String(v) }]),
              ),
            },
          }
        : {}),
    },
  },
});

/** Loads the handler fresh with `env`; the SDK clients answer from in-process fakes. */
const load = async (env: Record<string, string>) => {
  jest.resetModules();
  process.env.TMPDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-faults-'));
  Object.assign(process.env, env);
  const wire: Array<{ id: string; ok: boolean }> = [];
  const { EventBridgeClient } = await import('@aws-sdk/client-eventbridge');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  // The fault middleware runs inside the client: fake the HTTP answer, keep the middleware stack.
  jest.spyOn(EventBridgeClient.prototype, 'send').mockImplementation(async function (this: unknown, command: unknown) {
    const c = command as { input: { Entries: Array<{ Detail: string }> } };
    return { Entries: c.input.Entries.map((e) => (wire.push({ id: JSON.parse(e.Detail).eventId, ok: true }), { EventId: 'x' })) };
  });
  jest
    .spyOn(DynamoDBClient.prototype, 'send')
    .mockImplementation(async () => ({ Responses: {}, UnprocessedItems: {}, Attributes: { attempts: { N: '1' } } }));
  jest.spyOn(SQSClient.prototype, 'send').mockImplementation(async () => ({ Successful: [], Failed: [] }));
  const { Logger } = await import('@aws-lambda-powertools/logger');
  jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  const mod = await import('../../../lambda/outbox/relay');
  const faults = await import('../../../lambda/outbox/relay/faults');
  return { ...mod, faults, wire };
};

describe('Handler: outbox/relay', () => {
  afterEach(() => {
    delete process.env.OUTBOX_RELAY_CONFIG;
    delete process.env.FAULT_INJECTION;
    jest.restoreAllMocks();
  });

  it('relays a batch and answers with the partial batch response only', async () => {
    const { handler, wire } = await load({ OUTBOX_RELAY_CONFIG: CONFIG });
    const res = await handler({ Records: [insert(1), insert(2)] }, lambdaContext());
    expect(res).toEqual({ batchItemFailures: [] });
    expect(wire.map((w) => w.id)).toEqual(['ev-1', 'ev-2']);
  });

  it('fails at load time on a bad configuration', async () => {
    await expect(load({ OUTBOX_RELAY_CONFIG: '{}' })).rejects.toThrow(/tableName must be a DynamoDB table name/);
  });

  describe('Fault injection (FAULT_INJECTION=on only)', () => {
    it('crashes the process once after publishing a batch holding a crash-after-publish event', async () => {
      const { faults } = await load({ OUTBOX_RELAY_CONFIG: CONFIG });
      const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
      jest.spyOn(console, 'error').mockImplementation(() => undefined);
      faults.crashAfterPublish([{ eventId: 'ev-1', metadata: { fault: 'crash-after-publish' } }]);
      faults.crashAfterPublish([{ eventId: 'ev-1', metadata: { fault: 'crash-after-publish' } }]);
      faults.crashAfterPublish([{ eventId: 'ev-2' }]);
      expect(exit).toHaveBeenCalledTimes(1);
    });

    it('fails a publish-fail event the first n times, then lets it through', async () => {
      const { faults } = await load({ OUTBOX_RELAY_CONFIG: CONFIG });
      const calls: string[][] = [];
      const stack: Array<(next: unknown, context: unknown) => (args: unknown) => Promise<unknown>> = [];
      const client = { middlewareStack: { add: (mw: (typeof stack)[number]) => stack.push(mw) } };
      faults.injectPublishFaults(client);
      const next = async (args: { input: { Entries: Array<{ Detail: string }> } }) => {
        calls.push(args.input.Entries.map((e) => JSON.parse(e.Detail).eventId));
        return { output: { Entries: args.input.Entries.map(() => ({ EventId: 'x' })) }, response: {} };
      };
      const send = stack[0](next, { commandName: 'PutEventsCommand' }) as (
        args: unknown,
      ) => Promise<{ output: { Entries: Array<{ ErrorCode?: string }>; FailedEntryCount: number } }>;
      const entries = [
        { Detail: JSON.stringify({ eventId: 'ok' }) },
        { Detail: JSON.stringify({ eventId: 'flaky', metadata: { fault: 'publish-fail', failures: 2 } }) },
      ];
      const first = await send({ input: { Entries: entries } });
      const second = await send({ input: { Entries: entries } });
      const third = await send({ input: { Entries: entries } });
      expect(first.output.Entries.map((e) => e.ErrorCode)).toEqual([undefined, 'ThrottlingException']);
      expect(second.output.FailedEntryCount).toBe(1);
      expect(third.output.Entries.map((e) => e.ErrorCode)).toEqual([undefined, undefined]);
      expect(calls).toEqual([['ok'], ['ok'], ['ok', 'flaky']]); // a failed entry never reaches the service
    });
  });
});
