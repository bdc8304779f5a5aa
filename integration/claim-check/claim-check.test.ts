/**
 * ClaimCheck end to end: the real construct, the real run-time helper on both sides, and the real
 * bundled consumer running inside LocalStack. A 5 MiB payload goes producer -> S3 + claim -> SQS ->
 * consumer Lambda -> checkOut, and comes out with the same SHA-256; small payloads travel inline.
 * Claims also arrive through SNS (enveloped and raw) and EventBridge, into the same queue.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { DeleteObjectsCommand, GetBucketPolicyCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ClaimCheck, WorkQueue } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { S3ClaimCheck } from '../../lambda/runtime/claim-check/s3';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { drain, queueDepth, sqsClient } from '../harness/sqs';
import { waitFor } from '../harness/wait';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const canonical = (s: string) => sha256(JSON.stringify(JSON.parse(s)));

/** What the consumer reports for each message it checked out. */
interface Result {
  messageId: string;
  id?: string;
  claimed: boolean;
  key?: string;
  bytes: number;
  sha256: string;
  jsonSha256?: string;
}

/** A JSON payload of about `bytes` bytes (random, so no layer can compress or fake it). */
const payloadOf = (id: string, bytes: number) =>
  JSON.stringify({
    id,
    data: randomBytes(Math.ceil((bytes * 3) / 4))
      .toString('base64')
      .slice(0, bytes),
  });

