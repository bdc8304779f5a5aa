/**
 * `npm start`: the demo. Deploys the showcase app (bin/) into the embedded LocalStack with cdklocal,
 * then drives real messages through each pattern and prints what happened. LocalStack keeps running
 * afterwards, so you can explore (scripts/start.sh prints how); `bash scripts/localstack.sh stop`
 * stops it.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { S3ClaimCheck } from '../lambda/runtime/claim-check';
import { PriorityQueueProducer, parsePriorityQueueConfig } from '../lambda/runtime/priority-queue';
import { SqsRequester } from '../lambda/runtime/request-reply';
import { ConvoyProducer } from '../lambda/runtime/sequential-convoy';

const ROOT = path.resolve(__dirname, '..');
const STACK = 'MessagingPatternsShowcase';
const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
const clientConfig = {
  endpoint,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
const sqs = new SQSClient(clientConfig);

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const section = (title: string) => console.log(`\n${bold(`== ${title}`)}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cdklocal(args: string[]): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'aws-cdk-local', 'bin', 'cdklocal'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CDK_DEFAULT_ACCOUNT: '000000000000', CDK_DEFAULT_REGION: clientConfig.region, CDK_DISABLE_VERSION_CHECK: '1' },
  });
}

/** Everything the example consumers reported, collected as it arrives. */
const results: Array<Record<string, unknown>> = [];
async function collectResults(resultsUrl: string): Promise<void> {
  const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: resultsUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  const messages = res.Messages ?? [];
  if (messages.length === 0) return;
  for (const m of messages) results.push(JSON.parse(m.Body!) as Record<string, unknown>);
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: resultsUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    }),
  );
}

