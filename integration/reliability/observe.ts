/**
 * What the ledger suite observes from outside the consumers: the effects table, the notifications
 * queue, the dead-letter queues and the consumers' logs (failure reasons: harness/logs.ts).
 */
import { BatchWriteItemCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { logMessages } from '../harness/logs';
import { drain } from '../harness/sqs';

export interface PaymentEffect {
  readonly applications: number;
  readonly accountId: string;
  readonly amountCents: number;
}

export interface AccountEffect {
  readonly balanceCents: number;
  readonly paymentIds: readonly string[];
}

/** Every payment and account item of the effects table. */
export async function scanPayments(
  ddb: DynamoDBClient,
  tableName: string,
): Promise<{ payments: Map<string, PaymentEffect>; accounts: Map<string, AccountEffect> }> {
  const payments = new Map<string, PaymentEffect>();
  const accounts = new Map<string, AccountEffect>();
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey }));
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      const pk = String(item.pk);
      if (pk.startsWith('payment#')) {
        payments.set(pk.slice('payment#'.length), {
          applications: Number(item.applications),
          accountId: item.accountId,
          amountCents: Number(item.amountCents),
        });
      } else if (pk.startsWith('account#')) {
        accounts.set(pk.slice('account#'.length), { balanceCents: Number(item.balanceCents), paymentIds: item.paymentIds ?? [] });
      }
    }
    ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (ExclusiveStartKey);
  return { payments, accounts };
}

/** Accumulates what arrives in a queue (drained and deleted as it is read), by logical id. */
export class QueueTally {
  /** Logical id -> number of messages seen. */
  public readonly counts = new Map<string, number>();
  /** Logical id -> ApproximateReceiveCount of its messages, as read (dead-letter queues). */
  public readonly receiveCounts = new Map<string, number[]>();

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    /** Maps a message to its logical id. */
    private readonly idOf: (message: { MessageId?: string; Body?: string }) => string,
  ) {}

  public async collect(): Promise<void> {
    for (const m of await drain(this.client, this.queueUrl, { waitSeconds: 0 })) {
      const id = this.idOf(m);
      this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
      this.receiveCounts.set(id, [...(this.receiveCounts.get(id) ?? []), Number(m.Attributes?.ApproximateReceiveCount)]);
    }
  }
}

/**
 * Evidence that the injected faults fired: the ids named by the consumers' "injected ..." log lines
 * (a crash line before the process exits, or the InjectedFaultError of a failed record).
 */
export async function injectedFaults(functionNames: string[]): Promise<Map<string, string[]>> {
  const byId = new Map<string, string[]>();
  for (const message of await logMessages(functionNames, '"injected"')) {
    const m =
      /injected (?:fault ([a-z-]+) for (?:payment|order) ([\w-]+)|crash after (commit|completion)[^}]*"(?:paymentId|orderId)":"([\w-]+)")/.exec(
        message,
      );
    if (!m) continue;
    const [kind, id] = m[1] ? [m[1], m[2]] : [m[3] === 'commit' ? 'crash-after-commit' : 'crash-after-complete', m[4]];
    byId.set(id, [...(byId.get(id) ?? []), kind]);
  }
  return byId;
}

/**
 * Deletes every item of a table (between waves). Only for the emulator's sake: moto deep-copies every
 * table a transaction touches (to roll it back on cancellation), so a transaction's cost grows with
 * the size of the tables; with ten seeds' items in them, every batch of the third wave timed out.
 */
export async function clearTable(ddb: DynamoDBClient, tableName: string, keyAttribute: string): Promise<number> {
  let deleted = 0;
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await ddb.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#k',
        ExpressionAttributeNames: { '#k': keyAttribute },
        ExclusiveStartKey,
      }),
    );
    const keys = page.Items ?? [];
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      while (requests.length > 0) {
        const res = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
        requests = (res.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
    }
    deleted += keys.length;
    ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (ExclusiveStartKey);
  return deleted;
}
