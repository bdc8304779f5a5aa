import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { MessagingPatternsError, Saga, type SagaProps, type SagaStep, SagaTask } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';
import { type Definition, type State, allStates, sagaDefinitions, walk } from './asl';

/** The codes of the error `fn` throws. */
function codesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (MessagingPatternsError.isMessagingPatternsError(error)) return error.codes;
    throw error;
  }
  return [];
}

/** The sample order saga: reserve, an approval above an amount, charge, ship. */
function orderSteps(stack: Stack, fn: lambda.IFunction = inlineFunction(stack, 'Steps')): SagaStep[] {
  const approvals = new sqs.Queue(stack, 'Approvals', { enforceSSL: true });
  return [
    { name: 'reserve', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) },
    {
      name: 'approve',
      action: SagaTask.callbackQueue(approvals),
      timeout: Duration.hours(1),
      heartbeat: Duration.minutes(10),
      condition: sfn.Condition.numberGreaterThan('$.input.amountCents', 100_000),
    },
    { name: 'charge', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn), retry: { nonRetryableErrors: ['PaymentDeclined'] } },
    { name: 'ship', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) },
  ];
}

function orderSaga(props: Partial<SagaProps> = {}): { stack: Stack; saga: Saga; main: Definition; resume?: Definition } {
  const stack = newStack();
  const saga = new Saga(stack, 'Saga', { steps: orderSteps(stack), ...props });
  return { stack, saga, ...sagaDefinitions(stack) };
}

const tasksIn = (d: Definition): Array<[string, State]> => Object.entries(allStates(d)).filter(([, s]) => s.Type === 'Task');

