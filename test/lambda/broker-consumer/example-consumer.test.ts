/* eslint-disable @typescript-eslint/no-require-imports -- the handler reads its environment when loaded: required after setting it */
import { DynamoDBClient, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { BrokerBatchFailedError } from '../../../lambda/runtime/broker/errors';
import { activeEvent, activeMessage, rabbitEvent, rabbitMessage } from '../runtime/broker/events';

process.env.TABLE_NAME = 'ledger';
process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency';
process.env.FAULT_INJECTION = 'on';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const { handler } =
  require('../../../lambda/broker-consumer/example-consumer') as typeof import('../../../lambda/broker-consumer/example-consumer');

const send = jest.spyOn(DynamoDBClient.prototype, 'send');
const context = { getRemainingTimeInMillis: () => 10_000 } as never;

beforeEach(() => {
  send.mockReset();
  send.mockResolvedValue({} as never);
});

describe('Handler: broker-consumer/example-consumer', () => {
  it('applies a RabbitMQ message once with its idempotency record, keyed by its messageId', async () => {
    await expect(handler(rabbitEvent({ 'orders::/': [rabbitMessage({ id: 'r-1' }, { messageId: 'r-1' })] }), context)).resolves.toEqual({
      processed: 1,
    });
    const transaction = send.mock.calls.map(([c]) => c).find((c) => c instanceof TransactWriteItemsCommand) as TransactWriteItemsCommand;
    expect(transaction.input.TransactItems![1].Update).toMatchObject({ TableName: 'ledger', Key: { pk: { S: 'r-1' } } });
  });

  it('processes the rest of the batch after a poison message, records its reason, then fails the batch', async () => {
    const event = activeEvent([
      activeMessage({ id: 'a-1', fault: 'poison' }, { id: 'ID:1' }),
      activeMessage({ id: 'a-2' }, { id: 'ID:2' }),
    ]);
    const error = await handler(event, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerBatchFailedError);
    expect((error as BrokerBatchFailedError).failures.map((f) => f.messageId)).toEqual(['ID:1']);
    const keys = send.mock.calls.map(([c]) => JSON.stringify((c as UpdateItemCommand).input?.Key ?? ''));
    expect(keys).toContain(JSON.stringify({ pk: { S: 'failure#a-1' } }));
    expect(send.mock.calls.filter(([c]) => c instanceof TransactWriteItemsCommand)).toHaveLength(1); // a-2 applied
  });
});