async function waitForResults<T>(
  resultsUrl: string,
  what: string,
  pick: (r: Record<string, unknown>) => boolean,
  count: number,
  timeoutMs = 90_000,
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = results.filter(pick);
    if (got.length >= count) return got as T[];
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${got.length} of ${count})`);
    await collectResults(resultsUrl);
  }
}

async function main(): Promise<void> {
  section('Deploying the showcase app into LocalStack (cdklocal)');
  const outputsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'showcase-')), 'outputs.json');
  cdklocal(['deploy', STACK, '--require-approval', 'never', '--outputs-file', outputsFile, '--progress', 'events']);
  const out = (JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[STACK];

  section('WorkQueue: competing consumers with partial batch responses');
  const taskIds = ['resize-1', 'resize-2', 'flaky-1', 'resize-3'];
  for (const taskId of taskIds) {
    const kind = taskId.startsWith('flaky') ? 'flaky' : 'hash';
    await sqs.send(new SendMessageCommand({ QueueUrl: out.TasksUrl, MessageBody: JSON.stringify({ taskId, kind, input: taskId }) }));
  }
  console.log(`sent ${taskIds.length} tasks; 'flaky-1' fails on its first delivery and is retried alone`);
  const done = await waitForResults<{ taskId: string; receiveCount: number; result: string }>(
    out.ResultsUrl,
    'task results',
    (r) => taskIds.includes(String(r.taskId)),
    taskIds.length,
  );
  for (const r of done) console.log(`  ${r.taskId.padEnd(10)} processed on delivery ${r.receiveCount}  sha256 ${r.result.slice(0, 12)}…`);

  section('PriorityQueue (weighted mode): three low-priority tasks sent first, then three high');
  const priorities = new PriorityQueueProducer({ config: parsePriorityQueueConfig(out.PriorityQueueConfig), client: sqs });
  const prioIds: string[] = [];
  for (const [i, priority] of ['low', 'low', 'low', 'high', 'high', 'high'].entries()) {
    const taskId = `prio-${i}-${priority}`;
    prioIds.push(taskId);
    await priorities.send(JSON.stringify({ taskId }), { priority });
  }
  const prio = await waitForResults<{ taskId: string; level: string; processedAt: number }>(
    out.ResultsUrl,
    'priority results',
    (r) => prioIds.includes(String(r.taskId)),
    prioIds.length,
  );
  console.log(
    `  processing order: ${prio
      .sort((a, b) => a.processedAt - b.processedAt)
      .map((r) => r.level)
      .join(' → ')}`,
  );
  console.log('  weighted mode gives each level its own consumers (11/6/3 of maxConcurrency in AWS), so a backlog of high');
  console.log('  drains faster; it is not strict precedence (mode: STRICT is). LocalStack ignores the concurrency caps.');

  section('DelayQueue: a reminder delivered 5 seconds later');
  const lambda = new LambdaClient(clientConfig);
  const reminderId = `reminder-${Date.now().toString(36)}`;
  const scheduled = await lambda.send(
    new InvokeCommand({
      FunctionName: out.ReminderSchedulerFunction,
      Payload: Buffer.from(
        JSON.stringify({ body: JSON.stringify({ taskId: reminderId, kind: 'hash', input: 'renew' }), delaySeconds: 5, id: reminderId }),
      ),
    }),
  );
  console.log(`  scheduled: ${Buffer.from(scheduled.Payload ?? []).toString()}`);
  const t0 = Date.now();
  await waitForResults(out.ResultsUrl, 'the reminder', (r) => r.taskId === reminderId, 1);
  console.log(
    `  the reminder was processed ${((Date.now() - t0) / 1000).toFixed(1)} s after it was scheduled (delays over 15 minutes go through EventBridge Scheduler)`,
  );

  section('SequentialConvoy: per-order event order, orders in parallel');
  const convoy = new ConvoyProducer<{ entityId: string; seq: number; eventId: string }>({
    queueUrl: out.OrderEventsUrl,
    groupBy: 'entityId',
    deduplicationId: 'eventId',
    client: sqs,
  });
  const orders = ['order-a', 'order-b', 'order-c'];
  const run = Date.now().toString(36);
  const events = [1, 2, 3].flatMap((seq) =>
    orders.map((entityId) => ({ entityId: `${entityId}-${run}`, seq, eventId: `${entityId}-${run}-${seq}` })),
  );
  await convoy.sendAll(events);
  console.log(`  sent ${events.length} events, interleaved across ${orders.length} orders`);
  const ddb = new DynamoDBClient(clientConfig);
  for (const order of orders) {
    const entityId = `${order}-${run}`;
    let applied: string[] = [];
    for (let i = 0; i < 60 && applied.length < 3; i++) {
      const item = await ddb.send(new GetItemCommand({ TableName: out.OrderProjectionsTable, Key: { entityId: { S: entityId } } }));
      applied = (item.Item?.applied?.L ?? []).map((v) => v.N ?? '?');
      if (applied.length < 3) await sleep(1000);
    }
    console.log(`  ${order}: events applied in order ${applied.join(', ')}`);
  }

  section('ClaimCheck: a 1 MiB report through a queue');
  const claims = new S3ClaimCheck({ bucketName: out.ClaimsBucket });
  const report = JSON.stringify({ id: `report-${run}`, data: randomBytes(768 * 1024).toString('base64') });
  const body = await claims.checkIn(report);
  await sqs.send(new SendMessageCommand({ QueueUrl: out.ReportsUrl, MessageBody: body }));
  console.log(
    `  ${(Buffer.byteLength(report) / 1024).toFixed(0)} KiB payload stored in S3; the message carries a ${Buffer.byteLength(body)}-byte claim`,
  );
  const [got] = await waitForResults<{ claimed: boolean; bytes: number; sha256: string }>(
    out.ResultsUrl,
    'the report',
    (r) => r.id === `report-${run}`,
    1,
  );
  const same = got.sha256 === createHash('sha256').update(report).digest('hex');
  console.log(
    `  the consumer checked out ${got.bytes} bytes through the claim (${got.claimed ? 'claimed' : 'inline'}); SHA-256 ${same ? 'matches' : 'DIFFERS'}`,
  );

  section('RequestReply: ask the calculator');
  const requester = new SqsRequester({
    requestQueueUrl: out.CalculationsUrl,
    requestQueueArn: out.CalculationsArn,
    replyQueuePrefix: out.CalculationsReplyPrefix,
    client: sqs,
    logger: null,
  });
  await requester.start();
  try {
    const t1 = Date.now();
    const reply = await requester.request<{ op: string; a: number; b: number }, { result: number }>(
      { op: 'add', a: 20, b: 22 },
      { timeoutMs: 30_000 },
    );
    console.log(
      `  20 + 22 = ${reply.result} (round trip ${Date.now() - t1} ms through the request queue, the responder Lambda and a private reply queue)`,
    );
  } finally {
    await requester.close();
  }

  section('Idempotent consumer: the same payment sent twice is applied once');
  const paymentId = `pay-${run}`;
  const accountId = `acct-${run}`;
  const payment = JSON.stringify({ paymentId, accountId, amountCents: 2500 });
  for (let i = 0; i < 2; i++) {
    // a producer retry: same idempotency key, a new SQS message
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: out.PaymentsUrl,
        MessageBody: payment,
        MessageAttributes: { idempotencyKey: { DataType: 'String', StringValue: paymentId } },
      }),
    );
  }
  let account: Record<string, { N?: string; L?: unknown[] }> | undefined;
  for (let i = 0; i < 60; i++) {
    account = (await ddb.send(new GetItemCommand({ TableName: out.PaymentsLedgerTable, Key: { pk: { S: `account#${accountId}` } } })))
      .Item as typeof account;
    if (account) break;
    await sleep(1000);
  }
  await sleep(3000); // time for the second copy to be processed (and found to be a duplicate)
  account = (await ddb.send(new GetItemCommand({ TableName: out.PaymentsLedgerTable, Key: { pk: { S: `account#${accountId}` } } })))
    .Item as typeof account;
  console.log(
    `  2 messages sent; account balance ${(Number(account?.balanceCents?.N ?? 0) / 100).toFixed(2)} (one payment of 25.00), payments applied: ${account?.paymentIds?.L?.length ?? 0}`,
  );

  section('Explore');
  console.log(`  LocalStack keeps running at ${endpoint} with the stack ${STACK}.`);
  console.log('  eval "$(bash scripts/localstack.sh env)"            # point the AWS SDK / CLI / cdklocal at it');
  console.log(`  npx ts-node scripts/dlq.ts peek --queue ${out.TasksDlqUrl}`);
  console.log('  bash scripts/localstack.sh stop                      # stop it');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
