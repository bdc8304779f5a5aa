import { type CancellationReason, type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  SagaConfigurationError,
  SagaStepCompensatedError,
  type SagaTaskEvent,
  TransactionalSagaSteps,
} from '../../../../lambda/runtime/saga';
import { FakeClient } from './fake';

const event = (phase: 'action' | 'compensation'): SagaTaskEvent => ({
  sagaId: 'order-1',
  step: 'reserve',
  phase,
  idempotencyToken: 'order-1#reserve',
  input: {},
  results: {},
});
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code }) as CancellationReason),
  });
const write = { Put: { TableName: 'orders', Item: { pk: 'reservation#1' } } };

function steps(client: FakeClient): TransactionalSagaSteps {
  return new TransactionalSagaSteps({ tableName: 'idempotency', client: client.as<DynamoDBClient>() });
}

describe('Class: TransactionalSagaSteps', () => {
  describe('Method: action', () => {
    it('commits the writes with the action record, on the condition that the step was not compensated', async () => {
      const client = new FakeClient();
      const s = steps(client);
      const outcome = await s.action(event('action'), { items: [write], result: { id: 1 } });
      expect(outcome).toEqual({ status: 'applied', result: { id: 1 } });
      const items = client.sent[0].input.TransactItems;
      expect(items).toHaveLength(3);
      expect(items[0].Put.Item.id.S).toBe(s.recordIdOf('order-1#reserve', 'action'));
      expect(items[0].Put.Item.expiration.N).toBeDefined();
      expect(items[2].ConditionCheck).toMatchObject({
        TableName: 'idempotency',
        Key: { id: { S: s.recordIdOf('order-1#reserve', 'compensation') } },
        ConditionExpression: 'attribute_not_exists(#id)',
      });
    });

    it('keeps step records for 90 days, under the prefix saga shared by every function', () => {
      const s = steps(new FakeClient());
      expect(s.recordIdOf('order-1#reserve', 'action')).toMatch(/^saga#/);
    });

    it('throws SagaStepCompensatedError when the step was compensated before the action arrived', async () => {
      const client = new FakeClient({ TransactWriteItems: () => cancelled('None', 'None', 'ConditionalCheckFailed') });
      const error = await steps(client)
        .action(event('action'), { items: [write] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SagaStepCompensatedError);
      expect(error).toMatchObject({ retryable: false, idempotencyToken: 'order-1#reserve' });
    });

    it("passes a condition failure of the step's own writes through", async () => {
      const client = new FakeClient({ TransactWriteItems: () => cancelled('None', 'ConditionalCheckFailed', 'None') });
      await expect(steps(client).action(event('action'), { items: [write] })).rejects.toMatchObject({
        name: 'IdempotencyEffectConditionError',
        itemIndex: 0,
      });
    });
  });

  describe('Method: compensation', () => {
    it('commits the undo writes when the action took effect (its record exists)', async () => {
      const client = new FakeClient();
      const s = steps(client);
      expect(await s.compensation(event('compensation'), () => ({ items: [write], result: { undone: true } }))).toEqual({
        status: 'applied',
        result: { undone: true },
      });
      const items = client.sent[0].input.TransactItems;
      expect(items[0].Put.Item.id.S).toBe(s.recordIdOf('order-1#reserve', 'compensation'));
      expect(items[1].ConditionCheck).toMatchObject({
        Key: { id: { S: s.recordIdOf('order-1#reserve', 'action') } },
        ConditionExpression: 'attribute_exists(#id) AND #status = :completed',
      });
      expect(items).toHaveLength(3);
    });

    it('is a no-op when the action never took effect: the compensation record alone (which also stops a late action)', async () => {
      const client = new FakeClient({
        TransactWriteItems: (_i, n) => (n === 1 ? cancelled('None', 'ConditionalCheckFailed', 'None') : {}),
      });
      expect(await steps(client).compensation(event('compensation'), { items: [write] })).toEqual({ status: 'skipped' });
      const second = client.sent[1].input.TransactItems;
      expect(second).toHaveLength(2);
      expect(second[1].ConditionCheck.ConditionExpression).toBe('attribute_not_exists(#id)');
    });

    it('compensates an action that committed between its two attempts', async () => {
      const answers = [cancelled('None', 'ConditionalCheckFailed', 'None'), cancelled('None', 'ConditionalCheckFailed'), {}];
      const client = new FakeClient({ TransactWriteItems: (_i, n) => answers[n - 1] });
      expect(await steps(client).compensation(event('compensation'), { items: [write], result: 1 })).toEqual({
        status: 'applied',
        result: 1,
      });
      expect(client.sent).toHaveLength(3);
    });

    it('answers a retried compensation from its record: duplicate', async () => {
      const client = new FakeClient({
        TransactWriteItems: () => cancelled('ConditionalCheckFailed'),
        GetItem: () => ({
          Item: { id: { S: 'x' }, status: { S: 'COMPLETED' }, expiration: { N: '9999999999' }, data: { M: { skipped: { BOOL: true } } } },
        }),
      });
      expect(await steps(client).compensation(event('compensation'), { items: [write] })).toEqual({ status: 'duplicate' });
    });
  });

  describe('Method: run', () => {
    it('runs the phase of the event', async () => {
      const client = new FakeClient();
      const s = steps(client);
      expect(await s.run(event('action'), { action: { items: [], result: 'a' }, compensation: { items: [], result: 'c' } })).toMatchObject({
        result: 'a',
      });
      expect(
        await s.run(event('compensation'), { action: { items: [], result: 'a' }, compensation: { items: [], result: 'c' } }),
      ).toMatchObject({ result: 'c' });
    });

    it('fails on an event that is not a saga event, or a compensation without a handler', async () => {
      const s = steps(new FakeClient());
      await expect(s.run({} as SagaTaskEvent, { action: { items: [] } })).rejects.toBeInstanceOf(SagaConfigurationError);
      await expect(s.run(event('compensation'), { action: { items: [] } })).rejects.toThrow(/has no compensation handler/);
    });
  });
});
