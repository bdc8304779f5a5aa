/**
 * Dead-letter-queue operations end to end, in the emulator:
 * - a WorkQueue whose consumer records failure reasons; tasks of a kind the deployed version does
 *   not support land in the DLQ; `peek` (the helper and the real CLI) shows each one with its
 *   failure reason without consuming it; the consumer is fixed (its environment updated, as a
 *   deploy would); the construct's redrive function moves the dead letters back; the ledger shows
 *   every task processed exactly once, nothing lost;
 * - the CLI redrives another DLQ at 1 message per second and Ctrl-C cancels it midway
 *   (StartMessageMoveTask with MaxNumberOfMessagesPerSecond, CancelMessageMoveTask), then purges it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DeadLetterQueueRedrive, FailureReasonStore, WorkQueue } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { S3FailureReasonStore } from '../../lambda/runtime/dlq/failure-reasons';
import { describeQueue, failureReasonLocation, latestRedrive, peekMessages } from '../../lambda/runtime/dlq/operations';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { ROOT, clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { drain, queueDepth, sendAll, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

const MAX_RECEIVE_COUNT = 2;
const CONSUMER_TIMEOUT_S = 2;
const VISIBILITY_S = 6 * CONSUMER_TIMEOUT_S;

/**
 * Environment of a child process that targets the emulator, as an operator's shell would have it
 * after `eval "$(scripts/localstack.sh env)"`: global setup applied exactly that to process.env.
 */
