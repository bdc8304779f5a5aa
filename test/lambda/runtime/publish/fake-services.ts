/**
 * Fake SNS, EventBridge and Kinesis endpoints as SDK v3 request handlers: the real client
 * serialises, signs and deserialises; the fake parses the wire request, fails entries or whole calls
 * as its fault plan says (seeded PRNG), and records what it accepted, in order.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SNSClient } from '@aws-sdk/client-sns';

/** A small seeded PRNG (mulberry32), so every fault plan is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One entry as the fake saw it on the wire. */
export interface WireEntry {
  /** The publisher's entry id, carried in the payload by the tests (`id` field of the JSON body). */
  readonly id: string;
  /** The ordering key on the wire: MessageGroupId, PartitionKey, or the `key` field of the payload. */
  readonly key?: string;
  readonly bytes: number;
  /** SNS: the batch entry id on the wire. */
  readonly batchId?: string;
}

/** What to do with one entry: accept it, or fail it with a code. */
export type EntryFault = { readonly code: string; readonly message?: string; readonly senderFault?: boolean } | undefined;

export interface FaultPlan {
  /** Called once per call, before its entries: return an error type to fail the whole call (HTTP 400, or 500 for `InternalFailure`). */
  readonly call?: (call: number) => string | undefined;
  /** Called per entry of a call that goes through. */
  readonly entry?: (entry: WireEntry, call: number) => EntryFault;
  /** Drop an accepted entry from the response (neither Successful nor Failed). */
  readonly omit?: (entry: WireEntry, call: number) => boolean;
}

/** A fault plan that fails a share of entries and of calls at random (seeded). */
export function randomFaults(
  seed: number,
  shares: { entry: number; call?: number; permanent?: number },
  codes: { retryable: string; permanent: string; call?: string },
): FaultPlan {
  const random = prng(seed);
  return {
    call: () => (random() < (shares.call ?? 0) ? (codes.call ?? 'ThrottlingException') : undefined),
    entry: () => {
      if (random() >= shares.entry) return undefined;
      return random() < (shares.permanent ?? 0)
        ? { code: codes.permanent, message: 'refused for good', senderFault: true }
        : { code: codes.retryable, message: 'try again', senderFault: false };
    },
  };
}

interface Outcome {
  readonly entry: WireEntry;
  readonly accepted: boolean;
  readonly omitted?: boolean;
  readonly fault?: EntryFault;
  readonly serial: number;
}

/** The part every fake shares: call counting, fault plan, the record of what was accepted. */
abstract class FakeService {
  /** Entries of each call, as received. */
  public readonly calls: WireEntry[][] = [];
  /** Every entry accepted, in the order the service stored it. */
  public readonly accepted: WireEntry[] = [];
  public readonly metadata = { handlerProtocol: 'http/1.1' };
  private serial = 0;
  private inFlight = 0;
  /** The most calls that were in flight at once. */
  public maxInFlight = 0;

  constructor(
    public plan: FaultPlan = {},
    private readonly latencyMs: (call: number) => number = () => 0,
  ) {}

  public async handle(request: { headers: Record<string, string>; body?: unknown }): Promise<{ response: FakeResponse }> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const call = this.calls.length;
      const body =
        request.body instanceof Uint8Array
          ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8')
          : String(request.body ?? '');
      const entries = this.parse(body, request.headers);
      this.calls.push(entries);
      const latency = this.latencyMs(call);
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      const callError = this.plan.call?.(call);
      if (callError) return { response: this.error(callError) };
      const outcomes = entries.map((entry): Outcome => {
        const fault = this.plan.entry?.(entry, call);
        if (fault) return { entry, accepted: false, fault, serial: 0 };
        this.accepted.push(entry);
        return { entry, accepted: true, omitted: this.plan.omit?.(entry, call) ?? false, serial: ++this.serial };
      });
      return { response: this.reply(outcomes) };
    } finally {
      this.inFlight -= 1;
    }
  }

  public updateHttpClientConfig(): void {}
  public httpHandlerConfigs(): Record<string, unknown> {
    return {};
  }
  public destroy(): void {}

  /** Accepted entries of one key, in stored order. */
  public acceptedIdsOf(key: string): string[] {
    return this.accepted.filter((e) => e.key === key).map((e) => e.id);
  }

  protected abstract parse(body: string, headers: Record<string, string>): WireEntry[];
  protected abstract reply(outcomes: Outcome[]): FakeResponse;
  protected abstract error(type: string): FakeResponse;
}

interface FakeResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

const json = (statusCode: number, value: unknown): FakeResponse => ({
  statusCode,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: Buffer.from(JSON.stringify(value)),
});
const jsonError = (type: string): FakeResponse =>
  json(type === 'InternalFailure' ? 500 : 400, { __type: type, message: `injected ${type}` });
const payloadOf = (text: string): { id?: string; key?: string } => {
  try {
    return JSON.parse(text) as { id?: string; key?: string };
  } catch {
    return {};
  }
};

