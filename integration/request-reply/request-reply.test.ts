/**
 * RequestReply end to end, in the emulator: the deployed construct with the kit's example responder
 * (a Lambda function fed by the request queue); requesters are SqsRequester instances in this
 * process, each with its own reply queue created at run time, exactly as a service would use them.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, ListQueuesCommand, type SQSClient, SendMessageCommand, TagQueueCommand } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import { RequestReply } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { RequestRejectedError, RequestTimeoutError } from '../../lambda/runtime/request-reply/errors';
import { HEARTBEAT_TAG } from '../../lambda/runtime/request-reply/protocol';
import { type DroppedReply, SqsRequester } from '../../lambda/runtime/request-reply/requester';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { queueDepth, sqsClient } from '../harness/sqs';
import { waitFor } from '../harness/wait';

interface AddReply {
  requestId?: string;
  result: unknown;
}

describe('RequestReply end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;
  const requesters: SqsRequester[] = [];

  const newRequester = (onDroppedReply?: (d: DroppedReply) => void) => {
    const r = new SqsRequester({
      requestQueueUrl: stack.outputs.RequestQueueUrl,
      requestQueueArn: stack.outputs.RequestQueueArn,
      replyQueuePrefix: stack.outputs.ReplyQueuePrefix,
      client,
      defaultTimeoutMs: 30_000,
      logger: null,
      onDroppedReply,
    });
    requesters.push(r);
    return r;
  };

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('request-reply', (s) => {
      const responder = new KitFunction(s, 'Responder', {
        handler: 'request-reply/responder',
        functionProps: { timeout: Duration.seconds(10) },
      });
      const rr = new RequestReply(s, 'Quotes', { responder, maxReceiveCount: 2, replyQueueIdleTimeout: Duration.minutes(5) });
      new CfnOutput(s, 'RequestQueueUrl', { value: rr.requestQueue.queueUrl });
      new CfnOutput(s, 'RequestQueueArn', { value: rr.requestQueue.queueArn });
      new CfnOutput(s, 'DlqUrl', { value: rr.deadLetterQueue!.queueUrl });
      new CfnOutput(s, 'ReplyQueuePrefix', { value: rr.replyQueuePrefix });
      new CfnOutput(s, 'ReaperName', { value: rr.reaper.functionName });
    });
    client = sqsClient();
  }, 600_000);

  afterAll(async () => {
    await Promise.all(requesters.map((r) => r.close().catch(() => undefined)));
    await stack?.destroy();
  }, 300_000);

  it('gives each of many concurrent requests, from two requester instances, its own reply', async () => {
    const a = newRequester();
    const b = newRequester();
    await Promise.all([a.start(), b.start()]);
    expect(await a.replyQueueUrl()).not.toBe(await b.replyQueueUrl());

    const round = async (label: string) => {
      const started = Date.now();
      const calls = [a, b].flatMap((requester, r) =>
        Array.from({ length: 10 }, async (_, i) => {
          const requestId = `${label}-${r ? 'b' : 'a'}-${i}`;
          const t0 = Date.now();
          const reply = await requester.request<object, AddReply>({ op: 'add', a: i, b: 100 * (r + 1), requestId }, { timeoutMs: 30_000 });
          return { requestId, reply, ms: Date.now() - t0 };
        }),
      );
      const results = await Promise.all(calls);
      const latencies = results.map((x) => x.ms).sort((x, y) => x - y);
      console.log(
        `${label}: 20 concurrent requests from 2 requesters answered in ${Date.now() - started} ms (latency p50 ${latencies[10]} ms, max ${latencies[19]} ms)`,
      );
      for (const { requestId, reply } of results) {
        const [, who, i] = requestId.split('-');
        expect(reply).toEqual({ requestId, result: Number(i) + (who === 'a' ? 100 : 200) });
      }
    };
    await round('cold');
    await round('warm');
    expect(a.stats).toMatchObject({ sent: 20, replied: 20, dropped: 0, timedOut: 0, replyQueuesCreated: 1 });
    expect(b.stats).toMatchObject({ sent: 20, replied: 20, dropped: 0, timedOut: 0, replyQueuesCreated: 1 });
  }, 120_000);

  it('surfaces a typed timeout and a typed rejection, and drops late and unknown replies without delivering them to a waiting request', async () => {
    const dropped: DroppedReply[] = [];
    const c = newRequester((d) => dropped.push(d));
    await c.start();

    // X times out (the responder answers it after 4 s); Y waits for its own, slower answer.
    const x = c.request<object, AddReply>({ op: 'echo', input: 'x', delayMs: 4_000 }, { timeoutMs: 2_000 }).catch((e: unknown) => e);
    const y = c.request<object, AddReply>({ op: 'echo', input: 'y', delayMs: 7_000 }, { timeoutMs: 30_000 });
    const rejected = c.request<object, AddReply>({ op: 'add', a: 'not a number', b: 1 }).catch((e: unknown) => e);

    // A reply with a correlation id this requester never issued, while Y waits.
    await client.send(
      new SendMessageCommand({
        QueueUrl: await c.replyQueueUrl(),
        MessageBody: JSON.stringify({ result: 'forged' }),
        MessageAttributes: {
          CorrelationId: { DataType: 'String', StringValue: 'b7a0b7f0-0000-4000-8000-000000000000' },
          ReplyStatus: { DataType: 'String', StringValue: 'ok' },
        },
      }),
    );

    const timeout = await x;
    expect(timeout).toBeInstanceOf(RequestTimeoutError);
    expect(timeout).toMatchObject({ name: 'RequestTimeoutError', timeoutMs: 2_000 });
    const rejection = await rejected;
    expect(rejection).toBeInstanceOf(RequestRejectedError);
    expect(rejection).toMatchObject({ remoteName: 'RejectRequestError', remoteMessage: 'add needs numbers a and b' });

    // Y gets its own reply; X's late reply (answered at ~4 s) and the forged one were dropped meanwhile.
    await expect(y).resolves.toEqual({ result: 'y' });
    await waitFor('both stray replies to be dropped', async () => (dropped.length >= 2 ? true : undefined), { timeoutMs: 5_000 });
    expect(dropped.map((d) => [d.reason, d.correlationId]).sort()).toEqual(
      [
        ['expired', (timeout as RequestTimeoutError).correlationId],
        ['unknown', 'b7a0b7f0-0000-4000-8000-000000000000'],
      ].sort(),
    );
    expect(c.stats).toMatchObject({ sent: 3, replied: 1, rejected: 1, timedOut: 1, dropped: 2 });
    expect(await queueDepth(client, await c.replyQueueUrl())).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await queueDepth(client, stack.outputs.DlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 120_000);

  it("the reaper deletes a reply queue whose requester went idle, and close() deletes a requester's own", async () => {
    const idle = newRequester();
    const active = newRequester();
    const [idleUrl, activeUrl] = await Promise.all([idle.replyQueueUrl(), active.replyQueueUrl()]);
    // The idle requester last used its queue an hour ago (its heartbeat tag says so).
    await client.send(new TagQueueCommand({ QueueUrl: idleUrl, Tags: { [HEARTBEAT_TAG]: String(Math.floor(Date.now() / 1000) - 3600) } }));

    const lambda = new LambdaClient(clientConfig());
    const res = await lambda.send(new InvokeCommand({ FunctionName: stack.outputs.ReaperName, Payload: '{}' }));
    expect(res.FunctionError).toBeUndefined();
    const reaped = JSON.parse(Buffer.from(res.Payload!).toString()) as { checked: number; deleted: string[] };
    expect(reaped.deleted.map((u) => u.split('/').pop())).toEqual([idleUrl.split('/').pop()]);
    const name = (url: string) => url.split('/').pop()!;
    const exists = async (url: string) =>
      client.send(new GetQueueUrlCommand({ QueueName: name(url) })).then(
        () => true,
        () => false,
      );
    expect(await exists(idleUrl)).toBe(false);
    expect(await exists(activeUrl)).toBe(true);

    await active.close();
    expect(await exists(activeUrl)).toBe(false);
    const left = await client.send(new ListQueuesCommand({ QueueNamePrefix: stack.outputs.ReplyQueuePrefix }));
    console.log(
      `reply queues left after the reaper and close(): ${left.QueueUrls?.length ?? 0} (other tests' requesters, closed in afterAll)`,
    );
  }, 60_000);
});
