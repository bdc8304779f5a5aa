import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FailureReasonStore, MessagingPatternsError, WorkQueue } from '../../../lib';
import { KitFunction } from '../../../lib/core/kit-function';
import { ENV, TAG } from '../../../lib/core/wire';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

describe('FailureReasonStore', () => {
  describe('defaults', () => {
    let stack: Stack;
    let store: FailureReasonStore;
    beforeEach(() => {
      stack = newStack();
      store = new FailureReasonStore(stack, 'Reasons');
    });

    it('creates an encrypted, private, TLS-only bucket whose records expire after 15 days', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: { Rules: [{ Id: 'ExpireFailureReasons', Prefix: 'reasons/', ExpirationInDays: 15, Status: 'Enabled' }] },
      });
      const policy = Object.values(t.findResources('AWS::S3::BucketPolicy'))[0];
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      );
      expect(store.prefix).toBe('reasons/');
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('connectRecorder sets the variables the run-time store reads and grants PutObject on the prefix only', () => {
      const fn = inlineFunction(stack);
      store.connectRecorder(fn);
      const t = template(stack);
      t.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            [ENV.failureReasonBucket]: { Ref: Match.stringLikeRegexp('ReasonsBucket') },
            [ENV.failureReasonPrefix]: 'reasons/',
          },
        },
      });
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 's3:PutObject',
              Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('ReasonsBucket'), 'Arn'] }, '/reasons/*']] },
            }),
          ]),
        },
      });
      // Nothing but PutObject: no s3:Abort*, tagging or retention actions.
      const actions = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) =>
        p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string | string[] }) => st.Action),
      );
      expect(actions.filter((a: string) => a.startsWith('s3:'))).toEqual(['s3:PutObject']);
    });

    it('grantRead grants GetObject and ListBucket', () => {
      const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      store.grantRead(role);
      const actions = Object.values(template(stack).findResources('AWS::IAM::Policy')).flatMap((p) =>
        p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => s.Action),
      );
      expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:List*']));
    });

    it('tags a dead-letter queue with its location, for dlq peek', () => {
      const wq = new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack) });
      store.addDeadLetterQueue(wq.deadLetterQueue!);
      const dlq = Object.values(template(stack).findResources('AWS::SQS::Queue')).find((q) => q.Properties.Tags);
      expect(dlq?.Properties.Tags).toEqual([
        { Key: TAG.failureReasons, Value: { 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^ReasonsBucket/) }, '/reasons/']] } },
      ]);
      expect(dlq?.Properties.RedrivePolicy).toBeUndefined();
    });

    it('warns, without failing, when asked to tag an imported queue', () => {
      store.addDeadLetterQueue(sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:us-east-1:111122223333:orders-dlq'));
      expect(warnings(stack)).toEqual([expect.stringMatching(/was imported, so it cannot be tagged/)]);
    });
  });

  it('honours retention, prefix and bucketProps, keeping TLS and the block on public access', () => {
    const stack = newStack();
    new FailureReasonStore(stack, 'Reasons', {
      retention: Duration.days(30),
      prefix: 'orders/',
      bucketProps: {
        versioned: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS,
        serverAccessLogsBucket: new s3.Bucket(stack, 'Logs'),
      },
    });
    template(stack).hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^Logs') } },
    });
    template(stack).hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Prefix: 'orders/', ExpirationInDays: 30 })] },
    });
  });

  it('uses an existing bucket as it is', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'my-reasons');
    const store = new FailureReasonStore(stack, 'Reasons', { existingBucket: bucket });
    store.connectRecorder(inlineFunction(stack));
    expect(store.bucket).toBe(bucket);
    template(stack).resourceCountIs('AWS::S3::Bucket', 0);
    template(stack).hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { FAILURE_REASON_BUCKET: 'my-reasons' } } });
  });

  it('warns when reasons would expire before the longest-kept dead letters', () => {
    const stack = newStack();
    new FailureReasonStore(stack, 'Reasons', { retention: Duration.days(7) });
    expect(warnings(stack)).toEqual([
      expect.stringMatching(/retention \(604800 seconds\) is shorter than the longest dead-letter retention/),
    ]);
  });

  describe('validation', () => {
    const build = (props: ConstructorParameters<typeof FailureReasonStore>[2]) => () =>
      new FailureReasonStore(newStack(), 'Reasons', props);

    it('fails if retention is not whole days', () => {
      expect(build({ retention: Duration.hours(36) })).toThrow(
        /retention must be a whole number of days, at least 1 \(given 129600 seconds\)/,
      );
    });

    it('fails if retention is under a day', () => {
      expect(build({ retention: Duration.hours(12) })).toThrow(
        /retention must be a whole number of days, at least 1 \(given 43200 seconds\)/,
      );
    });

    it('fails if bucketProps turns TLS enforcement off', () => {
      expect(build({ bucketProps: { enforceSSL: false } })).toThrow(/bucketProps.enforceSSL must not be false/);
    });

    it('fails if bucketProps makes the bucket public', () => {
      expect(build({ bucketProps: { publicReadAccess: true } })).toThrow(/bucketProps.publicReadAccess must not be true.* \(given true\)/);
    });

    it.each(['/abs/', 'has space/', 'x'.repeat(201)])('fails if the prefix is %p', (prefix) => {
      expect(build({ prefix })).toThrow(/prefix must be up to 200 letters, digits or _.:=\+@\/- and must not start with '\/' \(given '/);
    });

    it('reports an existing bucket with bucket settings together', () => {
      let error: unknown;
      try {
        const stack = newStack();
        new FailureReasonStore(stack, 'Reasons', {
          existingBucket: s3.Bucket.fromBucketName(stack, 'B', 'my-reasons'),
          bucketProps: {},
          retention: Duration.days(20),
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).problems).toEqual([
        'provide only one of existingBucket, bucketProps (given existingBucket and bucketProps)',
        'retention cannot be used with existingBucket: existingBucket is used as it is',
      ]);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = new KitFunction(stack, 'Consumer', { handler: 'dead-letter-queue/consumer' });
        const orders = new WorkQueue(stack, 'Orders', { consumer });
        const store = new FailureReasonStore(stack, 'Reasons');
        store.connectRecorder(consumer);
        store.addDeadLetterQueue(orders.deadLetterQueue!);
      });
      expect(findings.filter((f) => /\/Reasons\//.test(f.path))).toEqual([]);
    });
  });
});