/** SNS (AWS query protocol): PublishBatch. */
export class FakeSns extends FakeService {
  protected parse(body: string): WireEntry[] {
    const form = new URLSearchParams(body);
    if (form.get('Action') !== 'PublishBatch') throw new Error(`FakeSns: unexpected action ${form.get('Action')}`);
    const entries: WireEntry[] = [];
    for (let n = 1; form.has(`PublishBatchRequestEntries.member.${n}.Id`); n++) {
      const field = (name: string) => form.get(`PublishBatchRequestEntries.member.${n}.${name}`) ?? undefined;
      const message = field('Message') ?? '';
      entries.push({
        id: payloadOf(message).id ?? '',
        key: field('MessageGroupId'),
        bytes: Buffer.byteLength(message),
        batchId: field('Id'),
      });
    }
    return entries;
  }

  protected reply(outcomes: Outcome[]): FakeResponse {
    const ok = outcomes
      .map((o) => (o.accepted && !o.omitted ? `<member><Id>${o.entry.batchId}</Id><MessageId>m-${o.serial}</MessageId></member>` : ''))
      .join('');
    const failed = outcomes
      .map((o) =>
        o.fault
          ? `<member><Id>${o.entry.batchId}</Id><Code>${o.fault.code}</Code><Message>${o.fault.message ?? ''}</Message><SenderFault>${o.fault.senderFault ?? true}</SenderFault></member>`
          : '',
      )
      .join('');
    const xml = `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>${ok}</Successful><Failed>${failed}</Failed></PublishBatchResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishBatchResponse>`;
    return { statusCode: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(xml) };
  }

  protected error(type: string): FakeResponse {
    const xml = `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${type}</Code><Message>injected ${type}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
    return {
      statusCode: type === 'InternalFailure' || type === 'InternalError' ? 500 : 400,
      headers: { 'content-type': 'text/xml' },
      body: Buffer.from(xml),
    };
  }
}

/** EventBridge (JSON 1.1): PutEvents. The entry id and key travel in the Detail JSON. */
export class FakeEventBridge extends FakeService {
  protected parse(body: string, headers: Record<string, string>): WireEntry[] {
    if (headers['x-amz-target'] !== 'AWSEvents.PutEvents') throw new Error(`FakeEventBridge: unexpected target ${headers['x-amz-target']}`);
    const input = JSON.parse(body) as { Entries: Array<{ Detail?: string }> };
    return input.Entries.map((e) => {
      const p = payloadOf(e.Detail ?? '');
      return { id: p.id ?? '', key: p.key, bytes: Buffer.byteLength(e.Detail ?? '') };
    });
  }

  protected reply(outcomes: Outcome[]): FakeResponse {
    const entries = outcomes.map((o) =>
      o.fault ? { ErrorCode: o.fault.code, ErrorMessage: o.fault.message } : o.omitted ? {} : { EventId: `ev-${o.serial}` },
    );
    return json(200, { FailedEntryCount: outcomes.filter((o) => !o.accepted).length, Entries: entries });
  }

  protected error(type: string): FakeResponse {
    return jsonError(type);
  }
}

/** Kinesis (JSON 1.1): PutRecords. The entry id travels in the data (JSON); the key is the PartitionKey. */
export class FakeKinesis extends FakeService {
  protected parse(body: string, headers: Record<string, string>): WireEntry[] {
    if (headers['x-amz-target'] !== 'Kinesis_20131202.PutRecords')
      throw new Error(`FakeKinesis: unexpected target ${headers['x-amz-target']}`);
    const input = JSON.parse(body) as { Records: Array<{ Data: string; PartitionKey: string }> };
    return input.Records.map((r) => {
      const data = Buffer.from(r.Data, 'base64');
      const id = payloadOf(data.subarray(0, 200).toString('utf8').split('|')[0]).id ?? '';
      return { id, key: r.PartitionKey, bytes: data.length + Buffer.byteLength(r.PartitionKey) };
    });
  }

  protected reply(outcomes: Outcome[]): FakeResponse {
    const records = outcomes.map((o) =>
      o.fault
        ? { ErrorCode: o.fault.code, ErrorMessage: o.fault.message }
        : o.omitted
          ? {}
          : { ShardId: 'shardId-000000000000', SequenceNumber: String(49_000_000 + o.serial) },
    );
    return json(200, { FailedRecordCount: outcomes.filter((o) => !o.accepted).length, Records: records });
  }

  protected error(type: string): FakeResponse {
    return jsonError(type);
  }
}

const clientConfig = (requestHandler: FakeService) => ({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  endpoint: 'http://fake.local',
  // The publisher retries; the SDK's own retries would only blur the call counts.
  maxAttempts: 1,
  requestHandler,
});

export const snsClientFor = (fake: FakeSns) => new SNSClient(clientConfig(fake));
export const eventBridgeClientFor = (fake: FakeEventBridge) => new EventBridgeClient(clientConfig(fake));
export const kinesisClientFor = (fake: FakeKinesis) => new KinesisClient(clientConfig(fake));

/** A logger that keeps its lines. */
export function memoryLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields });
  return { lines, warn: at('warn'), debug: at('debug'), info: at('info'), error: at('error') };
}
