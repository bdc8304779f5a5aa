/* eslint-disable @typescript-eslint/no-require-imports -- the handler reads its environment when loaded: required after setting it */
import { DynamoDBClient, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { kafkaEvent, kafkaRecord } from '../runtime/kafka/events';

process.env.TABLE_NAME = 'ledger';
process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency';
process.env.FAULT_INJECTION = 'on';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const { handler } =
  require('../../../lambda/kafka-consumer/example-consumer') as typeof import('../../../lambda/kafka-consumer/example-consumer');

const send = jest.spyOn(DynamoDBClient.prototype, 'send');
const context = { getRemainingTimeInMillis: () => 10_000 } as never;

beforeEach(() => {
  send.mockReset();
  send.mockResolvedValue({} as never);
});

const commands = () => send.mock.calls.map(([c]) => c);

describe('Handler: kafka-consumer/example-consumer', () => {
  it('counts the delivery and applies the effect with its idempotency record, keyed by the record id', async () => {
    // Act
    const res = await handler(kafkaEvent([kafkaRecord('orders', 1, 4, { id: 'o-1' })]), context);

    // Assess
    expect(res).toEqual({ batchItemFailures: [] });
    const [delivery, transaction] = commands();
    expect(delivery).toBeInstanceOf(UpdateItemCommand);
    expect((delivery as UpdateItemCommand).input).toMatchObject({ TableName: 'ledger', Key: { pk: { S: 'o-1' } } });
    expect(transaction).toBeInstanceOf(TransactWriteItemsCommand);
    const items = (transaction as TransactWriteItemsCommand).input.TransactItems!;
    expect(items[0].Put?.TableName).toBe('idempotency');
    expect(items[1].Update).toMatchObject({
      TableName: 'ledger',
      Key: { pk: { S: 'o-1' } },
      UpdateExpression: 'ADD applied :one SET recordId = :r',
    });
  });

  it('fails a poison record and records its reason; the batch throws when nothing succeeded (bisection)', async () => {
    await expect(handler(kafkaEvent([kafkaRecord('orders', 0, 9, { id: 'o-2', fault: 'poison' })]), context)).rejects.toThrow(
      'message o-2: poison message',
    );
    const reason = commands().find(
      (c) => JSON.stringify((c as UpdateItemCommand).input?.Key) === JSON.stringify({ pk: { S: 'failure#o-2' } }),
    ) as UpdateItemCommand;
    expect(reason.input.ExpressionAttributeValues).toMatchObject({ ':e0': { S: 'InvalidMessageError: message o-2: poison message' } });
  });

  it('reports the poison record when others succeeded', async () => {
    const res = await handler(
      kafkaEvent([kafkaRecord('orders', 0, 1, { id: 'o-3' }), kafkaRecord('orders', 0, 2, { id: 'o-4', fault: 'poison' })]),
      context,
    );
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'orders-0', offset: 2 } }] });
  });

  it('exits right after the effect was applied the first time (crash-after-effect)', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    try {
      await expect(handler(kafkaEvent([kafkaRecord('orders', 2, 0, { id: 'o-5', fault: 'crash-after-effect' })]), context)).rejects.toThrow(
        'exit 1',
      );
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      exit.mockRestore();
    }
  });
});
