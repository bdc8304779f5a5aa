import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

let seq = 0;

/** An SQS record as the event source mapping delivers it. */
export function sqsRecord(body: unknown, opts: { fifo?: boolean; groupId?: string; receiveCount?: number; id?: string } = {}): SQSRecord {
  seq += 1;
  const id = opts.id ?? `msg-${seq}`;
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(opts.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(opts.fifo ? { MessageGroupId: opts.groupId ?? 'g1', MessageDeduplicationId: `d-${id}`, SequenceNumber: String(seq) } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:tasks${opts.fifo ? '.fifo' : ''}`,
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

/** A Lambda context with a fixed remaining time. */
export function lambdaContext(remainingMs = 30_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'test-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test-fn',
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/test-fn',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
