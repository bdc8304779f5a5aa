/** CloudWatch Logs helpers for integration tests: what the deployed functions logged. */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { clientConfig } from './env';

/**
 * Every log message of the functions' log groups (`/aws/lambda/<name>`) that matches
 * `filterPattern`, in the order the emulator returns them, each event once (deduplicated by event
 * id across pages). A log group that does not exist yet, or a failing read, ends that group's
 * reading without an error: logs arrive asynchronously, so callers poll or assert on what they got.
 */
export async function logMessages(functionNames: readonly string[], filterPattern?: string): Promise<string[]> {
  const logs = new CloudWatchLogsClient(clientConfig());
  const out: string[] = [];
  const seen = new Set<string>();
  for (const functionName of functionNames) {
    let nextToken: string | undefined;
    do {
      const res = await logs
        .send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${functionName}`, nextToken, filterPattern }))
        .catch(() => undefined);
      for (const e of res?.events ?? []) {
        if (seen.has(e.eventId!)) continue;
        seen.add(e.eventId!);
        out.push(e.message ?? '');
      }
      nextToken = res?.nextToken;
    } while (nextToken);
  }
  return out;
}

/** One failed record, as the batch helper logs it ("message processing failed"). */
export interface LoggedFailure {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly errorName: string;
  readonly errorMessage: string;
}

const FAILED = 'message processing failed';

/**
 * The failures the functions logged through the batch helper (one structured line per failed
 * record), by SQS message id, each message's list in receive-count order.
 */
export async function loggedFailures(functionNames: readonly string[]): Promise<Map<string, LoggedFailure[]>> {
  const byMessage = new Map<string, LoggedFailure[]>();
  for (const message of await logMessages(functionNames, `"${FAILED}"`)) {
    const at = message.indexOf('{');
    if (at < 0) continue;
    try {
      const f = JSON.parse(message.slice(at).replace(/\r/g, '\n')) as LoggedFailure & { message: string };
      if (f.message === FAILED) byMessage.set(f.messageId, [...(byMessage.get(f.messageId) ?? []), f]);
    } catch {
      // not a failure line
    }
  }
  for (const list of byMessage.values()) list.sort((a, b) => a.receiveCount - b.receiveCount);
  return byMessage;
}
