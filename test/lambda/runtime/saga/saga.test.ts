import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  SagaConfigurationError,
  SagaNotFoundError,
  SagaNotResumableError,
  SagaServiceError,
  SagaStartConflictError,
  SagaTaskTokenError,
  completeTask,
  describeSaga,
  executionArnOf,
  failTask,
  heartbeatTask,
  isSagaTaskEvent,
  keepTaskAlive,
  parseSagaConfig,
  resumeExecutionName,
  resumeSaga,
  runSaga,
  sagaIdOf,
  startSaga,
} from '../../../../lambda/runtime/saga';
import { CONFIG, FakeClient, item, sdkError } from './fake';

const clients = (sfn: FakeClient, ddb: FakeClient, config: object = CONFIG) => ({
  config: config as typeof CONFIG,
  sfnClient: sfn.as<SFNClient>(),
  dynamoDbClient: ddb.as<DynamoDBClient>(),
  logger: null,
});
const ARN = executionArnOf(CONFIG.stateMachineArn, 'order-1');

describe('Function: sagaIdOf', () => {
  it('uses a business key that is a valid execution name as it is', () => {
    expect(sagaIdOf('order-1')).toBe('order-1');
    expect(sagaIdOf('A.b_c-9')).toBe('A.b_c-9');
  });

  it('hashes any other key, the same way every time, into a valid execution name', () => {
    const id = sagaIdOf('order #1 / EU');
    expect(id).toMatch(/^k-[A-Za-z0-9_-]{43}$/);
    expect(sagaIdOf('order #1 / EU')).toBe(id);
    expect(sagaIdOf('x'.repeat(81))).toMatch(/^k-/);
    expect(sagaIdOf('k-looks-hashed')).not.toBe('k-looks-hashed');
  });

  it('fails on an empty key', () => {
    expect(() => sagaIdOf('')).toThrow(SagaConfigurationError);
  });
});

describe('Function: parseSagaConfig', () => {
  it('reads SAGA_CONFIG', () => {
    process.env.SAGA_CONFIG = JSON.stringify(CONFIG);
    try {
      expect(parseSagaConfig(process.env.SAGA_CONFIG)).toEqual(CONFIG);
    } finally {
      delete process.env.SAGA_CONFIG;
    }
  });

  it.each([
    [undefined, /no saga configuration/],
    ['{', /not valid JSON/],
    [{ ...CONFIG, stateMachineArn: 'nope' }, /config.stateMachineArn: must be a Step Functions state machine ARN/],
    [{ ...CONFIG, logTableName: '' }, /config.logTableName/],
    [{ ...CONFIG, type: 'FAST' }, /config.type: must be STANDARD or EXPRESS/],
  ])('fails on %p', (value, message) => {
    expect(() => parseSagaConfig(value as never)).toThrow(message);
  });
});

