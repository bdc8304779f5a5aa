/**
 * Saga end to end: the real construct deployed into LocalStack (the state machine and the resume
 * machine run by LocalStack's Step Functions interpreter, the sample order saga's steps as Lambda
 * functions through the project's process executor, DynamoDB on moto), real executions started with
 * the run-time helpers. Short retries and timeouts come through props (the kit's defaults are for
 * users); LocalStack waits and retries in real time.
 *
 * Scenarios, all at once: success; a failure injected at each step k (compensations of the steps
 * before k run, in reverse; k's own compensation runs and is a no-op); a timeout (the step took
 * effect, then ran past its timeout: compensated like a failure, its own effect undone too); a
 * compensation that fails twice then succeeds; an exhausted compensation (COMPENSATION_FAILED, the
 * saga-log row with the steps still to undo, then fixed and resumed); a callback approved, one that
 * times out while heartbeating, one rejected; a duplicate start. A ledger over the orders table checks
 * every action and compensation was applied at most once and every saga ended committed or fully
 * compensated.
 */
import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { IdempotencyTable, Saga, SagaTask } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import type { FaultSpec, OrderInput } from '../../lambda/saga/order-steps';
import {
  type SagaClientOptions,
  SagaNotResumableError,
  SagaStartConflictError,
  describeSaga,
  heartbeatTask,
  resumeSaga,
  startSaga,
} from '../../lambda/runtime/saga';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

/** Approvals above this amount (cents). */
const APPROVAL_ABOVE = 100_000;
/** The approval callback's timeout and heartbeat, and the shipping step's timeout (short: LocalStack waits in real time). */
const APPROVAL_TIMEOUT = Duration.seconds(8);
const APPROVAL_HEARTBEAT = Duration.seconds(4);
const SHIP_TIMEOUT = Duration.seconds(3);
const STEPS = ['reserve', 'charge', 'ship'] as const;
type Step = (typeof STEPS)[number];
const EFFECT_KEY: Record<Step, (o: OrderInput) => string> = {
  reserve: (o) => `reservation#${o.orderId}`,
  charge: (o) => `payment#${o.orderId}`,
  ship: (o) => `shipment#${o.orderId}`,
};

interface Run {
  readonly name: string;
  readonly order: OrderInput;
  readonly sagaId: string;
  readonly execution: DescribeExecutionCommandOutput;
  /** Top-level states entered, in order. */
  readonly states: string[];
}