describe('ClaimCheck end to end', () => {
  let stack: DeployedStack;
  let s3: S3Client;
  let claims: S3ClaimCheck;
  let client: SQSClient;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('claim-check', (s) => {
      const claimCheck = new ClaimCheck(s, 'Claims', { bucketProps: { removalPolicy: RemovalPolicy.DESTROY } });
      const results = new sqs.Queue(s, 'Results', { enforceSSL: true });
      const consumer = new KitFunction(s, 'Consumer', {
        handler: 'claim-check/consumer',
        functionProps: { timeout: Duration.seconds(5), environment: { ...claimCheck.environment, RESULTS_QUEUE_URL: results.queueUrl } },
      });
      claimCheck.grantCheckOut(consumer);
      results.grantSendMessages(consumer);
      const inbox = new WorkQueue(s, 'Inbox', { consumer });
      const enveloped = new sns.Topic(s, 'Enveloped', { enforceSSL: true });
      enveloped.addSubscription(new subs.SqsSubscription(inbox.queue, { rawMessageDelivery: false }));
      const raw = new sns.Topic(s, 'Raw', { enforceSSL: true });
      raw.addSubscription(new subs.SqsSubscription(inbox.queue, { rawMessageDelivery: true }));
      const bus = new events.EventBus(s, 'Bus');
      new events.Rule(s, 'Reports', {
        eventBus: bus,
        eventPattern: { source: ['it.claim-check'] },
        targets: [new targets.SqsQueue(inbox.queue)],
      });
      new CfnOutput(s, 'BucketName', { value: claimCheck.bucket.bucketName });
      new CfnOutput(s, 'InboxUrl', { value: inbox.queue.queueUrl });
      new CfnOutput(s, 'InboxDlqUrl', { value: inbox.deadLetterQueue!.queueUrl });
      new CfnOutput(s, 'ResultsUrl', { value: results.queueUrl });
      new CfnOutput(s, 'EnvelopedTopicArn', { value: enveloped.topicArn });
      new CfnOutput(s, 'RawTopicArn', { value: raw.topicArn });
      new CfnOutput(s, 'BusName', { value: bus.eventBusName });
    });
    s3 = new S3Client(clientConfig());
    client = sqsClient();
    claims = new S3ClaimCheck({ bucketName: stack.outputs.BucketName, client: s3 });
  }, 600_000);

  afterAll(async () => {
    if (stack) {
      // Empty the bucket so CloudFormation can delete it.
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.outputs.BucketName })).catch(() => undefined);
      const keys = (listed?.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: stack.outputs.BucketName, Delete: { Objects: keys } }));
    }
    await stack?.destroy();
  }, 300_000);

  it('deploys the bucket with its TLS-only policy and its lifecycle rule', async () => {
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: stack.outputs.BucketName }))).Policy!);
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    // LocalStack 4.13.1's CloudFormation provider for AWS::S3::Bucket (services/s3/resource_providers/
    // aws_s3_bucket.py, create()) applies only notifications, versioning, CORS, object lock, tags and
    // website settings: it drops LifecycleConfiguration, BucketEncryption, PublicAccessBlock,
    // OwnershipControls and LoggingConfiguration. So the rule is checked in the deployed template
    // here, not with GetBucketLifecycleConfiguration (which answers NoSuchLifecycleConfiguration).
    const deployed = await new CloudFormationClient(clientConfig()).send(new GetTemplateCommand({ StackName: stack.stackName }));
    const resources = Object.values(
      JSON.parse(deployed.TemplateBody!).Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>,
    );
    const buckets = resources.filter((r) => r.Type === 'AWS::S3::Bucket').map((r) => r.Properties ?? {});
    expect(buckets).toContainEqual(
      expect.objectContaining({
        LifecycleConfiguration: {
          Rules: [expect.objectContaining({ Id: 'ExpireClaims', Prefix: 'claims/', ExpirationInDays: 30, Status: 'Enabled' })],
        },
      }),
    );
  });

  it('carries a 5 MiB payload through S3 and a claim, and small payloads inline, over SQS, SNS and EventBridge', async () => {
    // Prepare
    const ledger = new Ledger();
    const big = payloadOf('big-sqs', 5 * 1024 * 1024);
    const viaSnsEnvelope = payloadOf('big-sns-envelope', 300_000);
    const viaSnsRaw = payloadOf('big-sns-raw', 300_000);
    const viaEventBridge = payloadOf('big-eventbridge', 300_000);
    const smallJson = JSON.stringify({ id: 'small-json', note: 'fits inline', n: [1, 2, 3] });
    const smallText = 'small plain text payload, not JSON: äöü €';
    const smallEvent = JSON.stringify({ id: 'small-eventbridge', note: 'fits inline' });
    for (const id of ['big-sqs', 'big-sns-envelope', 'big-sns-raw', 'big-eventbridge', 'small-json', 'small-text', 'small-eventbridge'])
      ledger.sent(id, 'process');

    // Act: the producer side, as a producer function would run it.
    const checkInStarted = Date.now();
    const bigBody = await claims.checkIn(big);
    const checkInMs = Date.now() - checkInStarted;
    const smallJsonBody = await claims.checkIn(JSON.parse(smallJson));
    const smallTextBody = await claims.checkIn(smallText);
    const sent = Date.now();
    await client.send(new SendMessageCommand({ QueueUrl: stack.outputs.InboxUrl, MessageBody: bigBody }));
    await client.send(new SendMessageCommand({ QueueUrl: stack.outputs.InboxUrl, MessageBody: smallJsonBody }));
    await client.send(new SendMessageCommand({ QueueUrl: stack.outputs.InboxUrl, MessageBody: smallTextBody }));
    const snsClient = new SNSClient(clientConfig());
    await snsClient.send(new PublishCommand({ TopicArn: stack.outputs.EnvelopedTopicArn, Message: await claims.checkIn(viaSnsEnvelope) }));
    await snsClient.send(new PublishCommand({ TopicArn: stack.outputs.RawTopicArn, Message: await claims.checkIn(viaSnsRaw) }));
    const bigEntry = await claims.checkInEvent({
      EventBusName: stack.outputs.BusName,
      Source: 'it.claim-check',
      DetailType: 'Report',
      Detail: viaEventBridge,
    });
    const smallEntry = await claims.checkInEvent({
      EventBusName: stack.outputs.BusName,
      Source: 'it.claim-check',
      DetailType: 'Report',
      Detail: smallEvent,
    });
    const put = await new EventBridgeClient(clientConfig()).send(new PutEventsCommand({ Entries: [bigEntry, smallEntry] }));
    expect(put.FailedEntryCount).toBe(0);

    // What went on the wire: claims of a few hundred bytes for the large payloads, the small ones as they are.
    expect(Buffer.byteLength(bigBody)).toBeLessThan(400);
    expect(claims.claimOf(bigBody)).toMatchObject({ bucket: stack.outputs.BucketName, bytes: Buffer.byteLength(big), sha256: sha256(big) });
    expect(claims.claimOf(bigEntry.Detail!)).toBeDefined();
    expect(smallJsonBody).toBe(smallJson);
    expect(smallTextBody).toBe(smallText);
    expect(smallEntry.Detail).toBe(smallEvent);

    // Assess: collect what the consumer Lambda checked out.
    const results = new Map<string, Result>();
    await waitFor(
      'the consumer to report every payload',
      async () => {
        for (const m of await drain(client, stack.outputs.ResultsUrl)) {
          const r = JSON.parse(m.Body!) as Result;
          const id = r.id ?? (r.sha256 === sha256(smallText) ? 'small-text' : `unknown:${r.messageId}`);
          results.set(id, r);
          ledger.appliedEffect(id); // once per report: a duplicate report counts as a second application
        }
        return ledger.settled ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000, describe: () => `${ledger.report('claim-check')}; got ${[...results.keys()].join(', ')}` },
    );
    const endToEndMs = Date.now() - sent;
    for (const m of await drain(client, stack.outputs.InboxDlqUrl)) ledger.inDeadLetterQueue(m.MessageId!, m.Body!.slice(0, 200));

    console.log(ledger.report('claim-check'));
    expect(ledger.problems()).toEqual([]);
    expect(ledger.totals()).toEqual({ sent: 7, appliedOnce: 7, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 });

    // Claimed payloads come back byte for byte.
    for (const [id, payload] of [
      ['big-sqs', big],
      ['big-sns-envelope', viaSnsEnvelope],
      ['big-sns-raw', viaSnsRaw],
      ['big-eventbridge', viaEventBridge],
    ] as const) {
      expect({ id, claimed: results.get(id)!.claimed, bytes: results.get(id)!.bytes, sha256: results.get(id)!.sha256 }).toEqual({
        id,
        claimed: true,
        bytes: Buffer.byteLength(payload),
        sha256: sha256(payload),
      });
    }
    // Inline payloads: plain text byte for byte; JSON as the same JSON value (LocalStack's SQS event
    // source mapping re-serializes JSON bodies, and an inline EventBridge detail is an object).
    expect(results.get('small-text')).toMatchObject({ claimed: false, sha256: sha256(smallText) });
    expect(results.get('small-json')).toMatchObject({ claimed: false, jsonSha256: canonical(smallJson) });
    expect(results.get('small-eventbridge')).toMatchObject({ claimed: false, jsonSha256: canonical(smallEvent) });

    // The bucket holds exactly the four claimed payloads, under the prefix; the 5 MiB one is whole.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.outputs.BucketName, Prefix: 'claims/' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(
      ['big-sqs', 'big-sns-envelope', 'big-sns-raw', 'big-eventbridge'].map((id) => results.get(id)!.key).sort(),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: stack.outputs.BucketName, Key: results.get('big-sqs')!.key! }));
    expect(head.ContentLength).toBe(Buffer.byteLength(big));
    expect(await queueDepth(client, stack.outputs.InboxUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });

    console.log(`claim-check: checkIn of 5 MiB took ${checkInMs} ms; all 7 payloads checked out ${endToEndMs} ms after the first send`);
  }, 300_000);
});