describe('Function: startSaga', () => {
  it('writes the start row, then starts the execution named after the business key with { input }', async () => {
    const sfn = new FakeClient({ StartExecution: () => ({ executionArn: ARN }) });
    const ddb = new FakeClient();
    const result = await startSaga('order-1', { orderId: 'order-1' }, clients(sfn, ddb));
    expect(result).toEqual({ sagaId: 'order-1', executionArn: ARN, duplicate: false });
    expect(ddb.sent[0]).toMatchObject({
      name: 'PutItem',
      input: {
        TableName: 'saga-log',
        ConditionExpression: 'attribute_not_exists(#id)',
        Item: { sagaId: { S: 'order-1' }, status: { S: 'RUNNING' } },
      },
    });
    expect(sfn.sent[0].input).toEqual({
      stateMachineArn: CONFIG.stateMachineArn,
      name: 'order-1',
      input: '{"input":{"orderId":"order-1"}}',
    });
  });

  it('reports a duplicate when the row existed (a retried start: Step Functions answers with the running execution)', async () => {
    const sfn = new FakeClient({ StartExecution: () => ({ executionArn: ARN }) });
    const ddb = new FakeClient({ PutItem: () => sdkError('ConditionalCheckFailedException') });
    expect(await startSaga('order-1', {}, clients(sfn, ddb))).toMatchObject({ duplicate: true, executionArn: ARN });
  });

  it('reports a duplicate when the execution already ran with the same input', async () => {
    const sfn = new FakeClient({
      StartExecution: () => sdkError('ExecutionAlreadyExists'),
      DescribeExecution: () => ({ input: '{ "input": { "a": 1 } }' }),
    });
    expect(await startSaga('order-1', { a: 1 }, clients(sfn, new FakeClient()))).toEqual({
      sagaId: 'order-1',
      executionArn: ARN,
      duplicate: true,
    });
  });

  it('fails with SagaStartConflictError when the key ran with another input', async () => {
    const sfn = new FakeClient({
      StartExecution: () => sdkError('ExecutionAlreadyExists'),
      DescribeExecution: () => ({ input: '{"input":{"a":2}}' }),
    });
    await expect(startSaga('order-1', { a: 1 }, clients(sfn, new FakeClient()))).rejects.toBeInstanceOf(SagaStartConflictError);
  });

  it('wraps other errors in a retryable SagaServiceError', async () => {
    const sfn = new FakeClient({ StartExecution: () => sdkError('ThrottlingException') });
    const error = await startSaga('order-1', {}, clients(sfn, new FakeClient())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SagaServiceError);
    expect(error).toMatchObject({ retryable: true, operation: 'StartExecution' });
    const ddbError = await startSaga(
      'order-1',
      {},
      clients(new FakeClient(), new FakeClient({ PutItem: () => sdkError('ResourceNotFoundException') })),
    ).catch((e: unknown) => e);
    expect(ddbError).toMatchObject({ operation: 'PutItem' });
  });

  it('starts an Express saga once: a saga with a start row is not started again', async () => {
    const sfn = new FakeClient();
    const ddb = new FakeClient({
      PutItem: () => sdkError('ConditionalCheckFailedException'),
      GetItem: () => item({ sagaId: 'order-1', status: 'COMMITTED' }),
    });
    expect(await startSaga('order-1', {}, clients(sfn, ddb, { ...CONFIG, type: 'EXPRESS' }))).toMatchObject({ duplicate: true });
    expect(sfn.sent).toEqual([]);
  });

  it('fails on an undefined input', async () => {
    await expect(startSaga('order-1', undefined, clients(new FakeClient(), new FakeClient()))).rejects.toBeInstanceOf(
      SagaConfigurationError,
    );
  });
});

describe('Function: runSaga', () => {
  const express = { ...CONFIG, type: 'EXPRESS' };

  it('runs an Express saga synchronously and returns its outcome and results', async () => {
    const sfn = new FakeClient({
      StartSyncExecution: () => ({
        status: 'SUCCEEDED',
        output: JSON.stringify({ outcome: { status: 'COMPENSATED' }, saga: { results: { a: 1 }, failures: { b: { Error: 'X' } } } }),
      }),
    });
    expect(await runSaga('order-1', {}, clients(sfn, new FakeClient(), express))).toEqual({
      sagaId: 'order-1',
      status: 'COMPENSATED',
      results: { a: 1 },
      failedStep: 'b',
      duplicate: false,
    });
  });

  it('answers a duplicate from the saga log', async () => {
    const ddb = new FakeClient({
      PutItem: () => sdkError('ConditionalCheckFailedException'),
      GetItem: () => item({ sagaId: 'order-1', status: 'COMMITTED', saga: JSON.stringify({ results: { a: 1 } }) }),
    });
    expect(await runSaga('order-1', {}, clients(new FakeClient(), ddb, express))).toMatchObject({
      status: 'COMMITTED',
      results: { a: 1 },
      duplicate: true,
    });
  });

  it('reads the log when the execution failed', async () => {
    const sfn = new FakeClient({ StartSyncExecution: () => ({ status: 'FAILED' }) });
    const ddb = new FakeClient({ GetItem: () => item({ sagaId: 'order-1', status: 'COMPENSATION_FAILED', failedCompensation: 'a' }) });
    expect(await runSaga('order-1', {}, clients(sfn, ddb, express))).toMatchObject({ status: 'COMPENSATION_FAILED', duplicate: false });
  });

  it('fails for a Standard saga', async () => {
    await expect(runSaga('order-1', {}, clients(new FakeClient(), new FakeClient()))).rejects.toThrow(/runSaga runs Express sagas/);
  });
});