describe('Saga', () => {
  describe('defaults', () => {
    it('creates a Standard state machine logging ALL events (no execution data) with X-Ray tracing, and a Standard resume machine', () => {
      const { stack, saga } = orderSaga();
      const t = template(stack);
      t.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
      t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [Match.anyValue()] },
      });
      expect(saga.stateMachineType).toBe(sfn.StateMachineType.STANDARD);
      expect(saga.resumeStateMachine).toBeDefined();
      t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('keeps the saga log in an on-demand table keyed by sagaId, with point-in-time recovery, retained', () => {
      const { stack } = orderSaga();
      const t = template(stack);
      t.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'sagaId', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
        DeletionPolicy: 'Retain',
      });
    });

    it('retries actions 3 times from 1 s, doubling, at most 30 s apart with full jitter, and compensations 20 times at most 60 s apart', () => {
      const { main } = orderSaga();
      expect(main.States.reserve.Retry).toEqual([
        { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' },
      ]);
      expect(main.States['Undo reserve'].Retry).toEqual([
        { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 20, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
      ]);
    });

    it('does not retry a callback, and does not retry the non-retryable errors of a step', () => {
      const { main } = orderSaga();
      expect(main.States.approve.Retry).toBeUndefined();
      expect(main.States.approve).toMatchObject({ TimeoutSeconds: 3600, HeartbeatSeconds: 600 });
      expect(main.States.charge.Retry[0]).toEqual({ ErrorEquals: ['PaymentDeclined'], MaxAttempts: 0 });
      expect(main.States.charge.Retry[1]).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 });
    });

    it('creates the four alarms, each on the first execution it counts', () => {
      const { stack, saga } = orderSaga();
      expect(saga.alarms.map((a) => a.node.id).sort()).toEqual([
        'CompensationFailed',
        'ExecutionsAborted',
        'ExecutionsTimedOut',
        'ResumeFailed',
      ]);
      const t = template(stack);
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        t.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/States', MetricName: metric, Statistic: 'Sum', Threshold: 1 });
      }
      expect(warnings(stack)).toEqual([]);
    });
  });

  describe('the generated definition', () => {
    it('gives every task the saga event with its idempotency token <sagaId>#<step>', () => {
      const { main } = orderSaga();
      expect(main.States.reserve.Parameters).toEqual({
        'sagaId.$': '$$.Execution.Name',
        step: 'reserve',
        phase: 'action',
        'idempotencyToken.$': "States.Format('{}#reserve', $$.Execution.Name)",
        'input.$': '$.input',
        results: {},
      });
      expect(main.States.charge.Parameters).toMatchObject({ 'results.$': '$.saga.results', phase: 'action' });
      expect(main.States['Undo charge'].Parameters).toMatchObject({
        phase: 'compensation',
        'idempotencyToken.$': "States.Format('{}#charge', $$.Execution.Name)",
      });
      expect(main.States.charge.ResultPath).toBe('$.saga.results.charge');
      expect(main.States['Undo charge'].ResultPath).toBe('$.saga.compensations.charge');
    });

    it('puts a retry and a Catch of every error (States.ALL) on every task', () => {
      const { main, resume } = orderSaga();
      for (const d of [main, resume!]) {
        for (const [name, s] of tasksIn(d)) {
          if (name !== 'approve') expect({ name, retry: s.Retry?.at(-1)?.ErrorEquals }).toEqual({ name, retry: ['States.ALL'] });
          expect({ name, catch: s.Catch?.map((c: State) => c.ErrorEquals) }).toEqual({
            name,
            catch: name === 'Committed' || name === 'Compensated' ? undefined : [['States.ALL']],
          });
        }
      }
      // Actions catch into the chain, compensations into their CompensationFailed row.
      expect(main.States.ship.Catch[0]).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.saga.failures.ship', Next: 'Undo ship' });
      expect(main.States['Undo charge'].Catch[0]).toEqual({
        ErrorEquals: ['States.ALL'],
        ResultPath: '$.saga.compensationFailure',
        Next: 'CompensationFailed at charge',
      });
    });

    it('runs the steps in order and writes the COMMITTED row as the final state', () => {
      const { main } = orderSaga();
      expect(walk(main)).toEqual(['reserve', 'If approve', 'charge', 'ship', 'Committed']);
      expect(walk(main, undefined, ['If approve'])).toEqual(['reserve', 'If approve', 'approve', 'charge', 'ship', 'Committed']);
      expect(main.States.Committed).toMatchObject({
        Type: 'Task',
        Resource: 'arn:<AWS::Partition>:states:::dynamodb:updateItem',
        End: true,
        ResultSelector: { status: 'COMMITTED' },
        ResultPath: '$.outcome',
      });
      expect(main.States.Committed.Parameters.ExpressionAttributeValues[':status']).toEqual({ S: 'COMMITTED' });
      expect(main.States.Committed.Parameters.ExpressionAttributeValues[':saga']).toEqual({ 'S.$': 'States.JsonToString($.saga)' });
    });

    it.each([
      ['reserve', ['reserve', 'Undo reserve (first)', 'Compensated']],
      ['approve', ['reserve', 'If approve', 'approve', 'Undo reserve', 'Compensated']],
      ['charge', ['reserve', 'If approve', 'charge', 'Undo charge', 'Undo reserve', 'Compensated']],
      ['ship', ['reserve', 'If approve', 'charge', 'ship', 'Undo ship', 'Undo charge', 'Undo reserve', 'Compensated']],
    ])('a failure at %s compensates it and the steps before it, in reverse order', (step, expected) => {
      const { main } = orderSaga();
      expect(walk(main, step, step === 'approve' ? ['If approve'] : [])).toEqual(expected);
    });

    it('with compensateFailedStep false, a failure at a step compensates only the steps before it', () => {
      const { main } = orderSaga({ compensateFailedStep: false });
      expect(walk(main, 'reserve')).toEqual(['reserve', 'Compensated']);
      expect(walk(main, 'ship')).toEqual(['reserve', 'If approve', 'charge', 'ship', 'Undo charge', 'Undo reserve', 'Compensated']);
      expect(main.States['Undo reserve (first)']).toBeUndefined();
    });

    it('gives the first step its own compensation entry: no results exist when it fails', () => {
      const { main } = orderSaga();
      expect(main.States['Undo reserve (first)'].Parameters).toMatchObject({ results: {} });
      expect(main.States['Undo reserve'].Parameters).toMatchObject({ 'results.$': '$.saga.results' });
    });

    it('ends an exhausted compensation in a COMPENSATION_FAILED row with the steps still to undo, then Fail Saga.CompensationFailed', () => {
      const { main } = orderSaga();
      expect(walk(main, ['ship', 'Undo charge'])).toEqual([
        'reserve',
        'If approve',
        'charge',
        'ship',
        'Undo ship',
        'Undo charge',
        'CompensationFailed at charge',
        'CompensationFailed',
      ]);
      const row = main.States['CompensationFailed at charge'];
      expect(row.Parameters.ExpressionAttributeValues).toMatchObject({
        ':status': { S: 'COMPENSATION_FAILED' },
        ':failedCompensation': { S: 'charge' },
        ':stillToUndo': { L: [{ S: 'charge' }, { S: 'reserve' }] },
        ':input': { 'S.$': 'States.JsonToString($.input)' },
      });
      expect(row.Next).toBe('CompensationFailed');
      expect(row.Catch[0].Next).toBe('CompensationFailed');
      expect(main.States.CompensationFailed).toMatchObject({ Type: 'Fail', Error: 'Saga.CompensationFailed' });
    });

    it('adds no bookkeeping state: the main machine holds the actions, one choice, the compensations and the outcome rows', () => {
      const { main } = orderSaga();
      expect(Object.keys(main.States).sort()).toEqual(
        [
          'reserve',
          'If approve',
          'approve',
          'charge',
          'ship',
          'Undo reserve (first)',
          'Undo reserve',
          'Undo charge',
          'Undo ship',
          'CompensationFailed at reserve',
          'CompensationFailed at charge',
          'CompensationFailed at ship',
          'CompensationFailed',
          'Committed',
          'Compensated',
        ].sort(),
      );
    });

    it('guards the compensation of a conditional step: it is undone only if its action ran', () => {
      const stack = newStack();
      const fn = inlineFunction(stack);
      new Saga(stack, 'Saga', {
        steps: [
          { name: 'a', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) },
          { name: 'b', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn), condition: sfn.Condition.isPresent('$.input.b') },
          { name: 'c', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) },
        ],
      });
      const { main } = sagaDefinitions(stack);
      expect(main.States['Undo b?']).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.saga.results.b', IsPresent: true, Next: 'Undo b' }],
        Default: 'Undo a',
      });
      expect(main.States['Undo c'].Next).toBe('Undo b?');
      // b's own failure goes straight to its compensation: it ran.
      expect(main.States.b.Catch[0].Next).toBe('Undo b');
    });

    it('resumes in a second machine, entered at the compensation that failed, keyed by $.sagaId', () => {
      const { resume } = orderSaga();
      expect(resume!.StartAt).toBe('Resume');
      expect(resume!.States.Resume.Choices).toEqual([
        { Variable: '$.resumeFrom', StringEquals: 'reserve', Next: 'Undo reserve' },
        { Variable: '$.resumeFrom', StringEquals: 'charge', Next: 'Undo charge' },
        { Variable: '$.resumeFrom', StringEquals: 'ship', Next: 'Undo ship' },
      ]);
      expect(walk(resume!, undefined, ['Resume'])).toEqual(['Resume', 'Undo reserve', 'Compensated']);
      expect(resume!.States['Undo charge'].Parameters).toMatchObject({
        'sagaId.$': '$.sagaId',
        'idempotencyToken.$': "States.Format('{}#charge', $.sagaId)",
      });
      expect(resume!.States.Compensated.Parameters.Key).toEqual({ sagaId: { 'S.$': '$.sagaId' } });
      expect(resume!.States.Compensated.Parameters.UpdateExpression).toMatch(/REMOVE #failedCompensation, #stillToUndo, #input$/);
      expect(JSON.stringify(resume)).not.toContain('$$.Execution.Name');
    });

    it('runs parallel branches, merges their results, and compensates every sub-step of every branch on failure', () => {
      const stack = newStack();
      const fn = inlineFunction(stack);
      new Saga(stack, 'Saga', {
        steps: [
          { name: 'order', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) },
          {
            name: 'book',
            branches: [
              { steps: [{ name: 'flight', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) }] },
              {
                steps: [
                  { name: 'hotel', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) },
                  { name: 'car', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) },
                ],
              },
            ],
          },
        ],
      });
      const { main } = sagaDefinitions(stack);
      expect(main.States.book).toMatchObject({
        Type: 'Parallel',
        ResultSelector: { 'results.$': 'States.JsonMerge($[0].saga.results, $[1].saga.results, false)' },
        ResultPath: '$.saga',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.saga.failures.book', Next: 'Undo book' }],
      });
      expect(main.States.book.Branches[1].States.hotel.Next).toBe('car');
      expect(main.States.book.Branches[1].States.car.Retry).toHaveLength(1);
      const undo = main.States['Undo book'];
      expect(undo.Type).toBe('Parallel');
      expect(undo.Branches.map((b: Definition) => b.StartAt)).toEqual(['Undo flight', 'Undo hotel'.replace('hotel', 'car')]);
      expect(undo.Branches[1].States['Undo car'].Next).toBe('Undo hotel');
      expect(undo.Next).toBe('Undo order');
      expect(walk(main, 'book')).toEqual(['order', 'book', 'Undo book', 'Undo order', 'Compensated']);
    });

    it('runs a forEach step as an inline Map with a token per item, and compensates every item', () => {
      const stack = newStack();
      const fn = inlineFunction(stack);
      new Saga(stack, 'Saga', {
        steps: [
          { name: 'order', action: SagaTask.invoke(fn) },
          {
            name: 'lines',
            action: SagaTask.invoke(fn),
            compensation: SagaTask.invoke(fn),
            forEach: { itemsPath: '$.input.lines', maxConcurrency: 5 },
          },
        ],
      });
      const { main } = sagaDefinitions(stack);
      const map = main.States.lines;
      expect(map).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.input.lines',
        MaxConcurrency: 5,
        ItemSelector: {
          'sagaId.$': '$$.Execution.Name',
          'index.$': '$$.Map.Item.Index',
          'item.$': '$$.Map.Item.Value',
          'input.$': '$.input',
        },
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'lines item' },
        ResultPath: '$.saga.results.lines',
      });
      expect(map.ItemProcessor.States['lines item'].Parameters['idempotencyToken.$']).toBe(
        "States.Format('{}#lines#{}', $.sagaId, $.index)",
      );
      expect(main.States['Undo lines']).toMatchObject({ Type: 'Map', ItemsPath: '$.input.lines', Next: 'Compensated' });
      expect(walk(main, 'lines')).toEqual(['order', 'lines', 'Undo lines', 'Compensated']);
    });

    it('runs a forEach step with a tolerated failure share as a Distributed Map that compensates a failed item in its iteration', () => {
      const stack = newStack();
      const fn = inlineFunction(stack);
      const saga = new Saga(stack, 'Saga', {
        steps: [
          {
            name: 'lines',
            action: SagaTask.invoke(fn),
            compensation: SagaTask.invoke(fn),
            forEach: { itemsPath: '$.input.lines', toleratedFailurePercentage: 10 },
          },
        ],
      });
      const { main } = sagaDefinitions(stack);
      expect(main.States.lines).toMatchObject({
        ToleratedFailurePercentage: 10,
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' } },
      });
      const item = main.States.lines.ItemProcessor.States;
      expect(item['lines item'].Catch[0].Next).toBe('lines item undo');
      expect(item['lines item undo'].Next).toBe('lines item failed');
      expect(item['lines item failed']).toMatchObject({ Type: 'Fail', Error: 'Saga.ItemFailed' });
      // The machine starts its own child executions: a physical name, and the grant on it.
      template(stack).hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: Match.stringLikeRegexp('Saga') });
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'states:StartExecution' })]) },
      });
      expect(saga.stateMachine).toBeDefined();
    });
  });

  describe('tasks', () => {
    it('renders SQS, SNS, EventBridge and DynamoDB integrations, with the token as the message idempotency key', () => {
      const stack = newStack();
      const queue = new sqs.Queue(stack, 'Q', { fifo: true });
      const topic = new sns.Topic(stack, 'T');
      const bus = new events.EventBus(stack, 'B');
      const table = new dynamodb.Table(stack, 'D', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
      new Saga(stack, 'Saga', {
        steps: [
          {
            name: 'queue',
            action: SagaTask.sendMessage(queue, { messageGroupId: 'orders' }),
            compensation: SagaTask.sendMessage(queue, { messageGroupId: 'orders' }),
          },
          { name: 'topic', action: SagaTask.publish(topic) },
          { name: 'bus', action: SagaTask.putEvent(bus, { source: 'shop.orders', detailType: 'OrderPlaced' }) },
          {
            name: 'write',
            action: SagaTask.putItem(table, {
              item: {
                pk: tasks.DynamoAttributeValue.fromString(SagaTask.idempotencyToken('write')),
                order: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.input.orderId')),
              },
              conditionExpression: 'attribute_not_exists(pk)',
            }),
            compensation: SagaTask.deleteItem(table, {
              key: { pk: tasks.DynamoAttributeValue.fromString(SagaTask.idempotencyToken('write')) },
            }),
          },
          {
            name: 'count',
            action: SagaTask.updateItem(table, {
              key: { pk: tasks.DynamoAttributeValue.fromString('counter') },
              updateExpression: 'ADD n :one',
              expressionAttributeValues: { ':one': tasks.DynamoAttributeValue.fromNumber(1) },
            }),
          },
        ],
      });
      const { main, resume } = sagaDefinitions(stack);
      expect(main.States.queue).toMatchObject({
        Resource: 'arn:<AWS::Partition>:states:::sqs:sendMessage',
        Parameters: {
          QueueUrl: '<QB6B2EC8F>'.replace('QB6B2EC8F', main.States.queue.Parameters.QueueUrl.slice(1, -1)),
          MessageBody: { step: 'queue', phase: 'action' },
          MessageAttributes: { idempotencyKey: { DataType: 'String', 'StringValue.$': "States.Format('{}#queue', $$.Execution.Name)" } },
          MessageGroupId: 'orders',
          'MessageDeduplicationId.$': "States.Format('{}#queue', $$.Execution.Name)",
        },
        ResultSelector: { 'messageId.$': '$.MessageId' },
      });
      expect(main.States['Undo queue'].Parameters.MessageAttributes.idempotencyKey['StringValue.$']).toBe(
        "States.Format('{}#queue#compensation', $$.Execution.Name)",
      );
      expect(main.States.topic).toMatchObject({
        Resource: 'arn:<AWS::Partition>:states:::sns:publish',
        Parameters: { Message: { step: 'topic' } },
      });
      expect(main.States.bus.Parameters.Entries[0]).toMatchObject({
        Source: 'shop.orders',
        DetailType: 'OrderPlaced',
        Detail: { step: 'bus' },
      });
      expect(main.States.write).toMatchObject({
        Resource: 'arn:<AWS::Partition>:states:::dynamodb:putItem',
        Parameters: {
          Item: { pk: { 'S.$': "States.Format('{}#write', $$.Execution.Name)" }, order: { 'S.$': '$.input.orderId' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        ResultSelector: { written: true },
      });
      expect(main.States.count.Parameters).toMatchObject({
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      });
      // In the resume machine the user's paths read the saga id from the input.
      expect(resume!.States['Undo write'].Parameters.Key.pk).toEqual({ 'S.$': "States.Format('{}#write', $.sagaId)" });
      const t = template(stack);
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'sqs:SendMessage' }),
            Match.objectLike({ Action: 'sns:Publish' }),
            Match.objectLike({ Action: 'events:PutEvents' }),
            Match.objectLike({ Action: 'dynamodb:PutItem' }),
            Match.objectLike({ Action: 'dynamodb:DeleteItem' }),
            Match.objectLike({ Action: 'dynamodb:UpdateItem' }),
          ]),
        },
      });
    });

    it('invokes Lambda actions with lambda:InvokeFunction on the function alone, and callbacks through lambda:invoke.waitForTaskToken', () => {
      const stack = newStack();
      const fn = inlineFunction(stack);
      new Saga(stack, 'Saga', {
        steps: [
          { name: 'a', action: SagaTask.invoke(fn) },
          { name: 'b', action: SagaTask.callbackFunction(fn), timeout: Duration.minutes(5), heartbeat: Duration.minutes(1) },
        ],
      });
      const { main } = sagaDefinitions(stack);
      expect(main.States.b).toMatchObject({
        Resource: 'arn:<AWS::Partition>:states:::lambda:invoke.waitForTaskToken',
        Parameters: { Payload: { 'taskToken.$': '$$.Task.Token', step: 'b' } },
        TimeoutSeconds: 300,
        HeartbeatSeconds: 60,
      });
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('Consumer'), 'Arn'] } }),
          ]),
        },
      });
    });
  });

  describe('grants and wiring', () => {
    it('grantStart: starting and describing executions, and writing the start row', () => {
      const stack = newStack();
      const saga = new Saga(stack, 'Saga', { steps: orderSteps(stack) });
      const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
      const grant = saga.grantStart(role);
      expect(grant.success).toBe(true);
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('Producer') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'states:StartExecution' }),
            Match.objectLike({ Action: 'states:DescribeExecution' }),
            Match.objectLike({ Action: ['dynamodb:PutItem', 'dynamodb:GetItem'] }),
          ]),
        },
      });
    });

    it('connectProducer sets SAGA_CONFIG and grants start and read; connectConsumer grants the task responses', () => {
      const stack = newStack();
      const saga = new Saga(stack, 'Saga', { steps: orderSteps(stack) });
      const producer = inlineFunction(stack, 'Producer');
      const approver = inlineFunction(stack, 'Approver');
      saga.connectProducer(producer);
      saga.connectConsumer(approver, { environmentVariable: 'ORDER_SAGA' });
      const t = template(stack);
      t.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { SAGA_CONFIG: Match.objectLike({ 'Fn::Join': Match.anyValue() }) } },
      });
      t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { ORDER_SAGA: Match.anyValue() } } });
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'] }),
          ]),
        },
      });
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Action: ['states:DescribeExecution', 'states:GetExecutionHistory'] })]),
        },
      });
    });

    it('grantResume: the resume machine and the log row; dropped when nothing can be resumed', () => {
      const stack = newStack();
      const saga = new Saga(stack, 'Saga', { steps: orderSteps(stack) });
      const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      expect(saga.grantResume(role).success).toBe(true);
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('Operator') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'states:StartExecution', Resource: { Ref: Match.stringLikeRegexp('SagaResume') } }),
            Match.objectLike({ Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] }),
          ]),
        },
      });
      const other = newStack();
      const noUndo = new Saga(other, 'Saga', { steps: [{ name: 'a', action: SagaTask.invoke(inlineFunction(other)) }] });
      expect(noUndo.resumeStateMachine).toBeUndefined();
      expect(noUndo.grantResume(new iam.Role(other, 'R', { assumedBy: new iam.AccountRootPrincipal() })).success).toBe(false);
    });

    it('encrypts the saga log with a customer managed key when given one, and grants it', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key');
      new Saga(stack, 'Saga', { steps: orderSteps(stack), logTableEncryptionKey: key, logTableRemovalPolicy: RemovalPolicy.DESTROY });
      template(stack).hasResource('AWS::DynamoDB::Table', {
        Properties: { SSESpecification: { SSEEnabled: true, SSEType: 'KMS' } },
        DeletionPolicy: 'Delete',
      });
    });

    it('exposes the execution metrics', () => {
      const { saga } = orderSaga();
      expect(saga.metricExecutionsFailed().metricName).toBe('ExecutionsFailed');
      expect(saga.metricExecutionsSucceeded().metricName).toBe('ExecutionsSucceeded');
      expect(saga.metricExecutionsStarted().metricName).toBe('ExecutionsStarted');
      expect(saga.metricExecutionsTimedOut().metricName).toBe('ExecutionsTimedOut');
      expect(saga.metricExecutionsAborted().metricName).toBe('ExecutionsAborted');
      expect(saga.metricExecutionTime().statistic).toBe('Average');
      expect(saga.dashboardMetrics.map((m) => (m as { metricName?: string }).metricName)).toEqual([
        'ExecutionsStarted',
        'ExecutionsSucceeded',
        'ExecutionsFailed',
      ]);
    });

    it('changes and turns off alarms by id', () => {
      const { saga } = orderSaga({
        alarms: { overrides: { ExecutionsAborted: { enabled: false }, CompensationFailed: { threshold: 3 } } },
      });
      expect(saga.alarms.map((a) => a.node.id).sort()).toEqual(['CompensationFailed', 'ExecutionsTimedOut', 'ResumeFailed']);
    });
  });

  describe('Express', () => {
    it('creates an Express machine with shorter compensation retries; the resume machine stays Standard', () => {
      const { stack, main } = orderSagaExpress();
      template(stack).hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'EXPRESS' });
      template(stack).hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
      expect(main.States['Undo a'].Retry[0].MaxAttempts).toBe(8);
      expect(warnings(stack)).toEqual([]);
    });

    it('warns when compensation retries outlast an Express execution', () => {
      const { stack } = orderSagaExpress({ compensationRetry: { maxAttempts: 20 } });
      expect(warnings(stack).join('\n')).toMatch(/sagaExpressRetries/);
    });

    function orderSagaExpress(props: Partial<SagaProps> = {}) {
      const stack = newStack();
      const fn = inlineFunction(stack);
      new Saga(stack, 'Saga', {
        stateMachineType: sfn.StateMachineType.EXPRESS,
        steps: [{ name: 'a', action: SagaTask.invoke(fn), compensation: SagaTask.invoke(fn) }],
        ...props,
      });
      return { stack, ...sagaDefinitions(stack) };
    }
  });

  describe('validation', () => {
    const fn = (stack: Stack) => inlineFunction(stack);
    const build =
      (steps: (stack: Stack) => SagaStep[], props: Partial<SagaProps> = {}) =>
      () => {
        const stack = newStack();
        new Saga(stack, 'Saga', { steps: steps(stack), ...props });
      };

    it('fails if there is no step', () => {
      expect(codesOf(build(() => []))).toEqual(['steps:required']);
    });

    it('fails if step names are malformed, repeated or reserved', () => {
      expect(
        codesOf(
          build((s) => [
            { name: 'bad name', action: SagaTask.invoke(fn(s)) },
            { name: 'Committed', action: SagaTask.invoke(s.node.tryFindChild('Consumer') as lambda.IFunction) },
            { name: 'a', action: SagaTask.invoke(s.node.tryFindChild('Consumer') as lambda.IFunction) },
            { name: 'a', action: SagaTask.invoke(s.node.tryFindChild('Consumer') as lambda.IFunction) },
          ]),
        ),
      ).toEqual(['steps.name:format', 'steps.name:conflict', 'steps.name:conflict']);
    });

    it('fails if a callback has no timeout or no heartbeat, or a heartbeat not shorter than the timeout', () => {
      const q = (s: Stack) => new sqs.Queue(s, 'Q');
      expect(codesOf(build((s) => [{ name: 'a', action: SagaTask.callbackQueue(q(s)) }]))).toEqual([
        'steps.a.timeout:required',
        'steps.a.heartbeat:required',
      ]);
      expect(
        codesOf(
          build((s) => [{ name: 'a', action: SagaTask.callbackQueue(q(s)), timeout: Duration.minutes(1), heartbeat: Duration.minutes(1) }]),
        ),
      ).toEqual(['steps.a.heartbeat:range']);
    });

    it('fails if an Express saga has a callback or a tolerated failure share', () => {
      expect(
        codesOf(
          build(
            (s) => [
              {
                name: 'a',
                action: SagaTask.callbackQueue(new sqs.Queue(s, 'Q')),
                timeout: Duration.minutes(2),
                heartbeat: Duration.minutes(1),
              },
              { name: 'b', action: SagaTask.invoke(fn(s)), forEach: { itemsPath: '$.input.items', toleratedFailurePercentage: 5 } },
            ],
            { stateMachineType: sfn.StateMachineType.EXPRESS },
          ),
        ),
      ).toEqual(['steps.a.action:unsupported', 'steps.b.forEach.toleratedFailurePercentage:unsupported']);
    });

    it('fails if a tolerated failure share is outside 0-100, or items come from elsewhere than the input or a result', () => {
      expect(
        codesOf(
          build((s) => [{ name: 'a', action: SagaTask.invoke(fn(s)), forEach: { itemsPath: '$.items', toleratedFailurePercentage: 101 } }]),
        ),
      ).toEqual(['steps.a.forEach.itemsPath:format', 'steps.a.forEach.toleratedFailurePercentage:range']);
    });

    it('fails if a step has no action, both an action and branches, or branches that nest', () => {
      expect(codesOf(build(() => [{ name: 'a' }]))).toEqual(['steps.a.action:required']);
      expect(
        codesOf(
          build((s) => [
            { name: 'a', action: SagaTask.invoke(fn(s)) },
            {
              name: 'b',
              action: SagaTask.invoke(s.node.tryFindChild('Consumer') as lambda.IFunction),
              branches: [
                {
                  steps: [
                    {
                      name: 'c',
                      branches: [{ steps: [{ name: 'd', action: SagaTask.invoke(s.node.tryFindChild('Consumer') as lambda.IFunction) }] }],
                    },
                  ],
                },
              ],
            },
          ]),
        ),
      ).toEqual(['steps.b.action|branches:exclusive', 'steps.c.branches:unsupported']);
    });

    it('fails if the first step has a condition, or a compensation is a callback', () => {
      expect(
        codesOf(
          build((s) => [
            {
              name: 'a',
              action: SagaTask.invoke(fn(s)),
              compensation: SagaTask.callbackFunction(s.node.tryFindChild('Consumer') as lambda.IFunction),
              condition: sfn.Condition.isPresent('$.input.x'),
            },
          ]),
        ),
      ).toEqual(['steps.a.condition:unsupported', 'steps.a.compensation:unsupported']);
    });

    it('fails on retries out of range, by problem code', () => {
      expect(
        codesOf(
          build(
            (s) => [
              { name: 'a', action: SagaTask.invoke(fn(s)), retry: { maxAttempts: -1, interval: Duration.millis(500), backoffRate: 0.5 } },
            ],
            {
              compensationRetry: { nonRetryableErrors: ['States.ALL'] },
            },
          ),
        ),
      ).toEqual([
        'compensationRetry.nonRetryableErrors:format',
        'steps.a.retry.maxAttempts:range',
        'steps.a.retry.interval:range',
        'steps.a.retry.backoffRate:range',
      ]);
    });

    it('fails if a FIFO queue task has no messageGroupId, or the state machine name is malformed', () => {
      expect(
        codesOf(
          build((s) => [{ name: 'a', action: SagaTask.sendMessage(new sqs.Queue(s, 'Q', { fifo: true })) }], {
            stateMachineName: 'has space',
          }),
        ),
      ).toEqual(['stateMachineName:format', 'steps.a.messageGroupId:required']);
    });

    it('fails if an alarm override names an alarm the saga does not create', () => {
      expect(
        codesOf(build((s) => [{ name: 'a', action: SagaTask.invoke(fn(s)) }], { alarms: { overrides: { Nope: { threshold: 1 } } } })),
      ).toEqual(['alarms.overrides:unknown']);
    });
  });

  describe('cdk-nag', () => {
    it('passes AwsSolutions and Serverless with the defaults', () => {
      const findings = nagErrors((app) => {
        const stack = new Stack(app, 'Nag');
        const fn = new lambda.Function(stack, 'Steps', {
          runtime: lambda.Runtime.NODEJS_22_X,
          handler: 'index.handler',
          code: lambda.Code.fromInline('exports.handler = async () => ({});'),
        });
        const saga = new Saga(stack, 'Saga', { steps: orderSteps(stack, fn) });
        saga.connectProducer(
          new lambda.Function(stack, 'Producer', {
            runtime: lambda.Runtime.NODEJS_22_X,
            handler: 'index.handler',
            code: lambda.Code.fromInline('x'),
          }),
        );
      });
      expect(findings.filter((f) => f.path.includes('/Saga/'))).toEqual([]);
    });
  });
});
