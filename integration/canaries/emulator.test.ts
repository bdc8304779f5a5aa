/**
 * Emulator canaries: they run before every other integration suite (harness/sequencer.js) and,
 * when one fails, every later suite stops (harness/canary-gate.ts). Each checks one behaviour of
 * the emulator that the kit's tests rely on, so a misbehaving emulator is reported as such.
 */
import { InvokeCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, CfnResource, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { recordCanaries } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { drain, sendAll, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

/** Records every delivery to RESULTS_URL; fails messages by their `fail` field. */
const RECORDER = `
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
const sqs = new SQSClient({});
exports.handler = async (event, context) => {
  const batchItemFailures = [];
  for (const r of event.Records) {
    const body = JSON.parse(r.body);
    const receiveCount = Number(r.attributes.ApproximateReceiveCount);
    await sqs.send(new SendMessageCommand({ QueueUrl: process.env.RESULTS_URL, MessageBody: JSON.stringify({
      id: body.id, receiveCount, batch: context.awsRequestId, batchSize: event.Records.length }) }));
    if (body.fail === 'always' || (body.fail === 'once' && receiveCount === 1)) batchItemFailures.push({ itemIdentifier: r.messageId });
  }
  return { batchItemFailures };
};`;

interface Delivery {
  id: string;
  receiveCount: number;
  batch: string;
  batchSize: number;
}

describe('emulator canaries', () => {
  let stack: DeployedStack;
  let client: SQSClient;
  const passed = new Set<string>();
  const CANARIES = 4;

  beforeAll(async () => {
    recordCanaries('running');
    stack = await deployStack('canaries', (s) => {
      const echo = new lambda.Function(s, 'Echo', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async (event) => ({ echo: event, answer: 42 });'),
      });
      const results = new sqs.Queue(s, 'Results');
      const dlq = new sqs.Queue(s, 'Dlq');
      const source = new sqs.Queue(s, 'Source', {
        visibilityTimeout: Duration.seconds(3),
        deadLetterQueue: { queue: dlq, maxReceiveCount: 2 },
      });
      const recorder = new lambda.Function(s, 'Recorder', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline(RECORDER),
        timeout: Duration.seconds(3),
        environment: { RESULTS_URL: results.queueUrl },
      });
      results.grantSendMessages(recorder);
      const esm = recorder.addEventSourceMapping('FromSource', {
        eventSourceArn: source.queueArn,
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
        // enabled by the test once all three messages wait in the queue, so one receive sees them
        // together (a poll racing the send could otherwise take the first alone)
        enabled: false,
      });
      esm.node.addDependency(source.grantConsumeMessages(recorder));
      const topic = new sns.Topic(s, 'Topic');
      const filtered = new sqs.Queue(s, 'Filtered');
      topic.addSubscription(
        new subs.SqsSubscription(filtered, {
          rawMessageDelivery: true,
          filterPolicyWithMessageBody: { color: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['red'] })) },
        }),
      );
      new CfnOutput(s, 'EchoName', { value: echo.functionName });
      new CfnOutput(s, 'SourceUrl', { value: source.queueUrl });
      new CfnOutput(s, 'MappingId', { value: esm.eventSourceMappingId });
      new CfnOutput(s, 'DlqUrl', { value: dlq.queueUrl });
      new CfnOutput(s, 'ResultsUrl', { value: results.queueUrl });
      new CfnOutput(s, 'TopicArn', { value: topic.topicArn });
      new CfnOutput(s, 'FilteredUrl', { value: filtered.queueUrl });
    });
    client = sqsClient();
  }, 600_000);

  afterAll(async () => {
    recordCanaries(passed.size === CANARIES ? 'passed' : 'failed', `${passed.size} of ${CANARIES} canaries passed`);
    await stack?.destroy();
  }, 300_000);

  it('a Lambda function deployed by CloudFormation returns what its code returns', async () => {
    const lambdaClient = new LambdaClient(clientConfig());
    const res = await lambdaClient.send(
      new InvokeCommand({ FunctionName: stack.outputs.EchoName, Payload: Buffer.from(JSON.stringify({ hello: 'canary' })) }),
    );
    expect(res.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(res.Payload!).toString())).toEqual({ echo: { hello: 'canary' }, answer: 42 });
    passed.add('lambda');
  });

  it('a partial batch response re-delivers only the failed ids, and a message failing maxReceiveCount times lands in the DLQ', async () => {
    const sent = await sendAll(client, stack.outputs.SourceUrl, [
      { Id: 'ok', MessageBody: JSON.stringify({ id: 'ok' }) },
      { Id: 'once', MessageBody: JSON.stringify({ id: 'once', fail: 'once' }) },
      { Id: 'always', MessageBody: JSON.stringify({ id: 'always', fail: 'always' }) },
    ]);
    await new LambdaClient(clientConfig()).send(new UpdateEventSourceMappingCommand({ UUID: stack.outputs.MappingId, Enabled: true }));
    const deliveries: Delivery[] = [];
    const dead: string[] = [];
    await waitFor(
      'the failing message in the DLQ and the retried one processed',
      async () => {
        deliveries.push(...(await drain(client, stack.outputs.ResultsUrl)).map((m) => JSON.parse(m.Body!) as Delivery));
        dead.push(...(await drain(client, stack.outputs.DlqUrl)).map((m) => m.MessageId!));
        return dead.length > 0 && deliveries.filter((d) => d.id === 'once').length >= 2 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, describe: () => JSON.stringify({ deliveries, dead }) },
    );
    await sleep(4_000); // one visibility timeout: a wrong re-delivery would show
    deliveries.push(...(await drain(client, stack.outputs.ResultsUrl)).map((m) => JSON.parse(m.Body!) as Delivery));

    const receives = (id: string) =>
      deliveries
        .filter((d) => d.id === id)
        .map((d) => d.receiveCount)
        .sort();
    // The three arrived together in the first batch...
    const first = deliveries.find((d) => d.id === 'ok')!;
    expect(
      deliveries
        .filter((d) => d.batch === first.batch)
        .map((d) => d.id)
        .sort(),
    ).toEqual(['always', 'ok', 'once']);
    // ...and only the failed ones came back.
    expect(receives('ok')).toEqual([1]);
    expect(receives('once')).toEqual([1, 2]);
    expect(receives('always')).toEqual([1, 2]);
    expect(dead).toEqual([sent.get('always')]);
    passed.add('redrive');
  }, 90_000);

  it('an SNS filter policy on the message body delivers only matching messages', async () => {
    const snsClient = new SNSClient(clientConfig());
    for (const color of ['blue', 'red', 'green']) {
      await snsClient.send(new PublishCommand({ TopicArn: stack.outputs.TopicArn, Message: JSON.stringify({ color, n: color.length }) }));
    }
    const bodies: string[] = [];
    await waitFor(
      'the red message',
      async () => {
        bodies.push(...(await drain(client, stack.outputs.FilteredUrl)).map((m) => m.Body!));
        return bodies.length > 0 ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await sleep(2_000);
    bodies.push(...(await drain(client, stack.outputs.FilteredUrl)).map((m) => m.Body!));
    expect(bodies.map((b) => JSON.parse(b))).toEqual([{ color: 'red', n: 3 }]);
    passed.add('sns-filter');
  }, 60_000);

  it('a resource type the emulator cannot create fails the deploy loudly', async () => {
    await expect(
      deployStack('canary-unsupported', (s) => {
        new CfnResource(s, 'Pipe', {
          type: 'AWS::Pipes::Pipe',
          properties: {
            RoleArn: 'arn:aws:iam::000000000000:role/none',
            Source: 'arn:aws:sqs:us-east-1:000000000000:a',
            Target: 'arn:aws:sqs:us-east-1:000000000000:b',
          },
        });
      }),
    ).rejects.toThrow(/AWS::Pipes::Pipe/);
    passed.add('unsupported');
  }, 300_000);
});
