/** A Lambda context for calling the run-time library outside Lambda (the lock expires after `remainingMs`). */
import type { Context } from 'aws-lambda';

export function lambdaContext(remainingMs = 30_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'integration-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:integration-test',
    memoryLimitInMB: '256',
    awsRequestId: `req-${Date.now()}`,
    logGroupName: '/aws/lambda/integration-test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
