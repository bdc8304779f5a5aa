import type { SQSRecord } from 'aws-lambda';
import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';

/** Loads the handler fresh with `env`, and spies on the DynamoDB client it will use. */
const load = async (env: Record<string, string>) => {
  jest.resetModules();
  delete process.env.TABLE_NAME;
  Object.assign(process.env, env);
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const send = jest.spyOn(DynamoDBClient.prototype, 'send').mockImplementation(async () => ({}));
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const { handler } = await import('../../../lambda/sequential-convoy/consumer');
  return { handler, send, warn };
};

const event = (body: Record<string, unknown>, receiveCount = 1): SQSRecord =>
  sqsRecord(body, { fifo: true, groupId: String(body.entityId), receiveCount });

describe('Handler: sequential-convoy/consumer', () => {
  afterEach(() => {
    delete process.env.TABLE_NAME;
    jest.restoreAllMocks();
  });

  it('appends each applied sequence number to the entity item, in order', async () => {
    const { handler, send } = await load({ TABLE_NAME: 'entities' });
    const res = await handler(sqsEvent([event({ entityId: 'e1', seq: 1 }), event({ entityId: 'e1', seq: 2 })]), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    const inputs = send.mock.calls.map((c) => (c[0] as unknown as { input: Record<string, unknown> }).input);
    expect(inputs).toEqual([
      expect.objectContaining({
        TableName: 'entities',
        Key: { entityId: { S: 'e1' } },
        UpdateExpression: 'SET applied = list_append(if_not_exists(applied, :empty), :seq), lastSeq = :n',
        ExpressionAttributeValues: { ':empty': { L: [] }, ':seq': { L: [{ N: '1' }] }, ':n': { N: '1' } },
      }),
      expect.objectContaining({ ExpressionAttributeValues: expect.objectContaining({ ':seq': { L: [{ N: '2' }] } }) }),
    ]);
  });

  it('fails an event on its first delivery when asked, and stops its entity there', async () => {
    const { handler, send, warn } = await load({ TABLE_NAME: 'entities' });
    const records = [
      event({ entityId: 'e1', seq: 1, failOnFirstDelivery: true }),
      event({ entityId: 'e1', seq: 2 }),
      event({ entityId: 'e2', seq: 1 }),
    ];
    const res = await handler(sqsEvent(records), lambdaContext());
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[0].messageId, records[1].messageId]);
    expect(send).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls.map(([message, fields]) => [message, (fields as { errorName: string }).errorName])).toEqual([
      ['message processing failed', 'TransientEventError'],
      ['message skipped behind a failed message', 'SkippedBehindFailureError'],
    ]);
    const retry = await handler(sqsEvent([event({ entityId: 'e1', seq: 1, failOnFirstDelivery: true }, 2)]), lambdaContext());
    expect(retry.batchItemFailures).toEqual([]);
  });

  it('fails an event on its first n deliveries with failDeliveries', async () => {
    const { handler } = await load({});
    const outcome = async (receiveCount: number) =>
      (await handler(sqsEvent([event({ entityId: 'e1', seq: 1, failDeliveries: 2 }, receiveCount)]), lambdaContext())).batchItemFailures
        .length;
    expect([await outcome(1), await outcome(2), await outcome(3)]).toEqual([1, 1, 0]);
  });

  it("rejects poison events and events sent in another entity's group", async () => {
    const { handler, send, warn } = await load({ TABLE_NAME: 'entities' });
    const wrongGroup = sqsRecord({ entityId: 'e1', seq: 1 }, { fifo: true, groupId: 'e9' });
    const res = await handler(
      sqsEvent([event({ entityId: 'p', seq: 1, poison: true }), wrongGroup, event({ entityId: 'x', seq: 'one' })]),
      lambdaContext(),
    );
    expect(res.batchItemFailures).toHaveLength(3);
    expect(warn.mock.calls.map((c) => (c[1] as { errorName: string }).errorName)).toEqual([
      'InvalidEventError',
      'InvalidEventError',
      'InvalidEventError',
    ]);
    expect(send).not.toHaveBeenCalled();
  });
});
