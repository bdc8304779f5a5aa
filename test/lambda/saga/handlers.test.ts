import type { SagaTaskEvent } from '../../../lambda/runtime/saga/event';
import type { OrderInput } from '../../../lambda/saga/order-steps';

const ENV = ['FAULT_INJECTION', 'ORDERS_TABLE_NAME', 'IDEMPOTENCY_TABLE_NAME'];

/** Loads a handler fresh with `env`; DynamoDB and Step Functions answer with `answer`; the Powertools Logger is silenced. */
async function load<T>(modulePath: string, env: Record<string, string>, answer: (command: Command) => unknown = () => ({})) {
  jest.resetModules();
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, { IDEMPOTENCY_TABLE_NAME: 'idempotency', ...env });
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const dynamodb = jest.spyOn(DynamoDBClient.prototype, 'send').mockImplementation((async (c: never) => answer(c)) as never);
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const sfn = jest.spyOn(SFNClient.prototype, 'send').mockImplementation((async () => ({})) as never);
  const { Logger } = await import('@aws-lambda-powertools/logger');
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
  const module = (await import(modulePath)) as T;
  return { module, dynamodb, sfn };
}

afterEach(() => {
  for (const k of ENV) delete process.env[k];
  jest.restoreAllMocks();
});

const order: OrderInput = { orderId: 'o1', sku: 'sku-1', quantity: 2, amountCents: 4200 };
const event = (step: string, phase: 'action' | 'compensation', input: OrderInput = order): SagaTaskEvent<OrderInput> => ({
  sagaId: 'o1',
  step,
  phase,
  idempotencyToken: `o1#${step}`,
  input,
  results: {},
});
type Command = { constructor: { name: string }; input: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Handler: saga/order-steps', () => {
  type Steps = typeof import('../../../lambda/saga/order-steps');
  const path = '../../../lambda/saga/order-steps';

  it.each([
    ['reserve', ['inventory#sku-1', 'reservation#o1'], { reservationId: 'reservation#o1' }],
    ['charge', ['payment#o1'], { paymentId: 'payment#o1' }],
    ['ship', ['shipment#o1'], { shipmentId: 'shipment#o1' }],
  ])('applies the %s action once: its writes and its record in one transaction', async (step, keys, result) => {
    const { module, dynamodb } = await load<Steps>(path, { ORDERS_TABLE_NAME: 'orders' });
    expect(await module.handler(event(step, 'action'))).toEqual({ status: 'applied', ...result });
    expect(dynamodb).toHaveBeenCalledTimes(1);
    const items = (dynamodb.mock.calls[0][0] as unknown as Command).input.TransactItems;
    expect(items.slice(1, -1).map((i: any) => i.Update.Key.pk.S)).toEqual(keys); // eslint-disable-line @typescript-eslint/no-explicit-any
  });

  it('applies a compensation: the undo writes, counting compensations', async () => {
    const { module, dynamodb } = await load<Steps>(path, { ORDERS_TABLE_NAME: 'orders' });
    expect(await module.handler(event('charge', 'compensation'))).toEqual({ status: 'applied', refundedCents: 4200 });
    const items = (dynamodb.mock.calls[0][0] as unknown as Command).input.TransactItems;
    expect(items.at(-1).Update.UpdateExpression).toBe('SET #status = :status ADD compensations :one');
  });

  it('fails an invalid order or an unknown step with a non-retryable InvalidOrderError, writing nothing', async () => {
    const { module, dynamodb } = await load<Steps>(path, { ORDERS_TABLE_NAME: 'orders' });
    await expect(module.handler(event('reserve', 'action', { ...order, quantity: 0 }))).rejects.toMatchObject({
      name: 'InvalidOrderError',
      retryable: false,
    });
    await expect(module.handler(event('fly', 'action'))).rejects.toMatchObject({ name: 'InvalidOrderError' });
    expect(dynamodb).not.toHaveBeenCalled();
  });

  it('injects a fault before any write for the first failTimes attempts, counted in the orders table', async () => {
    const faulty = { ...order, faults: { 'charge:action': { failTimes: 1, error: 'PaymentDeclined' } } };
    let attempts = 0;
    const { module, dynamodb } = await load<Steps>(path, { ORDERS_TABLE_NAME: 'orders', FAULT_INJECTION: 'on' }, (c) =>
      c.constructor.name === 'UpdateItemCommand' ? { Attributes: { attempts: { N: String(++attempts) } } } : {},
    );
    await expect(module.handler(event('charge', 'action', faulty))).rejects.toMatchObject({ name: 'PaymentDeclined' });
    expect((dynamodb.mock.calls[0][0] as unknown as Command).input.Key.pk.S).toBe('fault#o1#charge#action');
    expect(await module.handler(event('charge', 'action', faulty))).toMatchObject({ status: 'applied' });
  });

  it('ignores faults unless FAULT_INJECTION is on, and after the counter item is marked repaired', async () => {
    const faulty = { ...order, faults: { 'ship:action': {} } };
    const off = await load<Steps>(path, { ORDERS_TABLE_NAME: 'orders' });
    expect(await off.module.handler(event('ship', 'action', faulty))).toMatchObject({ status: 'applied' });
    const repaired = await load<Steps>(path, { ORDERS_TABLE_NAME: 'orders', FAULT_INJECTION: 'on' }, (c) =>
      c.constructor.name === 'UpdateItemCommand' ? { Attributes: { attempts: { N: '5' }, repaired: { BOOL: true } } } : {},
    );
    expect(await repaired.module.handler(event('ship', 'action', faulty))).toMatchObject({ status: 'applied' });
  });

  it('writes and then fails for an after-effect fault (a lost response)', async () => {
    const faulty = { ...order, faults: { 'ship:action': { kind: 'after-effect' as const } } };
    const { module, dynamodb } = await load<Steps>(path, { ORDERS_TABLE_NAME: 'orders', FAULT_INJECTION: 'on' }, (c) =>
      c.constructor.name === 'UpdateItemCommand' ? { Attributes: { attempts: { N: '1' } } } : {},
    );
    await expect(module.handler(event('ship', 'action', faulty))).rejects.toMatchObject({ name: 'InjectedFault' });
    expect(dynamodb.mock.calls.map((c) => (c[0] as unknown as Command).constructor.name)).toEqual([
      'UpdateItemCommand',
      'TransactWriteItemsCommand',
    ]);
  });
});