const cliEnv = (): NodeJS.ProcessEnv => ({ ...process.env });
const TS_NODE = path.join(ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js');

/** `npx ts-node scripts/dlq.ts <args>` (ts-node's bin run directly, so signals reach the script). */
const dlqCli = (args: string[]) =>
  promisify(execFile)(process.execPath, [TS_NODE, 'scripts/dlq.ts', ...args], { cwd: ROOT, env: cliEnv() });

describe('DeadLetterQueue operations end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;
  let lambdaClient: LambdaClient;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('dlq', (s) => {
      const results = new sqs.Queue(s, 'Results', { enforceSSL: true });
      const consumer = new KitFunction(s, 'Consumer', {
        handler: 'dead-letter-queue/consumer',
        functionProps: {
          timeout: Duration.seconds(CONSUMER_TIMEOUT_S),
          environment: { RESULTS_QUEUE_URL: results.queueUrl, SUPPORTED_KINDS: 'hash' },
        },
      });
      results.grantSendMessages(consumer);
      const tasks = new WorkQueue(s, 'Tasks', { consumer, maxReceiveCount: MAX_RECEIVE_COUNT });
      const reasons = new FailureReasonStore(s, 'Reasons', { bucketProps: { removalPolicy: RemovalPolicy.DESTROY } });
      reasons.connectRecorder(consumer);
      reasons.addDeadLetterQueue(tasks.deadLetterQueue!);
      const redrive = new DeadLetterQueueRedrive(s, 'Redrive', { sourceQueue: tasks.queue });

      // A second pair, without consumer, for the CLI's rate-limited redrive and cancel.
      const parkedDlq = new sqs.Queue(s, 'ParkedDlq', { enforceSSL: true });
      const parked = new sqs.Queue(s, 'Parked', { enforceSSL: true, deadLetterQueue: { queue: parkedDlq, maxReceiveCount: 1 } });

      new CfnOutput(s, 'QueueUrl', { value: tasks.queue.queueUrl });
      new CfnOutput(s, 'QueueArn', { value: tasks.queue.queueArn });
      new CfnOutput(s, 'DlqUrl', { value: tasks.deadLetterQueue!.queueUrl });
      new CfnOutput(s, 'ResultsUrl', { value: results.queueUrl });
      new CfnOutput(s, 'ConsumerName', { value: consumer.functionName });
      new CfnOutput(s, 'RedriveName', { value: redrive.function.functionName });
      new CfnOutput(s, 'BucketName', { value: reasons.bucket.bucketName });
      new CfnOutput(s, 'ParkedUrl', { value: parked.queueUrl });
      new CfnOutput(s, 'ParkedDlqUrl', { value: parkedDlq.queueUrl });
    });
    client = sqsClient();
    lambdaClient = new LambdaClient(clientConfig());
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  const invokeRedrive = async (payload: object) => {
    const res = await lambdaClient.send(new InvokeCommand({ FunctionName: stack.outputs.RedriveName, Payload: JSON.stringify(payload) }));
    const body = JSON.parse(Buffer.from(res.Payload ?? []).toString() || 'null');
    if (res.FunctionError) throw new Error(`redrive function failed: ${JSON.stringify(body)}`);
    return body as { outcome: string; task?: { status: string; moved: number } };
  };

  it('dead-letters unsupported tasks with their reasons, and after the fix redrives each one to be processed once', async () => {
    const ledger = new Ledger();
    const entries = Array.from({ length: 20 }, (_, i) => {
      const kind = i % 4 === 1 ? 'v2' : 'hash';
      return { Id: `task-${i}`, MessageBody: JSON.stringify({ taskId: `task-${i}`, kind }) };
    });
    for (const e of entries) ledger.sent(e.Id, 'process'); // every task must end processed once: v2 ones after the redrive
    const messageIds = await sendAll(client, stack.outputs.QueueUrl, entries);
    const v2Ids = new Set(entries.filter((e) => e.MessageBody.includes('"v2"')).map((e) => messageIds.get(e.Id)!));

    const collect = async () => {
      for (const m of await drain(client, stack.outputs.ResultsUrl))
        ledger.appliedEffect((JSON.parse(m.Body!) as { taskId: string }).taskId);
    };

    // 1. The v2 tasks fail MAX_RECEIVE_COUNT times each and land in the DLQ; the rest are processed.
    const started = Date.now();
    await waitFor(
      'hash tasks processed and v2 tasks dead-lettered',
      async () => {
        await collect();
        const dlq = await queueDepth(client, stack.outputs.DlqUrl);
        return ledger.appliedCount === 15 && dlq.visible === 5 ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 2_000, describe: () => ledger.report('dlq before redrive') },
    );
    console.log(`v2 tasks in the DLQ after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // 2. Peek (helper): every dead letter with its reason, found through the DLQ's tag; none consumed.
    const dlq = await describeQueue(client, stack.outputs.DlqUrl);
    const location = await failureReasonLocation(client, dlq.url);
    expect(location).toEqual({ bucketName: stack.outputs.BucketName, prefix: 'reasons/' });
    const reasons = new S3FailureReasonStore({ ...location!, client: new S3Client(clientConfig()) });
    const peeked = await peekMessages(client, dlq, { max: 10, reasons });
    expect(new Set(peeked.map((m) => m.messageId))).toEqual(v2Ids);
    for (const m of peeked) {
      expect(m.sourceQueueArn).toBe(stack.outputs.QueueArn);
      expect(m.reason).toMatchObject({
        messageId: m.messageId,
        errorName: 'UnsupportedTaskError',
        errorMessage: expect.stringMatching(/kind 'v2' is not supported by this version \(supported: hash\)/),
        receiveCount: MAX_RECEIVE_COUNT,
        queueArn: stack.outputs.QueueArn,
        functionName: stack.outputs.ConsumerName,
      });
    }
    expect((await queueDepth(client, dlq.url)).visible).toBe(5);

    // 3. Peek (the operator's CLI, a real child process): same messages and reasons, still none consumed.
    const { stdout } = await dlqCli(['peek', '--queue', dlq.url, '--json']);
    const cliPeek = JSON.parse(stdout) as Array<{ messageId: string; reason?: { errorName: string } }>;
    expect(new Set(cliPeek.map((m) => m.messageId))).toEqual(v2Ids);
    expect(cliPeek.every((m) => m.reason?.errorName === 'UnsupportedTaskError')).toBe(true);
    expect((await queueDepth(client, dlq.url)).visible).toBe(5);

    // 4. The fix: a new version that supports v2 (its environment updated, as a deploy does). A
    //    canary task proves the fix is live before the operator redrives.
    const current = await lambdaClient.send(new GetFunctionConfigurationCommand({ FunctionName: stack.outputs.ConsumerName }));
    await lambdaClient.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: stack.outputs.ConsumerName,
        Environment: { Variables: { ...current.Environment?.Variables, SUPPORTED_KINDS: 'hash,v2' } },
      }),
    );
    await waitFor(
      'the consumer update',
      async () => {
        const c = await lambdaClient.send(new GetFunctionConfigurationCommand({ FunctionName: stack.outputs.ConsumerName }));
        return c.LastUpdateStatus === 'Successful' && c.Environment?.Variables?.SUPPORTED_KINDS === 'hash,v2' ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    ledger.sent('canary', 'process');
    await sendAll(client, stack.outputs.QueueUrl, [{ Id: 'canary', MessageBody: JSON.stringify({ taskId: 'canary', kind: 'v2' }) }]);
    await waitFor(
      'the canary v2 task to be processed',
      async () => {
        await collect();
        return ledger.appliedCount === 16 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, describe: () => ledger.report('dlq canary') },
    );

    // 5. Redrive with the construct's function; it reports its task and refuses a second one while it runs.
    const redriveStarted = Date.now();
    const start = await invokeRedrive({ action: 'start' });
    expect(start.outcome).toBe('started');
    const done = await waitFor(
      'the redrive to complete',
      async () => {
        const status = await invokeRedrive({ action: 'status' });
        return status.task?.status === 'COMPLETED' ? status.task : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(done.moved).toBe(5);
    console.log(`redrive of 5 messages completed in ${((Date.now() - redriveStarted) / 1000).toFixed(1)} s`);

    // 6. Every redriven task is processed once; the DLQ and the queue end empty; a quiet period
    //    of more than one visibility timeout shows no late duplicate.
    await waitFor(
      'every task processed',
      async () => {
        await collect();
        return ledger.settled ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000, describe: () => ledger.report('dlq after redrive') },
    );
    await sleep((VISIBILITY_S + 3) * 1000);
    await collect();
    console.log(ledger.report('dead-letter-queue'));
    expect(ledger.problems()).toEqual([]);
    expect(ledger.totals()).toEqual({ sent: 21, appliedOnce: 21, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 });
    expect(await queueDepth(client, stack.outputs.DlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await queueDepth(client, stack.outputs.QueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect((await invokeRedrive({ action: 'start', trigger: 'schedule' })).outcome).toBe('empty');
  }, 480_000);

  it('the CLI redrives at the given rate and Ctrl-C cancels it midway; purge empties the DLQ', async () => {
    // Prepare: 10 messages dead-lettered the real way (received past maxReceiveCount 1).
    const parked = stack.outputs.ParkedUrl;
    const parkedDlq = stack.outputs.ParkedDlqUrl;
    await sendAll(
      client,
      parked,
      Array.from({ length: 10 }, (_, i) => ({ Id: `p${i}`, MessageBody: `parked ${i}` })),
    );
    await waitFor(
      '10 dead letters',
      async () => {
        await client.send(new ReceiveMessageCommand({ QueueUrl: parked, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
        return (await queueDepth(client, parkedDlq)).visible === 10 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    // Act: redrive at 1 msg/s, showing progress; Ctrl-C once at least 2 have moved.
    const child: ChildProcess = spawn(process.execPath, [TS_NODE, 'scripts/dlq.ts', 'redrive', '--queue', parkedDlq, '--rate', '1'], {
      cwd: ROOT,
      env: cliEnv(),
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('the CLI to show 2 messages moved', async () => (/\] +[2-9]\/10 moved/.test(out) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 100,
      describe: () => `stdout: ${out}\nstderr: ${err}`,
    });
    child.kill('SIGINT');
    const code = await exited;

    // Assess: cancelled midway; every message is in exactly one of the two queues.
    expect({ code, err }).toEqual({ code: 0, err: expect.stringMatching(/cancelling the redrive/) });
    const summary = /redrive cancelled, (\d+) messages moved/.exec(out);
    expect(summary).not.toBeNull();
    const dlqArn = (await describeQueue(client, parkedDlq)).arn;
    const task = await latestRedrive(client, dlqArn);
    expect(task).toMatchObject({ status: 'CANCELLED', maxMessagesPerSecond: 1 });
    const inSource = (await queueDepth(client, parked)).visible;
    const inDlq = (await queueDepth(client, parkedDlq)).visible;
    console.log(
      `CLI redrive at 1 msg/s cancelled after ${task?.moved} messages: ${inSource} in the source queue, ${inDlq} still in the DLQ`,
    );
    expect(inSource + inDlq).toBe(10);
    expect(inSource).toBe(task?.moved);
    expect(inSource).toBeGreaterThanOrEqual(2);
    expect(inDlq).toBeGreaterThanOrEqual(1);
    expect(out).toMatch(/redrive started \(10 messages, to their source queues, at most 1 msg\/s\)/);

    // Purge the rest for good with the CLI.
    const purge = await dlqCli(['purge', '--queue', parkedDlq, '--yes']);
    expect(purge.stdout).toMatch(/deleted about \d+ message/);
    await waitFor('the DLQ to be empty', async () => ((await queueDepth(client, parkedDlq)).visible === 0 ? true : undefined), {
      timeoutMs: 10_000,
    });
  }, 180_000);
});
