/**
 * Fault injection of the kit's relay, for the integration tests only (`FAULT_INJECTION=on`; the
 * construct never sets it). An outbox event asks for a fault in its metadata:
 *
 * - `{ "fault": "publish-fail", "failures": n }`: the target refuses the event with a retryable
 *   error (`ThrottlingException`, SNS `InternalError`, Kinesis `ProvisionedThroughputExceededException`)
 *   the first n times it is sent;
 * - `{ "fault": "crash-after-publish" }`: the relay's process exits once the batch holding the
 *   event is published, before it marks records or answers Lambda: the first time only.
 *
 * Counts live in `/tmp` (the same across the process replacements that follow a crash).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const DIR = path.join(process.env.TMPDIR ?? '/tmp', 'cmp-outbox-relay-faults');

/** How many times the fault of `eventId` fired so far, counted up by one. */
function countUp(kind: string, eventId: string): number {
  fs.mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, `${kind}-${eventId.replace(/[^A-Za-z0-9_-]/g, '_')}`);
  const n = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) || 0 : 0;
  fs.writeFileSync(file, String(n + 1));
  return n;
}

interface Envelope {
  readonly eventId?: string;
  readonly metadata?: { readonly fault?: string; readonly failures?: number };
}

function envelopeOf(text: unknown): Envelope | undefined {
  const s = typeof text === 'string' ? text : text instanceof Uint8Array ? Buffer.from(text).toString('utf8') : undefined;
  if (!s) return undefined;
  try {
    return JSON.parse(s) as Envelope;
  } catch {
    return undefined;
  }
}

/** Whether this delivery of the entry should fail. */
function shouldFail(envelope: Envelope | undefined): boolean {
  if (envelope?.metadata?.fault !== 'publish-fail' || !envelope.eventId) return false;
  return countUp('publish', envelope.eventId) < (envelope.metadata.failures ?? 1);
}

const LISTS: Record<string, { list: string; payload: string }> = {
  PutEventsCommand: { list: 'Entries', payload: 'Detail' },
  PublishBatchCommand: { list: 'PublishBatchRequestEntries', payload: 'Message' },
  PutRecordsCommand: { list: 'Records', payload: 'Data' },
};

type Args = { input: Record<string, unknown> };
type Next = (args: Args) => Promise<{ output: Record<string, unknown>; response: unknown }>;

/** Adds the `publish-fail` fault to a target client: failed entries never reach the service, and come back failed as AWS reports them. */
export function injectPublishFaults<C extends { middlewareStack: unknown }>(client: C): C {
  const middleware = (next: Next, context: { commandName?: string }) => async (args: Args) => {
    const shape = LISTS[context.commandName ?? ''];
    if (!shape) return next(args);
    const entries = args.input[shape.list] as Array<Record<string, unknown>>;
    const fail = entries.map((e) => shouldFail(envelopeOf(e[shape.payload])));
    if (!fail.some(Boolean)) return next(args);
    const kept = entries.filter((_, i) => !fail[i]);
    const output = kept.length > 0 ? (await next({ ...args, input: { ...args.input, [shape.list]: kept } })).output : { $metadata: {} };
    if (context.commandName === 'PublishBatchCommand') {
      const failed = entries
        .filter((_, i) => fail[i])
        .map((e) => ({ Id: e.Id, Code: 'InternalError', Message: 'injected publish failure', SenderFault: false }));
      return { response: {}, output: { ...output, Failed: [...((output.Failed as unknown[]) ?? []), ...failed] } };
    }
    const events = context.commandName === 'PutEventsCommand';
    const results = (events ? output.Entries : output.Records) as unknown[] | undefined;
    const injected = {
      ErrorCode: events ? 'ThrottlingException' : 'ProvisionedThroughputExceededException',
      ErrorMessage: 'injected publish failure',
    };
    let k = 0;
    const merged = entries.map((_, i) => (fail[i] ? injected : (results?.[k++] ?? {})));
    const failedCount = merged.filter((r) => Boolean((r as { ErrorCode?: unknown }).ErrorCode)).length;
    return events
      ? { response: {}, output: { ...output, Entries: merged, FailedEntryCount: failedCount } }
      : { response: {}, output: { ...output, Records: merged, FailedRecordCount: failedCount } };
  };
  const stack = client.middlewareStack as { add(mw: typeof middleware, options: { step: 'initialize'; name: string }): void };
  stack.add(middleware, { step: 'initialize', name: 'outboxRelayFaults' });
  return client;
}

/** The `crash-after-publish` fault: exits the process the first time a batch holding such an event is published. */
export function crashAfterPublish(
  published: ReadonlyArray<{ readonly eventId: string; readonly metadata?: Record<string, unknown> }>,
): void {
  const victim = published.find((r) => r.metadata?.fault === 'crash-after-publish');
  if (victim && countUp('crash', victim.eventId) === 0) {
    console.error(JSON.stringify({ level: 'ERROR', message: 'injected crash after publish', eventId: victim.eventId }));
    process.exit(1);
  }
}