describe('Function: describeSaga', () => {
  it('reads a COMPENSATED row: results, the failed step and its error, the compensations', async () => {
    const ddb = new FakeClient({
      GetItem: () =>
        item({
          sagaId: 'order-1',
          status: 'COMPENSATED',
          businessKey: 'order-1',
          saga: JSON.stringify({
            results: { reserve: { id: 1 } },
            failures: { charge: { Error: 'PaymentDeclined', Cause: 'card' } },
            compensations: { charge: { status: 'skipped' }, reserve: { status: 'applied' } },
          }),
        }),
    });
    expect(await describeSaga('order-1', clients(new FakeClient(), ddb))).toMatchObject({
      status: 'COMPENSATED',
      completedSteps: ['reserve'],
      failure: { step: 'charge', error: 'PaymentDeclined', cause: 'card' },
      compensations: { reserve: { status: 'applied' } },
      stillToUndo: [],
      resumeCount: 0,
    });
  });

  it('reads a COMPENSATION_FAILED row: the failed compensation and the steps still to undo', async () => {
    const ddb = new FakeClient({
      GetItem: () =>
        item({
          sagaId: 'order-1',
          status: 'COMPENSATION_FAILED',
          failedCompensation: 'charge',
          stillToUndo: ['charge', 'reserve'],
          saga: JSON.stringify({ compensationFailure: { Error: 'RefundDown', Cause: '' } }),
        }),
    });
    expect(await describeSaga('order-1', clients(new FakeClient(), ddb))).toMatchObject({
      compensationFailure: { step: 'charge', error: 'RefundDown', cause: undefined },
      stillToUndo: ['charge', 'reserve'],
    });
  });

  it('adds the execution status and the state reached for a running saga', async () => {
    const ddb = new FakeClient({ GetItem: () => item({ sagaId: 'order-1', status: 'RUNNING' }) });
    const sfn = new FakeClient({
      DescribeExecution: () => ({ status: 'RUNNING' }),
      GetExecutionHistory: () => ({
        events: [{ type: 'TaskScheduled' }, { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'charge' } }],
      }),
    });
    expect(await describeSaga('order-1', clients(sfn, ddb))).toMatchObject({
      status: 'RUNNING',
      executionStatus: 'RUNNING',
      stateReached: 'charge',
      executionArn: ARN,
    });
    expect(sfn.sent[1].input).toMatchObject({ reverseOrder: true });
  });

  it('returns undefined for an unknown saga, and fails on an error of the log', async () => {
    const sfn = new FakeClient({ DescribeExecution: () => sdkError('ExecutionDoesNotExist') });
    expect(await describeSaga('nope', clients(sfn, new FakeClient()))).toBeUndefined();
    await expect(describeSaga('x', clients(sfn, new FakeClient({ GetItem: () => sdkError('Boom') })))).rejects.toBeInstanceOf(
      SagaServiceError,
    );
  });
});

describe('Function: resumeSaga', () => {
  const failedRow = {
    sagaId: 'order-1',
    status: 'COMPENSATION_FAILED',
    failedCompensation: 'charge',
    stillToUndo: ['charge', 'reserve'],
    input: JSON.stringify({ orderId: 'order-1' }),
    saga: JSON.stringify({ failures: { ship: { Error: 'X' } }, compensationFailure: { Error: 'Y' } }),
  };

  it('moves the row to RESUMING and starts the resume machine at the failed compensation', async () => {
    const ddb = new FakeClient({
      GetItem: () => item(failedRow),
      UpdateItem: () => ({ Attributes: item({ ...failedRow, status: 'RESUMING', resumeCount: 1 }).Item }),
    });
    const sfn = new FakeClient({ StartExecution: (input) => ({ executionArn: `arn:exec:${input.name}` }) });
    const result = await resumeSaga('order-1', clients(sfn, ddb));
    expect(result).toEqual({
      sagaId: 'order-1',
      executionArn: 'arn:exec:order-1-resume-1',
      resumeFrom: 'charge',
      stillToUndo: ['charge', 'reserve'],
      resumeCount: 1,
    });
    expect(ddb.sent[1].input.ConditionExpression).toBe('#status = :failed AND (attribute_not_exists(#count) OR #count = :seen)');
    expect(JSON.parse(sfn.sent[0].input.input)).toEqual({
      sagaId: 'order-1',
      resumeFrom: 'charge',
      input: { orderId: 'order-1' },
      saga: { failures: { ship: { Error: 'X' } }, compensationFailure: { Error: 'Y' }, results: {} },
    });
    expect(sfn.sent[0].input.stateMachineArn).toBe(CONFIG.resumeStateMachineArn);
  });

  it('starts the same execution again for a saga left RESUMING (idempotent)', async () => {
    const ddb = new FakeClient({ GetItem: () => item({ ...failedRow, status: 'RESUMING', resumeCount: 2 }) });
    const sfn = new FakeClient({ StartExecution: () => sdkError('ExecutionAlreadyExists') });
    expect(await resumeSaga('order-1', clients(sfn, ddb))).toMatchObject({
      executionArn: executionArnOf(CONFIG.resumeStateMachineArn, 'order-1-resume-2'),
      resumeCount: 2,
    });
    expect(ddb.names()).toEqual(['GetItem']);
  });

  it('re-reads the row when another resume won the conditional update', async () => {
    const ddb = new FakeClient({
      GetItem: (_i, n) => item(n === 1 ? failedRow : { ...failedRow, status: 'RESUMING', resumeCount: 1 }),
      UpdateItem: () => sdkError('ConditionalCheckFailedException'),
    });
    const sfn = new FakeClient({ StartExecution: () => ({ executionArn: 'arn:x' }) });
    expect(await resumeSaga('order-1', clients(sfn, ddb))).toMatchObject({ resumeCount: 1 });
  });

  it('fails for an unknown saga, a saga that is not COMPENSATION_FAILED, or a saga without a resume machine', async () => {
    await expect(resumeSaga('x', clients(new FakeClient(), new FakeClient()))).rejects.toBeInstanceOf(SagaNotFoundError);
    const committed = new FakeClient({ GetItem: () => item({ sagaId: 'x', status: 'COMMITTED' }) });
    await expect(resumeSaga('x', clients(new FakeClient(), committed))).rejects.toBeInstanceOf(SagaNotResumableError);
    await expect(
      resumeSaga('x', clients(new FakeClient(), new FakeClient(), { ...CONFIG, resumeStateMachineArn: undefined })),
    ).rejects.toThrow(/no resume machine/);
  });

  it('names resume executions within 80 characters', () => {
    expect(resumeExecutionName('a'.repeat(80), 3)).toMatch(/^[A-Za-z0-9_-]{43}-resume-3$/);
  });
});

