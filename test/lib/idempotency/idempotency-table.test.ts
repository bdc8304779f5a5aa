import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IdempotencyTable, MessagingPatternsError } from '../../../lib';
import { KitFunction } from '../../../lib/core/kit-function';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

describe('IdempotencyTable', () => {
  describe('defaults', () => {
    let stack: Stack;
    let table: IdempotencyTable;
    beforeEach(() => {
      stack = newStack();
      table = new IdempotencyTable(stack, 'Idempotency');
    });

    it('creates an on-demand table keyed by id (string) with TTL on expiration', () => {
      template(stack).hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      });
      template(stack).resourceCountIs('AWS::DynamoDB::Table', 1);
    });

    it('turns point-in-time recovery on, deletion protection off, and encrypts with an AWS owned key', () => {
      template(stack).hasResourceProperties('AWS::DynamoDB::Table', {
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: false,
        SSESpecification: { SSEEnabled: false }, // false = the AWS owned key (DynamoDB always encrypts at rest)
      });
      template(stack).resourceCountIs('AWS::KMS::Key', 0);
      expect(table.encryptionKey).toBeUndefined();
    });

    it('retains the table when it leaves the stack (CDK default)', () => {
      template(stack).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it('exposes metrics', () => {
      expect(table.metricConsumedWriteCapacityUnits().metricName).toBe('ConsumedWriteCapacityUnits');
      expect(table.metricConsumedWriteCapacityUnits().statistic).toBe('Sum');
      expect(table.metricThrottledRequests()).toBeDefined();
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });
  });

  it('encrypts with a given customer managed key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const table = new IdempotencyTable(stack, 'Idempotency', { encryptionKey: key });
    template(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
    });
    expect(table.encryptionKey).toBe(key);
  });

  it('creates a rotating key for CUSTOMER_MANAGED encryption without a key', () => {
    const stack = newStack();
    const table = new IdempotencyTable(stack, 'Idempotency', { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED });
    template(stack).hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(table.encryptionKey).toBeDefined();
  });

  it('honours tableName, deletionProtection, pointInTimeRecovery and removalPolicy', () => {
    const stack = newStack();
    new IdempotencyTable(stack, 'Idempotency', {
      tableName: 'orders-idempotency',
      deletionProtection: true,
      pointInTimeRecovery: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    template(stack).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        TableName: 'orders-idempotency',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      }),
    });
  });

  describe('grants', () => {
    it('grantReadWrite grants exactly the item actions the run-time library uses', () => {
      const stack = newStack();
      const table = new IdempotencyTable(stack, 'Idempotency');
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      table.grantReadWrite(role);
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
              Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('Idempotency'), 'Arn'] }],
            },
          ],
        },
      });
    });

    it('grantReadWrite covers the customer managed key', () => {
      const stack = newStack();
      const table = new IdempotencyTable(stack, 'Idempotency', { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED });
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      table.grantReadWrite(role);
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt']),
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('IdempotencyResourceKey|IdempotencyKey'), 'Arn'] },
            }),
          ]),
        },
      });
    });

    it('connectConsumer grants the consumer and sets IDEMPOTENCY_TABLE_NAME', () => {
      const stack = newStack();
      const table = new IdempotencyTable(stack, 'Idempotency');
      const fn = inlineFunction(stack);
      table.connectConsumer(fn);
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { IDEMPOTENCY_TABLE_NAME: { Ref: Match.stringLikeRegexp('Idempotency') } } },
      });
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('ConsumerServiceRole') }],
        PolicyDocument: { Statement: [Match.objectLike({ Action: Match.arrayWith(['dynamodb:PutItem']) })] },
      });
    });

    it('connectConsumer grants an imported function and warns that its environment cannot be set', () => {
      const stack = newStack();
      const table = new IdempotencyTable(stack, 'Idempotency');
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const fn = lambda.Function.fromFunctionAttributes(stack, 'Imported', {
        functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:f',
        role,
      });
      table.connectConsumer(fn);
      expect(warnings(stack).join('\n')).toMatch(
        /TestStack\/Imported was imported, so the kit could not set its environment: set IDEMPOTENCY_TABLE_NAME yourself/,
      );
      template(stack).hasResourceProperties('AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^Role') }] });
    });
  });

  describe('validation', () => {
    const build = (props: ConstructorParameters<typeof IdempotencyTable>[2]) => () =>
      new IdempotencyTable(newStack(), 'Idempotency', props);

    it('fails if encryptionKey is given with an encryption other than CUSTOMER_MANAGED', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key');
      expect(
        () => new IdempotencyTable(stack, 'Idempotency', { encryption: dynamodb.TableEncryption.AWS_MANAGED, encryptionKey: key }),
      ).toThrow(/encryptionKey requires encryption CUSTOMER_MANAGED \(given encryption AWS_MANAGED and an encryptionKey\)/);
    });

    it('fails if tableName is not a valid table name', () => {
      expect(build({ tableName: 'a b' })).toThrow(/tableName must be 3 to 255 characters .*\(given 'a b'\)/);
      expect(build({ tableName: 'ab' })).toThrow(MessagingPatternsError);
    });

    it('reports every problem together', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key');
      expect(
        () =>
          new IdempotencyTable(stack, 'Idempotency', { tableName: '!', encryption: dynamodb.TableEncryption.DEFAULT, encryptionKey: key }),
      ).toThrow(/\[TestStack\/Idempotency\]\n {2}- encryptionKey requires .*\n {2}- tableName must be/);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        new IdempotencyTable(stack, 'Default');
        new IdempotencyTable(stack, 'Cmk', { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, deletionProtection: true });
      });
      expect(findings.filter((f) => /\/(Default|Cmk)\//.test(f.path))).toEqual([]);
    });

    it('the gate catches a real problem (a wildcard grant on the table)', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
        new IdempotencyTable(stack, 'Idempotency').table.grantFullAccess(role);
      });
      expect(findings.map((f) => f.ruleId)).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5/)]));
    });

    it('a consumer connected to the table gets no wildcard findings', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = new KitFunction(stack, 'Consumer', { handler: 'idempotency/payments' });
        new IdempotencyTable(stack, 'Idempotency').connectConsumer(consumer);
      });
      expect(findings.filter((f) => f.ruleId.startsWith('AwsSolutions-IAM5'))).toEqual([]);
    });
  });
});
