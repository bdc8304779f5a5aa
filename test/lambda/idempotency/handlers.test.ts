import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';

// The English locale of zod ships as ES modules only, which Jest (CommonJS) cannot load: the
// handlers' messages are not what these tests check.
jest.mock('zod/v4/locales/en.js', () => ({ __esModule: true, default: () => ({}) }));

const ENV = ['FAULT_INJECTION', 'PAYMENTS_TABLE_NAME', 'OUTPUT_QUEUE_URL', 'IDEMPOTENCY_TABLE_NAME'];

/** Loads a handler fresh with `env`; DynamoDB and SQS answer success; the Powertools Logger is spied on. */
async function load<T>(modulePath: string, env: Record<string, string>) {
  jest.resetModules();
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, { IDEMPOTENCY_TABLE_NAME: 'idempotency', ...env });
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const dynamodb = jest.spyOn(DynamoDBClient.prototype, 'send').mockImplementation((async () => ({})) as never);
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const sqs = jest.spyOn(SQSClient.prototype, 'send').mockImplementation((async () => ({ MessageId: 'n-1' })) as never);
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  const module = (await import(modulePath)) as T;
  return { module, dynamodb, sqs, warn, error, exit };
}

afterEach(() => {
  for (const k of ENV) delete process.env[k];
  jest.restoreAllMocks();
});

describe('Handler: idempotency/payments', () => {
  type Payments = typeof import('../../../lambda/idempotency/payments');
  const path = '../../../lambda/idempotency/payments';

  it('fails an invalid payment with a non-retryable InvalidPaymentError, writing nothing', async () => {
    const { module, dynamodb, warn } = await load<Payments>(path, { PAYMENTS_TABLE_NAME: 'payments' });
    const bad = sqsRecord({ paymentId: 'p1', accountId: 'a1', amountCents: -5 });
    const res = await module.handler(sqsEvent([bad]), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect(dynamodb).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith(
      'message processing failed',
      expect.objectContaining({ errorName: 'InvalidPaymentError', retryable: false, errorContext: { messageId: bad.messageId } }),
    );
  });

  it('logs an injected crash through its Logger, with the payment id as a field', async () => {
    const { module, dynamodb, error, exit } = await load<Payments>(path, { PAYMENTS_TABLE_NAME: 'payments', FAULT_INJECTION: 'on' });
    await module.handler(
      sqsEvent([sqsRecord({ paymentId: 'p2', accountId: 'a1', amountCents: 5, fault: 'crash-after-commit' })]),
      lambdaContext(),
    );
    expect(dynamodb).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith('injected crash after commit', { paymentId: 'p2' });
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('fails an injected fault before the commit with a retryable error', async () => {
    const { module, warn } = await load<Payments>(path, { PAYMENTS_TABLE_NAME: 'payments', FAULT_INJECTION: 'on' });
    await module.handler(
      sqsEvent([sqsRecord({ paymentId: 'p3', accountId: 'a1', amountCents: 5, fault: 'fail-before-commit' })]),
      lambdaContext(),
    );
    expect(warn).toHaveBeenCalledWith(
      'message processing failed',
      expect.objectContaining({ errorName: 'InjectedFaultError', retryable: true }),
    );
  });
});

describe('Handler: idempotency/notifier', () => {
  type Notifier = typeof import('../../../lambda/idempotency/notifier');
  const path = '../../../lambda/idempotency/notifier';

  it('fails an invalid order event with a non-retryable InvalidOrderEventError, publishing nothing', async () => {
    const { module, sqs, warn } = await load<Notifier>(path, { OUTPUT_QUEUE_URL: 'https://sqs/111122223333/out' });
    const bad = sqsRecord({ orderId: 'o1', status: 'lost' });
    const res = await module.handler(sqsEvent([bad]), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect(sqs).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith(
      'message processing failed',
      expect.objectContaining({ errorName: 'InvalidOrderEventError', retryable: false }),
    );
  });

  it('logs an injected crash through its Logger, with the order id as a field', async () => {
    const { module, sqs, error, exit } = await load<Notifier>(path, {
      OUTPUT_QUEUE_URL: 'https://sqs/111122223333/out',
      FAULT_INJECTION: 'on',
    });
    await module.handler(sqsEvent([sqsRecord({ orderId: 'o2', status: 'paid', fault: 'crash-after-complete' })]), lambdaContext());
    expect(sqs).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith('injected crash after completion', { orderId: 'o2' });
    expect(exit).toHaveBeenCalledWith(1);
  });
});