describe('Handler: saga/approval', () => {
  type Approval = typeof import('../../../lambda/saga/approval');
  const path = '../../../lambda/saga/approval';

  it.each([
    ['approve', 'SendTaskSuccessCommand', { taskToken: 't', output: '{"approved":true,"approver":"alice"}' }],
    ['reject', 'SendTaskFailureCommand', { taskToken: 't', error: 'ApprovalRejected', cause: 'too much' }],
    ['heartbeat', 'SendTaskHeartbeatCommand', { taskToken: 't' }],
  ])('%s: sends %s', async (decision, command, input) => {
    const { module, sfn } = await load<Approval>(path, {});
    expect(await module.handler({ taskToken: 't', decision: decision as 'approve', approver: 'alice', reason: 'too much' })).toEqual({
      decision,
    });
    expect((sfn.mock.calls[0][0] as unknown as Command).constructor.name).toBe(command);
    expect((sfn.mock.calls[0][0] as unknown as Command).input).toEqual(input);
  });

  it('fails a decision without a token or with an unknown decision', async () => {
    const { module } = await load<Approval>(path, {});
    await expect(module.handler({ taskToken: '', decision: 'approve' })).rejects.toMatchObject({ name: 'InvalidDecisionError' });
    await expect(module.handler({ taskToken: 't', decision: 'maybe' as 'approve' })).rejects.toMatchObject({
      name: 'InvalidDecisionError',
    });
  });
});
