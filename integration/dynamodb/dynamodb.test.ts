/**
 * DynamoDB and DynamoDB Streams inside the project's LocalStack (served by the moto provider
 * plugins): a CDK-deployed table with a GSI, TTL and a NEW_AND_OLD_IMAGES stream; conditional
 * writes, transactions, queries and streams from the SDK; and a stream event source mapping
 * invoking a Lambda function deployed by CloudFormation.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { drain, sqsClient } from '../harness/sqs';
import { waitFor } from '../harness/wait';

/** Forwards each stream record's essentials to RESULTS_URL, in order. */
const STREAM_RECORDER = `
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
const sqs = new SQSClient({});
exports.handler = async (event) => {
  for (const r of event.Records) {
    await sqs.send(new SendMessageCommand({ QueueUrl: process.env.RESULTS_URL, MessageBody: JSON.stringify({
      eventName: r.eventName, pk: r.dynamodb.Keys.pk.S, seq: r.dynamodb.SequenceNumber,
      v: r.dynamodb.NewImage && r.dynamodb.NewImage.v ? Number(r.dynamodb.NewImage.v.N) : null,
      hasOld: Boolean(r.dynamodb.OldImage), hasNew: Boolean(r.dynamodb.NewImage),
      region: r.awsRegion, source: r.eventSource }) }));
  }
};`;