describe('Functions: completeTask, failTask, heartbeatTask, keepTaskAlive', () => {
  it('sends the task responses', async () => {
    const client = new FakeClient();
    const o = { client: client.as<SFNClient>() };
    await completeTask('t1', { approved: true }, o);
    await failTask('t1', 'ApprovalRejected', 'no', o);
    await heartbeatTask('t1', o);
    expect(client.sent).toEqual([
      { name: 'SendTaskSuccess', input: { taskToken: 't1', output: '{"approved":true}' } },
      { name: 'SendTaskFailure', input: { taskToken: 't1', error: 'ApprovalRejected', cause: 'no' } },
      { name: 'SendTaskHeartbeat', input: { taskToken: 't1' } },
    ]);
  });

  it('says when nobody waits for the token any more (SagaTaskTokenError, not retryable)', async () => {
    const client = new FakeClient({ SendTaskSuccess: () => sdkError('TaskTimedOut') });
    const error = await completeTask('t1', {}, { client: client.as<SFNClient>() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SagaTaskTokenError);
    expect(error).toMatchObject({ reason: 'TaskTimedOut', retryable: false });
    const other = await heartbeatTask('t1', {
      client: new FakeClient({ SendTaskHeartbeat: () => sdkError('ThrottlingException') }).as<SFNClient>(),
    }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(SagaServiceError);
    await expect(completeTask('', {}, { client: client.as<SFNClient>() })).rejects.toBeInstanceOf(SagaConfigurationError);
  });

  it('keepTaskAlive heartbeats while the work runs, then completes with its result, or fails with its error', async () => {
    const client = new FakeClient();
    const result = await keepTaskAlive('t1', () => new Promise((r) => setTimeout(() => r({ done: 1 }), 350)), {
      client: client.as<SFNClient>(),
      intervalMs: 100,
    });
    expect(result).toEqual({ done: 1 });
    expect(client.names().filter((n) => n === 'SendTaskHeartbeat').length).toBeGreaterThanOrEqual(2);
    expect(client.names().at(-1)).toBe('SendTaskSuccess');
    const failing = new FakeClient();
    await expect(
      keepTaskAlive(
        't1',
        async () => {
          throw Object.assign(new Error('nope'), { name: 'Rejected' });
        },
        { client: failing.as<SFNClient>(), intervalMs: 100 },
      ),
    ).rejects.toThrow('nope');
    expect(failing.sent.at(-1)).toEqual({ name: 'SendTaskFailure', input: { taskToken: 't1', error: 'Rejected', cause: 'nope' } });
  });
});

describe('Function: isSagaTaskEvent', () => {
  it('recognises the saga event', () => {
    expect(isSagaTaskEvent({ sagaId: 's', step: 'a', phase: 'action', idempotencyToken: 's#a', input: {}, results: {} })).toBe(true);
    expect(isSagaTaskEvent({ sagaId: 's', step: 'a', phase: 'later', idempotencyToken: 's#a' })).toBe(false);
    expect(isSagaTaskEvent(null)).toBe(false);
  });
});
