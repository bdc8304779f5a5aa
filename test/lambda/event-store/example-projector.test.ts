/* eslint-disable @typescript-eslint/no-explicit-any -- fakes of SDK clients take and return loosely typed commands */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { accountReducer, accountSummary, accountUpcasters } from '../../../lambda/event-store/example-projector/account';
import type { StoredEvent } from '../../../lambda/runtime/event-store';
import { lambdaContext } from '../../helpers/events';

const event = (version: number, type: string, data: unknown, schemaVersion = 1): StoredEvent => ({
  aggregateId: 'acc-1',
  version,
  eventId: `e${version}`,
  type,
  schemaVersion,
  data,
  recordedAt: '2026-01-01T00:00:00.000Z',
});

describe('Example domain: account', () => {
  it('upcasts Deposited from currency units to cents', () => {
    expect(accountUpcasters.Deposited[1]({ amount: 1.25 }, { aggregateId: 'a', version: 1, type: 'Deposited', schemaVersion: 1 })).toEqual({
      amountCents: 125,
    });
  });

  it('folds the account aggregate and its summary', () => {
    const history = [
      event(1, 'AccountOpened', { owner: 'ada' }),
      event(2, 'Deposited', { amountCents: 500 }, 2),
      event(3, 'Withdrawn', { amountCents: 200 }),
      event(4, 'AccountClosed', {}),
    ];
    expect(history.reduce(accountReducer.apply, accountReducer.initial())).toEqual({
      open: false,
      owner: 'ada',
      balanceCents: 300,
      transactions: 4,
    });
    expect(history.reduce((s, e) => accountSummary.apply(s, e)!, accountSummary.initial())).toEqual({
      owner: 'ada',
      status: 'closed',
      balanceCents: 300,
      deposits: 1,
      withdrawals: 1,
      eventIds: ['e1', 'e2', 'e3', 'e4'],
    });
  });
});

describe('Handler: event-store/example-projector', () => {
  afterEach(() => {
    delete process.env.EVENT_STORE_CONFIG;
    delete process.env.READ_MODEL_TABLE_NAME;
    delete process.env.FAULT_INJECTION;
    jest.restoreAllMocks();
  });

  const load = async (env: Record<string, string>) => {
    jest.resetModules();
    process.env.TMPDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'projector-faults-'));
    Object.assign(process.env, {
      EVENT_STORE_CONFIG: JSON.stringify({ tableName: 'events' }),
      READ_MODEL_TABLE_NAME: 'read-models',
      ...env,
    });
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const send = jest.spyOn(DynamoDBClient.prototype, 'send').mockImplementation(async () => ({}));
    const { Logger } = await import('@aws-lambda-powertools/logger');
    for (const level of ['info', 'warn', 'error'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
    return { ...(await import('../../../lambda/event-store/example-projector')), send };
  };

  const insert = (version: number, metadata?: Record<string, { S: string }>) => ({
    eventID: `r${version}`,
    eventName: 'INSERT' as const,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: String(version),
      NewImage: {
        pk: { S: 'acc-1' },
        sk: { N: String(version) },
        recordType: { S: 'event' },
        eventId: { S: `e${version}` },
        type: { S: version === 1 ? 'AccountOpened' : 'Deposited' },
        schemaVersion: { N: '1' },
        data: { S: version === 1 ? '{"owner":"ada"}' : '{"amount":2}' },
        recordedAt: { N: '0' },
        ...(metadata ? { metadata: { M: metadata } } : {}),
      },
    },
  });

  it('projects a batch into the read-model table (one conditional write), upcasting on the way', async () => {
    const { handler, send } = await load({});
    const res = await handler({ Records: [insert(1), insert(2)] }, lambdaContext());
    expect(res).toEqual({ batchItemFailures: [] });
    const put = send.mock.calls
      .map((c) => c[0] as { constructor: { name: string }; input: Record<string, any> })
      .find((c) => c.constructor.name === 'PutItemCommand');
    expect(put?.input).toMatchObject({ TableName: 'read-models', ConditionExpression: 'attribute_not_exists(#pk)' });
    expect(put?.input.Item.balanceCents).toEqual({ N: '200' });
  });

  it('crashes once after writing a batch with a crash-after-project event (FAULT_INJECTION=on)', async () => {
    const { handler } = await load({ FAULT_INJECTION: 'on' });
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const records = [insert(1, { fault: { S: 'crash-after-project' } })];
    await handler({ Records: records }, lambdaContext());
    await handler({ Records: records }, lambdaContext());
    expect(exit).toHaveBeenCalledTimes(1);
  });
});
