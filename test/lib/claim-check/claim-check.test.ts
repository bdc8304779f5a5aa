import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ClaimCheck, type ClaimCheckProps, MessagingPatternsError } from '../../../lib';
import { nagErrors, newStack, template, warnings } from '../../helpers/cdk';

const role = (stack: Stack, id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

/** The statements of the policy attached to the role with logical id prefix `rolePrefix`. */
function statementsOf(stack: Stack, rolePrefix: string): Array<{ Action: unknown; Resource: unknown; Effect: string }> {
  const policies = Object.values(template(stack).findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref.startsWith(rolePrefix)),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('ClaimCheck', () => {
  describe('defaults', () => {
    let stack: Stack;
    let claims: ClaimCheck;
    beforeEach(() => {
      stack = newStack();
      claims = new ClaimCheck(stack, 'Reports');
    });

    it('creates an SSE-S3 bucket with public access blocked and object ownership enforced', () => {
      template(stack).hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: Match.objectLike({ Rules: Match.arrayWith([Match.objectLike({ Id: 'ExpireClaims' })]) }),
      });
    });

    it('expires claims under claims/ after 30 days and aborts incomplete uploads after 1 day', () => {
      template(stack).hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'ExpireClaims',
              Prefix: 'claims/',
              ExpirationInDays: 30,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Status: 'Enabled',
            },
          ],
        },
      });
      expect(claims.expiration?.toDays()).toBe(30);
      expect(claims.keyPrefix).toBe('claims/');
    });

    it('denies requests without TLS 1.2', () => {
      const policies = Object.values(template(stack).findResources('AWS::S3::BucketPolicy'));
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      );
    });

    it('logs requests to a separate access-log bucket that keeps logs 90 days', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::S3::Bucket', 2);
      t.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: {
          DestinationBucketName: { Ref: Match.stringLikeRegexp('ReportsAccessLogsBucket') },
          LogFilePrefix: 'TestStack-Reports/',
        },
      });
      t.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'ExpireAccessLogs', ExpirationInDays: 90 })] },
        LoggingConfiguration: Match.absent(),
      });
      expect(claims.accessLogsBucket).toBeDefined();
    });

    it("lets S3 log delivery write through a bucket policy (no ACLs), whatever the app's feature flags", () => {
      const policies = Object.values(template(stack).findResources('AWS::S3::BucketPolicy'));
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Condition: expect.objectContaining({
            ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^ReportsBucket/), 'Arn'] } },
          }),
        }),
      );
      for (const b of Object.values(template(stack).findResources('AWS::S3::Bucket'))) expect(b.Properties.AccessControl).toBeUndefined();
    });

    it('keeps the buckets when the stack is deleted', () => {
      for (const b of Object.values(template(stack).findResources('AWS::S3::Bucket'))) expect(b.DeletionPolicy).toBe('Retain');
    });

    it('gives producers and consumers their settings through environment', () => {
      expect(stack.resolve(claims.environment)).toEqual({
        CLAIM_CHECK_BUCKET_NAME: { Ref: expect.stringMatching(/^ReportsBucket/) },
        CLAIM_CHECK_THRESHOLD_BYTES: '262144',
        CLAIM_CHECK_KEY_PREFIX: 'claims/',
      });
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes storage metrics', () => {
      expect(claims.metricStoredBytes().metricName).toBe('BucketSizeBytes');
      expect(claims.metricStoredObjects().metricName).toBe('NumberOfObjects');
      expect(claims.metricStoredBytes().period.toDays()).toBe(1);
    });
  });

  describe('grants', () => {
    it('grants check-in only s3:PutObject under the prefix, check-out s3:GetObject and s3:ListBucket on the prefix, release only s3:DeleteObject', () => {
      const stack = newStack();
      const claims = new ClaimCheck(stack, 'Reports');
      claims.grantCheckIn(role(stack, 'Producer'));
      claims.grantCheckOut(role(stack, 'Consumer'));
      claims.grantRelease(role(stack, 'Janitor'));
      const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ReportsBucket/), 'Arn'] }, '/claims/*']] };
      expect(statementsOf(stack, 'Producer')).toEqual([{ Action: 's3:PutObject', Effect: 'Allow', Resource: objects }]);
      // ListBucket on the prefix: a missing (expired) claim reads as 404, so the run-time helper reports ClaimNotFoundError.
      expect(statementsOf(stack, 'Consumer')).toEqual([
        { Action: 's3:GetObject', Effect: 'Allow', Resource: objects },
        {
          Action: 's3:ListBucket',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ReportsBucket/), 'Arn'] },
          Condition: { StringLike: { 's3:prefix': ['claims/*'] } },
        },
      ]);
      expect(statementsOf(stack, 'Janitor')).toEqual([{ Action: 's3:DeleteObject', Effect: 'Allow', Resource: objects }]);
    });

    it('covers the customer managed key: GenerateDataKey to check in, Decrypt to check out', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const claims = new ClaimCheck(stack, 'Reports', { encryptionKey: key });
      claims.grantCheckIn(role(stack, 'Producer'));
      claims.grantCheckOut(role(stack, 'Consumer'));
      expect(statementsOf(stack, 'Producer')).toContainEqual(
        expect.objectContaining({ Action: 'kms:GenerateDataKey', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] } }),
      );
      expect(statementsOf(stack, 'Consumer')).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt' }));
      template(stack).hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
              },
              BucketKeyEnabled: true,
            },
          ],
        },
      });
      expect(claims.encryptionKey).toBe(key);
    });
  });

  it('honours threshold, expiration and prefix, and passes them to the run-time helper', () => {
    const stack = newStack();
    const claims = new ClaimCheck(stack, 'Reports', { thresholdBytes: 65_536, expiration: Duration.days(20), keyPrefix: 'big/' });
    template(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Prefix: 'big/', ExpirationInDays: 20 })] },
    });
    expect(stack.resolve(claims.environment)).toMatchObject({ CLAIM_CHECK_THRESHOLD_BYTES: '65536', CLAIM_CHECK_KEY_PREFIX: 'big/' });
  });

  it('warns when the threshold is above what SNS and EventBridge carry', () => {
    const stack = newStack();
    new ClaimCheck(stack, 'Reports', { thresholdBytes: 1_048_576 });
    expect(warnings(stack).join('\n')).toMatch(/thresholdBytes 1048576 is above 262144 \(256 KiB\)/);
  });

  it("merges bucketProps and keeps the user's lifecycle rules after its own", () => {
    const stack = newStack();
    new ClaimCheck(stack, 'Reports', {
      bucketProps: {
        removalPolicy: RemovalPolicy.DESTROY,
        lifecycleRules: [{ id: 'Mine', prefix: 'other/', expiration: Duration.days(3) }],
      },
    });
    const buckets = template(stack).findResources('AWS::S3::Bucket');
    expect(Object.values(buckets).map((b) => b.DeletionPolicy)).toEqual(['Delete', 'Delete']);
    template(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'ExpireClaims' }), Match.objectLike({ Id: 'Mine', ExpirationInDays: 3 })] },
    });
  });

  it('sends access logs to a given bucket, or none on request', () => {
    const stack = newStack();
    const logs = new s3.Bucket(stack, 'Logs');
    new ClaimCheck(stack, 'A', { serverAccessLogsBucket: logs });
    new ClaimCheck(stack, 'B', { serverAccessLogs: false });
    const t = template(stack);
    t.resourceCountIs('AWS::S3::Bucket', 3);
    t.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^Logs') } },
    });
  });

  it('uses an existing bucket as it is', () => {
    const stack = newStack();
    const existing = s3.Bucket.fromBucketName(stack, 'Existing', 'my-claims');
    const claims = new ClaimCheck(stack, 'Reports', { existingBucket: existing });
    expect(claims.bucket).toBe(existing);
    expect(claims.expiration).toBeUndefined();
    template(stack).resourceCountIs('AWS::S3::Bucket', 0);
    expect(stack.resolve(claims.environment).CLAIM_CHECK_BUCKET_NAME).toBe('my-claims');
  });

  describe('validation', () => {
    const build = (props: ClaimCheckProps) => {
      const stack = newStack();
      return () => new ClaimCheck(stack, 'Reports', props);
    };

    it.each([1023, 1_048_577, 2048.5])('fails if thresholdBytes is %p', (n) => {
      expect(build({ thresholdBytes: n })).toThrow(
        new RegExp(`thresholdBytes must be an integer between 1024 and 1048576 \\(1 KiB to the 1 MiB SQS limit\\) \\(given ${n}\\)`),
      );
    });

    it.each([Duration.hours(12), Duration.hours(36)])('fails if expiration is not a whole number of days (%p)', (d) => {
      expect(build({ expiration: d })).toThrow(
        new RegExp(`expiration must be a whole number of days, at least 1.*\\(given ${d.toSeconds()} seconds\\)`),
      );
    });

    it('fails if keyPrefix starts with a slash', () => {
      expect(build({ keyPrefix: '/claims/' })).toThrow(
        /keyPrefix must be 1 to 512 characters and not start with '\/' \(given '\/claims\/'\)/,
      );
    });

    it('fails if bucketProps turns encryption off', () => {
      expect(build({ bucketProps: { encryption: s3.BucketEncryption.UNENCRYPTED } })).toThrow(
        /bucketProps.encryption must not be UNENCRYPTED/,
      );
    });

    it('fails if bucketProps turns TLS enforcement off', () => {
      expect(build({ bucketProps: { enforceSSL: false } })).toThrow(/bucketProps.enforceSSL must not be false/);
    });

    it('fails if bucketProps makes payloads public', () => {
      expect(build({ bucketProps: { publicReadAccess: true } })).toThrow(/bucketProps.publicReadAccess must not be true/);
      expect(build({ bucketProps: { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS } })).toThrow(
        /bucketProps.blockPublicAccess must block all public access/,
      );
    });

    it('fails if access logging is both off and given a bucket', () => {
      const stack = newStack();
      const logs = new s3.Bucket(stack, 'Logs');
      expect(() => new ClaimCheck(stack, 'Reports', { serverAccessLogs: false, serverAccessLogsBucket: logs })).toThrow(
        /serverAccessLogsBucket cannot be used with serverAccessLogs: false/,
      );
    });

    it('fails if the key is given twice', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key');
      expect(() => new ClaimCheck(stack, 'Reports', { encryptionKey: key, bucketProps: { encryptionKey: key } })).toThrow(
        /encryptionKey cannot be used with bucketProps.encryption or bucketProps.encryptionKey/,
      );
    });

    it('reports every conflicting input with existingBucket together', () => {
      const stack = newStack();
      const existing = s3.Bucket.fromBucketName(stack, 'Existing', 'my-claims');
      let error: unknown;
      try {
        new ClaimCheck(stack, 'Reports', {
          existingBucket: existing,
          bucketProps: {},
          expiration: Duration.days(3),
          encryptionKey: new kms.Key(stack, 'Key'),
          thresholdBytes: 10,
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).problems).toEqual([
        'provide only one of existingBucket, bucketProps (given existingBucket and bucketProps)',
        'encryptionKey cannot be used with existingBucket: existingBucket is used as it is',
        'expiration cannot be used with existingBucket: existingBucket is used as it is',
        'thresholdBytes must be an integer between 1024 and 1048576 (1 KiB to the 1 MiB SQS limit) (given 10)',
      ]);
      expect((error as Error).message).toMatch(/^\[TestStack\/Reports\]\n {2}- /);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        new ClaimCheck(stack, 'Reports');
        new ClaimCheck(stack, 'Invoices', {
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
          serverAccessLogs: false,
        });
      });
      expect(findings.filter((f) => /\/(Reports|Invoices)\//.test(f.path))).toEqual([]);
    });

    it('the gate catches a real problem (a bucket without logs or TLS)', () => {
      const findings = nagErrors((app: App) => {
        new s3.Bucket(new Stack(app, 'Gate'), 'Bare');
      });
      expect(findings.map((f) => f.ruleId)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    });
  });
});
