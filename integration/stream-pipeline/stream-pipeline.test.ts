/**
 * StreamPipeline end to end: the real construct with the real bundled example consumer, running
 * inside LocalStack. Records of several partition keys are put in order, one of them poison. On
 * AWS (bisect on, partial batch responses, bounded retries), every healthy record is processed
 * exactly once and in order per key, the poison record is retried and its metadata alone goes to
 * the on-failure queue, and the shard goes on: records put afterwards are processed too.
 *
 * The assertions follow AWS's semantics. LocalStack 4.13.1 without the project's stream ESM plugin
 * ignores BisectBatchOnFunctionError: a failing batch is retried and discarded whole, so the healthy
 * records behind the poison one in its batch end in the on-failure queue (the ledger shows which).
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetEventSourceMappingCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { StreamPipeline } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { drain, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

const RETRY_ATTEMPTS = 2;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
const RECORDS_PER_KEY = 8;
const POISON = { key: 'k2', seq: 3 };
const SECOND_WAVE_SEQ = 100;

/** The on-failure metadata Lambda sends for a discarded Kinesis batch (only metadata: no records). */
interface OnFailureDocument {
  readonly requestContext?: { readonly condition?: string; readonly approximateInvokeCount?: number; readonly functionArn?: string };
  readonly responseContext?: { readonly functionError?: string };
  readonly KinesisBatchInfo?: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** One record put into the stream. */
interface Put {
  readonly id: string;
  readonly key: string;
  readonly seq: number;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

describe('StreamPipeline end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;
  let kinesisClient: KinesisClient;
  const ledger = new Ledger();
  const puts: Put[] = [];
  const processedOrder = new Map<string, number[]>(); // key -> seqs in the order they were processed
  const onFailure: OnFailureDocument[] = [];
  let firstWaveSettled = false;
  let secondWaveSettled = false;

  const isPoison = (key: string, seq: number) => key === POISON.key && seq === POISON.seq;

  async function put(key: string, seq: number, previous: Map<string, string>): Promise<void> {
    const id = `${key}#${seq}`;
    const poison = isPoison(key, seq);
    const res = await kinesisClient.send(
      new PutRecordCommand({
        StreamName: stack.outputs.StreamName,
        PartitionKey: key,
        Data: Buffer.from(JSON.stringify({ key, seq, ...(poison ? { poison: true } : {}) })),
        SequenceNumberForOrdering: previous.get(key),
      }),
    );
    previous.set(key, res.SequenceNumber!);
    puts.push({ id, key, seq, shardId: res.ShardId!, sequenceNumber: res.SequenceNumber! });
    ledger.sent(id, poison ? 'dead-letter' : 'process');
  }

  /** Reads the results and the on-failure queue; marks records named by on-failure metadata as dead-lettered. */
  async function collect(): Promise<void> {
    for (const m of await drain(client, stack.outputs.ResultsUrl)) {
      const r = JSON.parse(m.Body!) as { key: string; seq: number };
      ledger.appliedEffect(`${r.key}#${r.seq}`);
      processedOrder.set(r.key, [...(processedOrder.get(r.key) ?? []), r.seq]);
    }
    for (const m of await drain(client, stack.outputs.OnFailureUrl)) {
      const doc = JSON.parse(m.Body!) as OnFailureDocument;
      onFailure.push(doc);
      const info = doc.KinesisBatchInfo;
      if (!info) continue;
      const [start, end] = [BigInt(info.startSequenceNumber), BigInt(info.endSequenceNumber)];
      for (const p of puts) {
        const n = BigInt(p.sequenceNumber);
        if (p.shardId === info.shardId && n >= start && n <= end)
          ledger.inDeadLetterQueue(p.id, doc.requestContext?.condition ?? 'unknown');
      }
    }
  }

  /** Every record put so far was processed or named by on-failure metadata (whatever was expected of it). */
  const accounted = () => ledger.totals().lost === 0;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('stream-pipeline', (s) => {
      // FIFO, one message group per partition key: the results of a key arrive in processing order.
      const results = new sqs.Queue(s, 'Results', { fifo: true, enforceSSL: true });
      const consumer = new KitFunction(s, 'Consumer', {
        handler: 'stream-pipeline/example-consumer',
        functionProps: { timeout: Duration.seconds(10), environment: { RESULTS_QUEUE_URL: results.queueUrl } },
      });
      results.grantSendMessages(consumer);
      const pipeline = new StreamPipeline(s, 'Pipeline', {
        consumer,
        streamProps: { removalPolicy: RemovalPolicy.DESTROY },
        retryAttempts: RETRY_ATTEMPTS,
        // Gather records for a few seconds, so that a batch holds healthy records behind the poison one.
        maxBatchingWindow: Duration.seconds(3),
      });
      new CfnOutput(s, 'StreamName', { value: pipeline.stream.streamName });
      new CfnOutput(s, 'StreamArn', { value: pipeline.stream.streamArn });
      new CfnOutput(s, 'OnFailureUrl', { value: pipeline.onFailureQueue.queueUrl });
      new CfnOutput(s, 'OnFailureArn', { value: pipeline.onFailureQueue.queueArn });
      new CfnOutput(s, 'ResultsUrl', { value: results.queueUrl });
      new CfnOutput(s, 'ConsumerName', { value: consumer.functionName });
    });
    client = sqsClient();
    kinesisClient = new KinesisClient(clientConfig());
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  it('deploys the mapping with bisect, partial batch responses, bounded retries and the on-failure queue', async () => {
    const lambda = new LambdaClient(clientConfig());
    const list = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: stack.outputs.ConsumerName }));
    expect(list.EventSourceMappings).toHaveLength(1);
    const esm = await lambda.send(new GetEventSourceMappingCommand({ UUID: list.EventSourceMappings![0].UUID }));
    expect(esm).toMatchObject({
      EventSourceArn: stack.outputs.StreamArn,
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: RETRY_ATTEMPTS,
      MaximumRecordAgeInSeconds: 43_200,
      DestinationConfig: { OnFailure: { Destination: stack.outputs.OnFailureArn } },
    });
    await waitFor('the mapping to be enabled', async () => {
      const state = (await lambda.send(new GetEventSourceMappingCommand({ UUID: esm.UUID }))).State;
      return state === 'Enabled' ? state : undefined;
    });
  }, 60_000);

  it('runs the records through the pipeline: first wave with a poison record, then a second wave', async () => {
    // Put in order per key, keys interleaved, each put after the previous one of its key (SequenceNumberForOrdering).
    const previous = new Map<string, string>();
    for (let seq = 0; seq < RECORDS_PER_KEY; seq++) for (const key of KEYS) await put(key, seq, previous);

    await waitFor(
      'every record of the first wave to be processed or named by on-failure metadata',
      async () => {
        await collect();
        return accounted() && onFailure.length > 0 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, describe: () => ledger.report('stream-pipeline') },
    ).then(
      () => (firstWaveSettled = true),
      (error: Error) => console.warn(error.message),
    );

    // The shard is not blocked: records put now (after the discard) are processed too.
    for (const key of KEYS) await put(key, SECOND_WAVE_SEQ, previous);
    await waitFor(
      'every record of the second wave to be processed',
      async () => {
        await collect();
        return KEYS.every((key) => processedOrder.get(key)?.includes(SECOND_WAVE_SEQ)) ? true : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 1_000, describe: () => ledger.report('stream-pipeline') },
    ).then(
      () => (secondWaveSettled = true),
      (error: Error) => console.warn(error.message),
    );

    // Quiet period, so that a late duplicate or a late on-failure document would show.
    await sleep(5_000);
    await collect();
    console.log(ledger.report('stream-pipeline'));
    console.log(`on-failure documents: ${JSON.stringify(onFailure)}`);
    expect(puts).toHaveLength(KEYS.length * (RECORDS_PER_KEY + 1));
  }, 150_000);

  it('processes every healthy record exactly once and dead-letters only the poison record (ledger)', () => {
    expect(ledger.problems()).toEqual([]);
    expect(ledger.totals()).toEqual({ sent: 54, appliedOnce: 53, inDlq: 1, lost: 0, appliedTwice: 0, unexpected: 0 });
    expect(firstWaveSettled).toBe(true);
  });

  it('keeps the order of every partition key', () => {
    for (const key of KEYS) {
      const expected = [...Array.from({ length: RECORDS_PER_KEY }, (_, i) => i).filter((seq) => !isPoison(key, seq)), SECOND_WAVE_SEQ];
      expect({ key, processed: processedOrder.get(key) ?? [] }).toEqual({ key, processed: expected });
    }
  });

  it("sends the poison record's metadata, alone, to the on-failure queue after the retries", () => {
    const poison = puts.find((p) => isPoison(p.key, p.seq))!;
    expect(onFailure).toHaveLength(1);
    expect(onFailure[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted' },
      KinesisBatchInfo: {
        shardId: poison.shardId,
        startSequenceNumber: poison.sequenceNumber,
        endSequenceNumber: poison.sequenceNumber,
        batchSize: 1,
        streamArn: stack.outputs.StreamArn,
      },
    });
  });

  it('sends metadata only: the record itself is read back from the stream by its sequence number', async () => {
    const info = onFailure[0]?.KinesisBatchInfo;
    expect(info).toBeDefined();
    const poisonData = Buffer.from(JSON.stringify({ key: POISON.key, seq: POISON.seq, poison: true })).toString('base64');
    expect(JSON.stringify(onFailure[0])).not.toContain(poisonData);
    expect(onFailure[0]).not.toHaveProperty('Records');
    const { ShardIterator } = await kinesisClient.send(
      new GetShardIteratorCommand({
        StreamName: stack.outputs.StreamName,
        ShardId: info!.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: info!.startSequenceNumber,
      }),
    );
    const { Records } = await kinesisClient.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
    expect(JSON.parse(Buffer.from(Records![0].Data!).toString('utf8'))).toEqual({ key: POISON.key, seq: POISON.seq, poison: true });
  });

  it('does not block the shard: the second wave, put after the discard, is processed', () => {
    expect(secondWaveSettled).toBe(true);
  });
});