describe('Saga end to end', () => {
  let stack: DeployedStack;
  let sfnClient: SFNClient;
  let ddb: DynamoDBClient;
  let queues: SQSClient;
  let lambdaClient: LambdaClient;
  let options: SagaClientOptions;
  const started: OrderInput[] = [];
  const approvals = new Map<string, string>(); // sagaId -> task token
  let polling = true;
  let poller: Promise<void> | undefined;
  let counter = 0;
  const runId = Date.now().toString(36);

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('saga', (s) => {
      const idempotency = new IdempotencyTable(s, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
      const orders = new dynamodb.Table(s, 'Orders', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const approvalQueue = new sqs.Queue(s, 'Approvals', { enforceSSL: true });
      const steps = new KitFunction(s, 'OrderSteps', {
        handler: 'saga/order-steps',
        functionProps: { timeout: Duration.seconds(15), environment: { ORDERS_TABLE_NAME: orders.tableName, FAULT_INJECTION: 'on' } },
        synchronousOnlyReason: 'Invoked by Step Functions only.',
      });
      idempotency.connectConsumer(steps);
      orders.grantReadWriteData(steps);
      const approver = new KitFunction(s, 'Approver', { handler: 'saga/approval', synchronousOnlyReason: 'Invoked directly only.' });
      const task = SagaTask.invoke(steps);
      const saga = new Saga(s, 'OrderSaga', {
        steps: [
          { name: 'reserve', action: task, compensation: task },
          {
            name: 'approve',
            action: SagaTask.callbackQueue(approvalQueue),
            timeout: APPROVAL_TIMEOUT,
            heartbeat: APPROVAL_HEARTBEAT,
            condition: sfn.Condition.numberGreaterThan('$.input.amountCents', APPROVAL_ABOVE),
          },
          { name: 'charge', action: task, compensation: task },
          { name: 'ship', action: task, compensation: task, timeout: SHIP_TIMEOUT },
        ],
        // Test-short retries: one retry of an action, three of a compensation, a second apart.
        retry: { maxAttempts: 1, interval: Duration.seconds(1), backoffRate: 1, nonRetryableErrors: ['InvalidOrderError'] },
        compensationRetry: { maxAttempts: 3, interval: Duration.seconds(1), backoffRate: 1 },
        logTableRemovalPolicy: RemovalPolicy.DESTROY,
      });
      saga.connectConsumer(approver);
      // A saga of direct DynamoDB integrations with a parallel step and a forEach step.
      const key = (token: string) => ({ pk: tasks.DynamoAttributeValue.fromString(token) });
      const put = (token: string) => SagaTask.putItem(orders, { item: key(token), conditionExpression: 'attribute_not_exists(pk)' });
      const del = (token: string) => SagaTask.deleteItem(orders, { key: key(token) });
      const step = (name: string) => ({
        name,
        action: put(SagaTask.idempotencyToken(name)),
        compensation: del(SagaTask.idempotencyToken(name)),
      });
      const line = sfn.JsonPath.format('{}#line#{}', sfn.JsonPath.stringAt('$.sagaId'), sfn.JsonPath.stringAt('$.item'));
      const trip = new Saga(s, 'TripSaga', {
        steps: [
          step('trip'),
          { name: 'book', branches: [{ steps: [step('flight')] }, { steps: [step('hotel'), step('car')] }] },
          { name: 'lines', action: put(line), compensation: del(line), forEach: { itemsPath: '$.input.lines', maxConcurrency: 2 } },
        ],
        retry: { maxAttempts: 0 },
        compensationRetry: { maxAttempts: 2, interval: Duration.seconds(1), backoffRate: 1 },
        logTableRemovalPolicy: RemovalPolicy.DESTROY,
      });
      new CfnOutput(s, 'TripConfig', { value: trip.sagaConfig });
      new CfnOutput(s, 'TripStateMachineArn', { value: trip.stateMachine.stateMachineArn });
      new CfnOutput(s, 'SagaConfig', { value: saga.sagaConfig });
      new CfnOutput(s, 'StateMachineArn', { value: saga.stateMachine.stateMachineArn });
      new CfnOutput(s, 'OrdersTable', { value: orders.tableName });
      new CfnOutput(s, 'ApprovalsUrl', { value: approvalQueue.queueUrl });
      new CfnOutput(s, 'ApproverFunction', { value: approver.functionName });
    });
    sfnClient = new SFNClient(clientConfig());
    ddb = new DynamoDBClient(clientConfig());
    queues = sqsClient();
    lambdaClient = new LambdaClient(clientConfig());
    options = { config: stack.outputs.SagaConfig, sfnClient, dynamoDbClient: ddb, logger: null };
    poller = pollApprovals();
  }, 600_000);

  afterAll(async () => {
    polling = false;
    await poller;
    await stack?.destroy();
  }, 300_000);

  /** Collects approval requests (the callback step's SQS messages) by saga id. */
  async function pollApprovals(): Promise<void> {
    while (polling) {
      const res = await queues
        .send(new ReceiveMessageCommand({ QueueUrl: stack.outputs.ApprovalsUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
        .catch(() => undefined);
      for (const m of res?.Messages ?? []) {
        const body = JSON.parse(m.Body!) as { sagaId: string; taskToken: string };
        approvals.set(body.sagaId, body.taskToken);
        await queues.send(new DeleteMessageCommand({ QueueUrl: stack.outputs.ApprovalsUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  }

  const newOrder = (name: string, faults?: Record<string, FaultSpec>, amountCents = 4_200): OrderInput => ({
    orderId: `${runId}-${name}-${counter++}`,
    sku: `sku-${runId}-${name}`,
    quantity: 2,
    amountCents,
    ...(faults ? { faults } : {}),
  });

  async function start(order: OrderInput): Promise<string> {
    started.push(order);
    const { sagaId } = await startSaga(order.orderId, order, options);
    return sagaId;
  }

  async function finished(sagaId: string, timeoutMs = 90_000): Promise<DescribeExecutionCommandOutput> {
    const executionArn = `${stack.outputs.StateMachineArn.replace(':stateMachine:', ':execution:')}:${sagaId}`;
    return waitFor(
      `saga ${sagaId} to end`,
      async () => {
        const d = await sfnClient.send(new DescribeExecutionCommand({ executionArn }));
        return d.status === 'RUNNING' ? undefined : d;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  async function statesOf(executionArn: string): Promise<string[]> {
    const h = await sfnClient.send(new GetExecutionHistoryCommand({ executionArn }));
    const top = new Set(['reserve', 'If approve', 'approve', 'charge', 'ship', 'Committed', 'Compensated', 'CompensationFailed', 'Resume']);
    return (h.events ?? [])
      .map((e) => e.stateEnteredEventDetails?.name)
      .filter((n): n is string => n !== undefined && (top.has(n) || n.startsWith('Undo ') || n.startsWith('CompensationFailed')));
  }

  async function run(name: string, order: OrderInput): Promise<Run> {
    const sagaId = await start(order);
    const execution = await finished(sagaId);
    return { name, order, sagaId, execution, states: await statesOf(execution.executionArn!) };
  }

  /** The effect items of an order, by step. */
  async function effectsOf(order: OrderInput): Promise<Partial<Record<Step, Record<string, unknown>>>> {
    const out: Partial<Record<Step, Record<string, unknown>>> = {};
    const res = await ddb.send(new ScanCommand({ TableName: stack.outputs.OrdersTable, ConsistentRead: true }));
    const items = (res.Items ?? []).map((i) => unmarshall(i));
    for (const step of STEPS) {
      const item = items.find((i) => i.pk === EFFECT_KEY[step](order));
      if (item) out[step] = item;
    }
    return out;
  }

  async function faultAttempts(sagaId: string, step: Step, phase: 'action' | 'compensation'): Promise<number> {
    const res = await ddb.send(new ScanCommand({ TableName: stack.outputs.OrdersTable, ConsistentRead: true }));
    const item = (res.Items ?? []).map((i) => unmarshall(i)).find((i) => i.pk === `fault#${sagaId}#${step}#${phase}`);
    return Number(item?.attempts ?? 0);
  }

  const applied = (e: Record<string, unknown> | undefined) => Number(e?.applications ?? 0);
  const compensated = (e: Record<string, unknown> | undefined) => Number(e?.compensations ?? 0);

  it('commits a saga whose steps succeed: each step once, then the COMMITTED row', async () => {
    const r = await run('ok', newOrder('ok'));
    expect(r.execution.status).toBe('SUCCEEDED');
    expect(r.states).toEqual(['reserve', 'If approve', 'charge', 'ship', 'Committed']);
    const saga = await describeSaga(r.sagaId, options);
    expect(saga).toMatchObject({ status: 'COMMITTED', businessKey: r.order.orderId, completedSteps: ['reserve', 'charge', 'ship'] });
    expect(saga!.results.charge).toMatchObject({ status: 'applied', paymentId: `payment#${r.order.orderId}` });
    const effects = await effectsOf(r.order);
    for (const step of STEPS)
      expect({ step, applied: applied(effects[step]), compensated: compensated(effects[step]) }).toEqual({
        step,
        applied: 1,
        compensated: 0,
      });
  }, 120_000);

  describe.each(STEPS.map((s, k) => [s, k] as const))('a failure injected at %s', (step, k) => {
    it(`runs exactly the compensations of the steps before it, in reverse (its own is a no-op), after its retries`, async () => {
      const r = await run(`fail-${step}`, newOrder(`fail-${step}`, { [`${step}:action`]: { failTimes: 1000 } }));
      expect(r.execution.status).toBe('SUCCEEDED'); // COMPENSATED is a clean end: the execution succeeds
      const saga = await describeSaga(r.sagaId, options);
      expect(saga).toMatchObject({ status: 'COMPENSATED', failure: { step, error: 'InjectedFault' } });
      // One retry, then the compensation chain.
      expect(await faultAttempts(r.sagaId, step, 'action')).toBe(2);
      const before = STEPS.slice(0, k);
      const undone = r.states.filter((s) => s.startsWith('Undo ')).map((s) => s.replace(/^Undo | \(first\)$/g, ''));
      expect(undone).toEqual([step, ...[...before].reverse()]);
      expect(r.states.at(-1)).toBe('Compensated');
      const effects = await effectsOf(r.order);
      for (const s of STEPS) {
        const expected = before.includes(s) ? { applied: 1, compensated: 1 } : { applied: 0, compensated: 0 };
        expect({ s, applied: applied(effects[s]), compensated: compensated(effects[s]) }).toEqual({ s, ...expected });
      }
      expect(Object.keys(saga!.compensations).sort()).toEqual([step, ...before].sort());
      expect(saga!.compensations[step]).toMatchObject({ status: 'skipped' });
    }, 120_000);
  });

  it('compensates a step that took effect and then ran past its timeout (States.Timeout), its own effect included', async () => {
    const r = await run('timeout', newOrder('timeout', { 'ship:action': { kind: 'sleep', sleepMs: 6_000 } }));
    const saga = await describeSaga(r.sagaId, options);
    expect(saga).toMatchObject({ status: 'COMPENSATED', failure: { step: 'ship', error: 'States.Timeout' } });
    expect(r.states.filter((s) => s.startsWith('Undo '))).toEqual(['Undo ship', 'Undo charge', 'Undo reserve']);
    const effects = await effectsOf(r.order);
    for (const s of STEPS)
      expect({ s, applied: applied(effects[s]), compensated: compensated(effects[s]) }).toEqual({ s, applied: 1, compensated: 1 });
    expect(saga!.compensations.ship).toMatchObject({ status: 'applied' });
  }, 120_000);

  it('retries a compensation that fails twice, then succeeds: the saga ends COMPENSATED, the refund applied once', async () => {
    const r = await run('comp-flaky', newOrder('comp-flaky', { 'ship:action': {}, 'charge:compensation': { failTimes: 2 } }));
    expect(await describeSaga(r.sagaId, options)).toMatchObject({ status: 'COMPENSATED' });
    expect(await faultAttempts(r.sagaId, 'charge', 'compensation')).toBe(3);
    const effects = await effectsOf(r.order);
    expect(effects.charge).toMatchObject({ status: 'REFUNDED', applications: 1, compensations: 1 });
    expect(effects.reserve).toMatchObject({ status: 'RELEASED', applications: 1, compensations: 1 });
  }, 120_000);

  it('ends an exhausted compensation COMPENSATION_FAILED with the steps still to undo, and resumes it after a fix', async () => {
    const order = newOrder('comp-dead', { 'ship:action': {}, 'charge:compensation': {} });
    const r = await run('comp-dead', order);
    expect(r.execution).toMatchObject({ status: 'FAILED', error: 'Saga.CompensationFailed' });
    expect(r.states.slice(-2)).toEqual(['CompensationFailed at charge', 'CompensationFailed']);
    const failed = await describeSaga(r.sagaId, options);
    expect(failed).toMatchObject({
      status: 'COMPENSATION_FAILED',
      failure: { step: 'ship' },
      compensationFailure: { step: 'charge', error: 'InjectedFault' },
      stillToUndo: ['charge', 'reserve'],
    });
    expect(await faultAttempts(r.sagaId, 'charge', 'compensation')).toBe(4); // the attempt and its 3 retries
    let effects = await effectsOf(order);
    expect(effects.charge).toMatchObject({ status: 'CHARGED', applications: 1 });
    expect(effects.charge?.compensations).toBeUndefined();
    expect(effects.reserve).toMatchObject({ status: 'RESERVED' });

    // The fix: the refund service works again.
    await ddb.send(
      new UpdateItemCommand({
        TableName: stack.outputs.OrdersTable,
        Key: { pk: { S: `fault#${r.sagaId}#charge#compensation` } },
        UpdateExpression: 'SET repaired = :t',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      }),
    );
    const resumed = await resumeSaga(r.sagaId, options);
    expect(resumed).toMatchObject({ resumeFrom: 'charge', stillToUndo: ['charge', 'reserve'], resumeCount: 1 });
    // A second call while it runs starts nothing new.
    expect((await resumeSaga(r.sagaId, options).catch((e: unknown) => e)) as { executionArn?: string }).toMatchObject({
      executionArn: resumed.executionArn,
    });
    const done = await waitFor(
      'the resumed saga to end',
      async () => {
        const d = await sfnClient.send(new DescribeExecutionCommand({ executionArn: resumed.executionArn }));
        return d.status === 'RUNNING' ? undefined : d;
      },
      { timeoutMs: 60_000 },
    );
    expect(done.status).toBe('SUCCEEDED');
    expect(await statesOf(resumed.executionArn)).toEqual(['Resume', 'Undo charge', 'Undo reserve', 'Compensated']);
    const after = await describeSaga(r.sagaId, options);
    expect(after).toMatchObject({ status: 'COMPENSATED', stillToUndo: [], resumeCount: 1, resumeExecutionArn: resumed.executionArn });
    effects = await effectsOf(order);
    expect(effects.charge).toMatchObject({ status: 'REFUNDED', applications: 1, compensations: 1 });
    expect(effects.reserve).toMatchObject({ status: 'RELEASED', applications: 1, compensations: 1 });
    await expect(resumeSaga(r.sagaId, options)).rejects.toBeInstanceOf(SagaNotResumableError);
  }, 180_000);

  it('waits for a callback above the approval amount and goes on when it is approved', async () => {
    const order = newOrder('approved', undefined, 250_000);
    const sagaId = await start(order);
    const token = await waitFor('the approval request', async () => approvals.get(sagaId), { timeoutMs: 30_000, intervalMs: 200 });
    await invokeApprover({ taskToken: token, decision: 'heartbeat' });
    await invokeApprover({ taskToken: token, decision: 'approve', approver: 'alice' });
    const execution = await finished(sagaId);
    expect(await statesOf(execution.executionArn!)).toEqual(['reserve', 'If approve', 'approve', 'charge', 'ship', 'Committed']);
    expect(await describeSaga(sagaId, options)).toMatchObject({
      status: 'COMMITTED',
      results: { approve: { approved: true, approver: 'alice' } },
    });
  }, 120_000);

  it('compensates a callback that times out although it was kept alive by heartbeats', async () => {
    const order = newOrder('approval-timeout', undefined, 250_000);
    const sagaId = await start(order);
    const token = await waitFor('the approval request', async () => approvals.get(sagaId), { timeoutMs: 30_000, intervalMs: 200 });
    const since = Date.now();
    let ended = false;
    const beats = (async () => {
      while (!ended) {
        await heartbeatTask(token, { client: sfnClient }).catch(() => undefined);
        await sleep(1_000);
      }
    })();
    const execution = await finished(sagaId);
    ended = true;
    await beats;
    // Kept alive past the 4-second heartbeat: it ended at the 8-second timeout.
    expect(Date.now() - since).toBeGreaterThanOrEqual(APPROVAL_TIMEOUT.toMilliseconds() - 1_500);
    const saga = await describeSaga(sagaId, options);
    expect(saga).toMatchObject({ status: 'COMPENSATED', failure: { step: 'approve', error: 'States.Timeout' } });
    expect(await statesOf(execution.executionArn!)).toEqual(['reserve', 'If approve', 'approve', 'Undo reserve', 'Compensated']);
  }, 120_000);

  it('compensates a callback the approver rejects', async () => {
    const order = newOrder('rejected', undefined, 250_000);
    const sagaId = await start(order);
    const token = await waitFor('the approval request', async () => approvals.get(sagaId), { timeoutMs: 30_000, intervalMs: 200 });
    await invokeApprover({ taskToken: token, decision: 'reject', reason: 'over budget' });
    await finished(sagaId);
    expect(await describeSaga(sagaId, options)).toMatchObject({
      status: 'COMPENSATED',
      failure: { step: 'approve', error: 'ApprovalRejected', cause: 'over budget' },
    });
  }, 120_000);

  it('runs a saga once when it is started twice with the same business key, and refuses the key with another input', async () => {
    const order = newOrder('duplicate');
    started.push(order);
    const [a, b] = await Promise.all([startSaga(order.orderId, order, options), startSaga(order.orderId, order, options)]);
    expect(a.executionArn).toBe(b.executionArn);
    expect([a.duplicate, b.duplicate].filter(Boolean).length).toBeGreaterThanOrEqual(1);
    await finished(a.sagaId);
    const again = await startSaga(order.orderId, order, options);
    expect(again).toMatchObject({ sagaId: a.sagaId, executionArn: a.executionArn, duplicate: true });
    await expect(startSaga(order.orderId, { ...order, quantity: 3 }, options)).rejects.toBeInstanceOf(SagaStartConflictError);
    const effects = await effectsOf(order);
    for (const step of STEPS) expect({ step, applied: applied(effects[step]) }).toEqual({ step, applied: 1 });
  }, 120_000);

  it('ledger: every action and compensation applied at most once, every saga committed or fully compensated', async () => {
    const res = await ddb.send(new ScanCommand({ TableName: stack.outputs.OrdersTable, ConsistentRead: true }));
    const items = (res.Items ?? []).map((i) => unmarshall(i));
    const problems: string[] = [];
    let committed = 0;
    let compensatedSagas = 0;
    for (const order of started) {
      const saga = await describeSaga(order.orderId, { ...options, execution: false });
      const effects = Object.fromEntries(STEPS.map((s) => [s, items.find((i) => i.pk === EFFECT_KEY[s](order))])) as Record<
        Step,
        Record<string, unknown> | undefined
      >;
      for (const s of STEPS) {
        if (applied(effects[s]) > 1) problems.push(`${order.orderId} ${s}: applied ${applied(effects[s])} times`);
        if (compensated(effects[s]) > 1) problems.push(`${order.orderId} ${s}: compensated ${compensated(effects[s])} times`);
      }
      if (saga?.status === 'COMMITTED') {
        committed += 1;
        for (const s of STEPS)
          if (applied(effects[s]) !== 1 || compensated(effects[s]) !== 0)
            problems.push(`${order.orderId}: committed but ${s} is ${JSON.stringify(effects[s])}`);
      } else if (saga?.status === 'COMPENSATED') {
        compensatedSagas += 1;
        for (const s of STEPS)
          if (applied(effects[s]) !== compensated(effects[s]))
            problems.push(`${order.orderId}: compensated but ${s} is ${JSON.stringify(effects[s])}`);
        const inventory = items.find((i) => i.pk === `inventory#${order.sku}`);
        if (Number(inventory?.reserved ?? 0) !== 0)
          problems.push(`${order.orderId}: compensated but ${order.sku} still has ${inventory?.reserved} reserved`);
      } else {
        problems.push(`${order.orderId}: ended ${saga?.status ?? 'nowhere'}`);
      }
    }
    console.log(
      `saga ledger: ${started.length} sagas, ${committed} committed, ${compensatedSagas} compensated, problems ${problems.length}`,
    );
    expect(problems).toEqual([]);
    expect(started.length).toBe(committed + compensatedSagas);
  }, 120_000);

  describe('a saga with a parallel step and a forEach step (direct DynamoDB integrations)', () => {
    const tripOptions = (): SagaClientOptions => ({ ...options, config: stack.outputs.TripConfig });
    const keysOf = async (sagaId: string): Promise<string[]> => {
      const res = await ddb.send(new ScanCommand({ TableName: stack.outputs.OrdersTable, ConsistentRead: true }));
      return (res.Items ?? [])
        .map((i) => String(unmarshall(i).pk))
        .filter((pk) => pk.startsWith(`${sagaId}#`))
        .sort();
    };
    const trip = async (name: string, occupied: string[] = []) => {
      const sagaId = `${runId}-trip-${name}`;
      for (const k of occupied)
        await ddb.send(
          new UpdateItemCommand({
            TableName: stack.outputs.OrdersTable,
            Key: { pk: { S: `${sagaId}#${k}` } },
            UpdateExpression: 'SET taken = :t',
            ExpressionAttributeValues: { ':t': { BOOL: true } },
          }),
        );
      await startSaga(sagaId, { lines: ['a', 'b', 'c'] }, tripOptions());
      const executionArn = `${stack.outputs.TripStateMachineArn.replace(':stateMachine:', ':execution:')}:${sagaId}`;
      await waitFor('the trip saga to end', async () => {
        const d = await sfnClient.send(new DescribeExecutionCommand({ executionArn }));
        return d.status === 'RUNNING' ? undefined : d;
      });
      return { sagaId, saga: await describeSaga(sagaId, tripOptions()), states: await statesOf(executionArn) };
    };

    it("commits: every branch and every item written once, the branches' results merged", async () => {
      const { sagaId, saga } = await trip('ok');
      expect(saga).toMatchObject({ status: 'COMMITTED' });
      expect(Object.keys(saga!.results).sort()).toEqual(['car', 'flight', 'hotel', 'lines', 'trip']);
      expect(await keysOf(sagaId)).toEqual(['car', 'flight', 'hotel', 'line#a', 'line#b', 'line#c', 'trip'].map((k) => `${sagaId}#${k}`));
    }, 60_000);

    it('compensates every sub-step of the parallel step, then the step before, when a branch fails', async () => {
      const { sagaId, saga } = await trip('car', ['car']);
      expect(saga).toMatchObject({ status: 'COMPENSATED', failure: { step: 'book' } });
      // The failed car booking's compensation deleted the item that blocked it: a no-op for the saga, which never wrote it.
      expect(await keysOf(sagaId)).toEqual([]);
    }, 60_000);

    it('compensates every item of the forEach step, then the steps before, when an item fails', async () => {
      const { sagaId, saga, states } = await trip('line', ['line#b']);
      expect(saga).toMatchObject({ status: 'COMPENSATED', failure: { step: 'lines' } });
      expect(states.filter((s) => ['Undo lines', 'Undo book', 'Undo trip'].includes(s))).toEqual(['Undo lines', 'Undo book', 'Undo trip']);
      expect(states.filter((s) => s === 'Undo lines item')).toHaveLength(3); // every item's compensation
      expect(states.filter((s) => ['Undo flight', 'Undo hotel', 'Undo car'].includes(s)).sort()).toEqual([
        'Undo car',
        'Undo flight',
        'Undo hotel',
      ]);
      expect(await keysOf(sagaId)).toEqual([]);
    }, 60_000);
  });

  async function invokeApprover(decision: Record<string, unknown>): Promise<void> {
    const res = await lambdaClient.send(
      new InvokeCommand({ FunctionName: stack.outputs.ApproverFunction, Payload: Buffer.from(JSON.stringify(decision)) }),
    );
    if (res.FunctionError) throw new Error(`approver failed: ${Buffer.from(res.Payload ?? []).toString()}`);
  }
});
