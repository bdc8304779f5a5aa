import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IdempotencyTable, WorkQueue } from '../../../lib';
import { KitFunction } from '../../../lib/core/kit-function';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

describe('WorkQueue with an idempotency table', () => {
  it('grants the consumer the idempotency actions and sets IDEMPOTENCY_TABLE_NAME', () => {
    // Prepare
    const stack = newStack();
    const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
    // Act
    new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack, 'Consumer', Duration.seconds(10)), idempotencyTable });
    // Assess
    const t = template(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { IDEMPOTENCY_TABLE_NAME: { Ref: Match.stringLikeRegexp('^Idempotency') } } },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ConsumerServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['sqs:ReceiveMessage']) }),
          Match.objectLike({
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
            Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Idempotency'), 'Arn'] }],
          }),
        ]),
      },
    });
    expect(warnings(stack)).toEqual([]);
  });

  it('leaves the consumer untouched without one', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack) });
    const fn = Object.values(template(stack).findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.Environment).toBeUndefined();
    expect(JSON.stringify(template(stack).toJSON())).not.toMatch(/dynamodb:/);
  });

  it('grants the key of a customer-managed-key table too', () => {
    const stack = newStack();
    const idempotencyTable = new IdempotencyTable(stack, 'Idempotency', { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED });
    new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), idempotencyTable });
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ConsumerServiceRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt']) })]) },
    });
  });

  it('one table serves several work queues', () => {
    const stack = newStack();
    const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
    new WorkQueue(stack, 'A', { consumer: inlineFunction(stack, 'ConsumerA'), idempotencyTable });
    new WorkQueue(stack, 'B', { consumer: inlineFunction(stack, 'ConsumerB'), idempotencyTable, fifo: true });
    const fns = Object.values(template(stack).findResources('AWS::Lambda::Function'));
    expect(fns.map((f) => f.Properties.Environment.Variables.IDEMPOTENCY_TABLE_NAME)).toEqual([
      { Ref: expect.stringMatching(/^Idempotency/) },
      { Ref: expect.stringMatching(/^Idempotency/) },
    ]);
    template(stack).resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  it('warns when the consumer is imported (its environment cannot be set), and still grants its role', () => {
    const stack = newStack();
    const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const consumer = lambda.Function.fromFunctionAttributes(stack, 'Imported', {
      functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:f',
      role,
    });
    new WorkQueue(stack, 'Tasks', { consumer, consumerTimeout: Duration.seconds(10), idempotencyTable });
    expect(warnings(stack).join('\n')).toMatch(/could not set its environment: set IDEMPOTENCY_TABLE_NAME yourself/);
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Role') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['dynamodb:PutItem']) })]) },
    });
  });

  it('passes cdk-nag with the kit consumers of the idempotency example handlers', () => {
    const findings = nagErrors((app: App) => {
      const stack = new Stack(app, 'Gate');
      const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
      const payments = new KitFunction(stack, 'Payments', {
        handler: 'idempotency/payments',
        synchronousOnlyReason: 'Invoked only by the SQS event source mapping; failed messages go to the dead-letter queue.',
      });
      new WorkQueue(stack, 'Tasks', { consumer: payments, idempotencyTable });
    });
    expect(findings.filter((f) => /\/(Tasks|Idempotency|Payments)/.test(f.path))).toEqual([]);
  });
});
