/**
 * Saga bench: state transitions per saga run, the state machine `Saga` generates against a
 * hand-written reference state machine for the same saga, both run by the emulator's Step Functions
 * in the same run. The saga is the sample order saga (reserve inventory -> manual approval above an
 * amount -> charge payment -> arrange shipping, each with a compensation) with DynamoDB direct
 * integrations as its steps, so the count depends on the definitions alone (no function to deploy).
 *
 * Variants: success; a failure at the last step (shipping, by a failed condition).
 * References: the cdk-patterns style (a step's Catch enters its own compensation, then the chain,
 * then Fail), compared with the kit's default; and the "previous step" style (the Catch enters the
 * compensation of the step before), compared with `compensateFailedStep: false`.
 *
 * Transitions are the states entered (`*StateEntered` history events), what Step Functions bills for
 * a Standard workflow. The kit's machine also writes the saga-log row in its final state, where the
 * reference has a Succeed or Fail.
 *
 * BENCH_SAGAS runs per variant (default 5). The construct is loaded from the source with ts-node (the
 * bench bundle does not contain aws-cdk-lib).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type * as Lib from '../../lib';

const ROLE = 'arn:aws:iam::000000000000:role/bench-saga';
const APPROVAL_ABOVE = 100_000;

/** One row of the figures. */
export interface SagaBenchRow {
  readonly variant: string;
  readonly reference: string;
  readonly ours: number;
  readonly theirs: number;
}

interface Definition {
  readonly StartAt: string;
  readonly States: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Evaluates the template's `Fn::Join` of a definition, with references looked up in `refs`. */
function resolve(value: unknown, refs: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref !== undefined) {
    const ref = String(v.Ref);
    if (ref === 'AWS::Partition') return 'aws';
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (ref === 'AWS::Region') return 'us-east-1';
    if (ref === 'AWS::AccountId') return '000000000000';
    const hit = Object.entries(refs).find(([prefix]) => ref.startsWith(prefix));
    if (!hit) throw new Error(`bench: unresolved reference ${ref}`);
    return hit[1];
  }
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolve(p, refs)).join(sep);
  }
  throw new Error(`bench: cannot resolve ${JSON.stringify(value)}`);
}

/** The kit's order saga, synthesized from the source, for the given tables. */
function kitDefinitions(effectsTable: string, logTable: string, compensateFailedStep: boolean): Definition {
  const load = createRequire(join(process.cwd(), 'package.json'));
  (load('ts-node') as { register: (o: object) => void }).register({ transpileOnly: true, project: join(process.cwd(), 'tsconfig.json') });
  const cdk = load('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const dynamodb = load('aws-cdk-lib/aws-dynamodb') as typeof import('aws-cdk-lib/aws-dynamodb');
  const sqs = load('aws-cdk-lib/aws-sqs') as typeof import('aws-cdk-lib/aws-sqs');
  const sfn = load('aws-cdk-lib/aws-stepfunctions') as typeof import('aws-cdk-lib/aws-stepfunctions');
  const tasks = load('aws-cdk-lib/aws-stepfunctions-tasks') as typeof import('aws-cdk-lib/aws-stepfunctions-tasks');
  const { Saga, SagaTask } = load('./lib/saga/index.ts') as typeof Lib;

  const app = new cdk.App();
  const stack = new cdk.Stack(app, 'BenchSaga', { env: { account: '000000000000', region: 'us-east-1' } });
  const table = dynamodb.Table.fromTableName(stack, 'Effects', effectsTable);
  const approvals = sqs.Queue.fromQueueArn(stack, 'Approvals', 'arn:aws:sqs:us-east-1:000000000000:bench-saga-approvals');
  const key = (step: string) => ({ pk: tasks.DynamoAttributeValue.fromString(SagaTask.idempotencyToken(step)) });
  const put = (step: string, conditionExpression?: string) => SagaTask.putItem(table, { item: key(step), conditionExpression });
  const del = (step: string) => SagaTask.deleteItem(table, { key: key(step) });
  const none = { maxAttempts: 0 };
  new Saga(stack, 'Saga', {
    steps: [
      { name: 'reserve', action: put('reserve'), compensation: del('reserve') },
      {
        name: 'approve',
        action: SagaTask.callbackQueue(approvals),
        timeout: cdk.Duration.hours(1),
        heartbeat: cdk.Duration.minutes(10),
        condition: sfn.Condition.numberGreaterThan('$.input.amountCents', APPROVAL_ABOVE),
      },
      { name: 'charge', action: put('charge'), compensation: del('charge') },
      { name: 'ship', action: put('ship', 'attribute_not_exists(pk)'), compensation: del('ship') },
    ],
    retry: none,
    compensationRetry: none,
    compensateFailedStep,
  });
  const template = app.synth().getStackByName('BenchSaga').template as {
    Resources: Record<string, { Type: string; Properties: { DefinitionString: unknown } }>;
  };
  const [, machine] = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && !id.startsWith('SagaResume'),
  )!;
  return JSON.parse(resolve(machine.Properties.DefinitionString, { SagaLog: logTable })) as Definition;
}

/**
 * The hand-written reference: the same tasks, a Catch on each step into the compensations (its own
 * first, cdk-patterns style, or the previous step's), Succeed and Fail at the ends.
 */