describe('DynamoDB inside LocalStack', () => {
  let stack: DeployedStack;
  let ddb: DynamoDBClient;
  let streams: DynamoDBStreamsClient;
  let queue: SQSClient;
  let table: string;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('dynamodb', (s) => {
      const t = new dynamodb.Table(s, 'Table', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        timeToLiveAttribute: 'expiresAt',
        removalPolicy: RemovalPolicy.DESTROY,
      });
      t.addGlobalSecondaryIndex({ indexName: 'byStatus', partitionKey: { name: 'status', type: dynamodb.AttributeType.STRING } });
      const results = new sqs.Queue(s, 'Results');
      const recorder = new lambda.Function(s, 'Recorder', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline(STREAM_RECORDER),
        timeout: Duration.seconds(5),
        environment: { RESULTS_URL: results.queueUrl },
      });
      results.grantSendMessages(recorder);
      const esm = recorder.addEventSourceMapping('Stream', {
        eventSourceArn: t.tableStreamArn!,
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        retryAttempts: 2,
      });
      esm.node.addDependency(t.grantStreamRead(recorder));
      new CfnOutput(s, 'TableName', { value: t.tableName });
      new CfnOutput(s, 'StreamArn', { value: t.tableStreamArn! });
      new CfnOutput(s, 'ResultsUrl', { value: results.queueUrl });
    });
    ddb = new DynamoDBClient(clientConfig());
    streams = new DynamoDBStreamsClient(clientConfig());
    queue = sqsClient();
    table = stack.outputs.TableName;
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  it('deploys the table with its GSI, TTL and stream from CloudFormation', async () => {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.TableId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['byStatus']);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.LatestStreamArn).toBe(stack.outputs.StreamArn);
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('applies ConditionExpression on PutItem', async () => {
    const put = () =>
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: 'cond' }, sk: { S: 'a' }, v: { N: '1' } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    await put();
    const err = await put().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionalCheckFailedException);
    expect((err as ConditionalCheckFailedException).Item).toEqual({ pk: { S: 'cond' }, sk: { S: 'a' }, v: { N: '1' } });
  });

  it('cancels TransactWriteItems on a failed ConditionCheck and returns the reasons', async () => {
    await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'tx' }, sk: { S: 'guard' }, status: { S: 'closed' } } }));
    const err = await ddb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: { S: 'tx' }, sk: { S: 'new' } } } },
            {
              ConditionCheck: {
                TableName: table,
                Key: { pk: { S: 'tx' }, sk: { S: 'guard' } },
                ConditionExpression: '#s = :open',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':open': { S: 'open' } },
              },
            },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect((err as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    const q = await ddb.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'tx' } } }),
    );
    expect(q.Items?.map((i) => i.sk.S)).toEqual(['guard']);
  });

  it('queries the GSI', async () => {
    for (const [sk, status] of [
      ['g1', 'shipped'],
      ['g2', 'pending'],
      ['g3', 'shipped'],
    ]) {
      await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'gsi' }, sk: { S: sk }, status: { S: status } } }));
    }
    const q = await ddb.send(
      new QueryCommand({
        TableName: table,
        IndexName: 'byStatus',
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: 'shipped' } },
      }),
    );
    expect(q.Items?.map((i) => i.sk.S).sort()).toEqual(['g1', 'g3']);
  });

  it('lets exactly one of 32 concurrent conditional puts of the same key succeed, round after round', async () => {
    const winners: number[] = [];
    for (let round = 0; round < 8; round++) {
      const results = await Promise.allSettled(
        Array.from({ length: 32 }, (_, i) =>
          ddb.send(
            new PutItemCommand({
              TableName: table,
              Item: { pk: { S: `race-${round}` }, sk: { S: 'k' }, writer: { N: String(i) } },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const conflicts = results.filter((r) => r.status === 'rejected' && r.reason instanceof ConditionalCheckFailedException).length;
      expect(ok + conflicts).toBe(32);
      winners.push(ok);
    }
    expect(winners).toEqual(Array(8).fill(1));
  }, 60_000);

  it('streams records in order per key, also after a cancelled transaction, with AWS-shaped images', async () => {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: stack.outputs.StreamArn }));
    const shardId = StreamDescription!.Shards![0].ShardId!;
    let iterator = (
      await streams.send(new GetShardIteratorCommand({ StreamArn: stack.outputs.StreamArn, ShardId: shardId, ShardIteratorType: 'LATEST' }))
    ).ShardIterator;

    const key = { pk: { S: 'ordered' }, sk: { S: 'x' } };
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key, v: { N: '1' } } }));
    await ddb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { ...key, v: { N: '99' } } } },
            {
              ConditionCheck: {
                TableName: table,
                Key: key,
                ConditionExpression: 'v = :never',
                ExpressionAttributeValues: { ':never': { N: '-1' } },
              },
            },
          ],
        }),
      )
      .catch(() => undefined);
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key, v: { N: '2' } } }));
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key, v: { N: '3' } } }));

    const records: _Record[] = [];
    for (let i = 0; i < 10 && records.length < 3 && iterator; i++) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []).filter((r) => r.dynamodb?.Keys?.pk?.S === 'ordered'));
      iterator = page.NextShardIterator;
    }
    expect(records.map((r) => [r.eventName, r.dynamodb?.NewImage?.v?.N])).toEqual([
      ['INSERT', '1'],
      ['MODIFY', '2'],
      ['MODIFY', '3'],
    ]);
    const seqs = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    expect(records[0].dynamodb?.OldImage).toBeUndefined();
    expect(records[1].dynamodb?.OldImage?.v?.N).toBe('1');
    expect(records.every((r) => r.awsRegion === 'us-east-1')).toBe(true);
  });

  it('feeds a Lambda function deployed by CloudFormation through a stream event source mapping', async () => {
    const key = { pk: { S: 'esm' }, sk: { S: 'e' } };
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key, v: { N: '10' } } }));
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key, v: { N: '11' } } }));
    await ddb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { ...key, v: { N: '500' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      )
      .catch(() => undefined);
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key, v: { N: '12' } } }));

    const seen: Array<{
      eventName: string;
      pk: string;
      v: number | null;
      hasOld: boolean;
      hasNew: boolean;
      region: string;
      source: string;
    }> = [];
    await waitFor(
      'the stream records of key esm to reach the function',
      async () => {
        seen.push(...(await drain(queue, stack.outputs.ResultsUrl)).map((m) => JSON.parse(m.Body!)));
        return seen.filter((r) => r.pk === 'esm').length >= 3 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, describe: () => JSON.stringify(seen.filter((r) => r.pk === 'esm')) },
    );

    const esm = seen.filter((r) => r.pk === 'esm');
    expect(esm.map((r) => [r.eventName, r.v])).toEqual([
      ['INSERT', 10],
      ['MODIFY', 11],
      ['MODIFY', 12],
    ]);
    expect(esm[0]).toMatchObject({ hasOld: false, hasNew: true, region: 'us-east-1', source: 'aws:dynamodb' });
  }, 90_000);
});