function referenceDefinition(effectsTable: string, ownCompensation: boolean): Definition {
  const token = (step: string) => ({ 'S.$': `States.Format('{}#${step}', $$.Execution.Name)` });
  const put = (step: string, next: string, undo: string, condition?: string) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:putItem',
    Parameters: { TableName: effectsTable, Item: { pk: token(step) }, ...(condition ? { ConditionExpression: condition } : {}) },
    ResultPath: `$.results.${step}`,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: undo }],
    Next: next,
  });
  const del = (step: string, next: string) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:deleteItem',
    Parameters: { TableName: effectsTable, Key: { pk: token(step) } },
    ResultPath: null,
    Next: next,
  });
  return {
    StartAt: 'Reserve',
    States: {
      Reserve: put('reserve', 'NeedsApproval', ownCompensation ? 'CancelReservation' : 'Failed'),
      NeedsApproval: {
        Type: 'Choice',
        Choices: [{ Variable: '$.input.amountCents', NumericGreaterThan: APPROVAL_ABOVE, Next: 'Approve' }],
        Default: 'Charge',
      },
      Approve: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        Parameters: {
          QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench-saga-approvals',
          MessageBody: { 'taskToken.$': '$$.Task.Token' },
        },
        TimeoutSeconds: 3600,
        HeartbeatSeconds: 600,
        ResultPath: '$.results.approve',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'CancelReservation' }],
        Next: 'Charge',
      },
      Charge: put('charge', 'Ship', ownCompensation ? 'Refund' : 'CancelReservation'),
      Ship: put('ship', 'Succeeded', ownCompensation ? 'CancelShipment' : 'Refund', 'attribute_not_exists(pk)'),
      CancelShipment: del('ship', 'Refund'),
      Refund: del('charge', 'CancelReservation'),
      CancelReservation: del('reserve', 'Failed'),
      Succeeded: { Type: 'Succeed' },
      Failed: { Type: 'Fail', Error: 'SagaFailed', Cause: 'the saga was compensated' },
    },
  };
}

async function transitions(sfn: SFNClient, executionArn: string, expected: string): Promise<number> {
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status === expected) break;
    if (d.status !== 'RUNNING') throw new Error(`bench: ${executionArn} ended ${d.status} (${d.error}: ${d.cause}), expected ${expected}`);
    await sleep(100);
  }
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events.filter((e) => e.type?.endsWith('StateEntered')).length;
}

/** Runs `runs` sagas on a machine, failing at shipping when asked; the median transitions per saga. */
async function measure(
  sfn: SFNClient,
  ddb: DynamoDBClient,
  arn: string,
  effects: string,
  label: string,
  failAtShip: boolean,
  runs: number,
): Promise<number> {
  const counts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const name = `${label}-${failAtShip ? 'fail' : 'ok'}-${Date.now().toString(36)}-${i}`;
    if (failAtShip) await ddb.send(new PutItemCommand({ TableName: effects, Item: { pk: { S: `${name}#ship` } } }));
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify({ input: { orderId: name, amountCents: 4_200 } }) }),
    );
    // The kit's machine ends SUCCEEDED when it compensated (the COMPENSATED row); the reference ends in Fail.
    counts.push(await transitions(sfn, executionArn!, failAtShip && label.startsWith('ref') ? 'FAILED' : 'SUCCEEDED'));
  }
  counts.sort((a, b) => a - b);
  return counts[Math.floor(counts.length / 2)];
}

export async function benchSaga(): Promise<SagaBenchRow[]> {
  const runs = Number(process.env.BENCH_SAGAS ?? '5');
  const sfn = new SFNClient({});
  const ddb = new DynamoDBClient({});
  const suffix = Date.now().toString(36);
  const effects = `bench-saga-effects-${suffix}`;
  const log = `bench-saga-log-${suffix}`;
  const created: string[] = [];
  const rows: SagaBenchRow[] = [];
  await ddb.send(
    new CreateTableCommand({
      TableName: effects,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: log,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'sagaId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'sagaId', KeyType: 'HASH' }],
    }),
  );
  const machine = async (name: string, definition: Definition) => {
    const res = await sfn.send(
      new CreateStateMachineCommand({ name: `bench-saga-${name}-${suffix}`, definition: JSON.stringify(definition), roleArn: ROLE }),
    );
    created.push(res.stateMachineArn!);
    return res.stateMachineArn!;
  };
  try {
    const pairs = [
      {
        reference: 'own compensation first (cdk-patterns)',
        ours: kitDefinitions(effects, log, true),
        theirs: referenceDefinition(effects, true),
      },
      {
        reference: 'previous step first (compensateFailedStep: false)',
        ours: kitDefinitions(effects, log, false),
        theirs: referenceDefinition(effects, false),
      },
    ];
    for (const [i, pair] of pairs.entries()) {
      const oursArn = await machine(`kit-${i}`, pair.ours);
      const theirsArn = await machine(`ref-${i}`, pair.theirs);
      for (const failAtShip of [false, true]) {
        rows.push({
          variant: failAtShip ? 'failure at the last step' : 'success',
          reference: pair.reference,
          ours: await measure(sfn, ddb, oursArn, effects, `kit${i}`, failAtShip, runs),
          theirs: await measure(sfn, ddb, theirsArn, effects, `ref${i}`, failAtShip, runs),
        });
      }
    }
  } finally {
    for (const arn of created) await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn })).catch(() => undefined);
    for (const t of [effects, log]) await ddb.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
  }
  console.log(`state transitions per saga run (median of ${runs}; ours writes the saga-log row in its final state)\n`);
  console.log(`| variant | reference | ours | reference | ratio |\n|---|---|---:|---:|---:|`);
  for (const r of rows) console.log(`| ${r.variant} | ${r.reference} | ${r.ours} | ${r.theirs} | ${(r.ours / r.theirs).toFixed(2)}x |`);
  return rows;
}
