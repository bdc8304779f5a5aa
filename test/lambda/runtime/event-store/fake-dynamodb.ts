/* eslint-disable @typescript-eslint/no-explicit-any -- fakes of SDK clients take and return loosely typed commands */
/**
 * An in-memory DynamoDB for the outbox and event-store run-time tests: the commands those helpers
 * send (PutItem, GetItem, DeleteItem, UpdateItem, Query, Scan, BatchGetItem, BatchWriteItem,
 * TransactWriteItems), with condition, key-condition and update expressions of the forms they use
 * (comparisons, BETWEEN, attribute_exists/not_exists, AND/OR/NOT, parentheses; SET/ADD/REMOVE),
 * conditional failures with ALL_OLD, transaction cancellation reasons, and a stream of every change
 * as Lambda delivers DynamoDB stream records. What DynamoDB itself does is tested against the
 * emulator in integration/.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue> | undefined;

interface TableSchema {
  readonly pk: string;
  readonly sk?: string;
}

/** An expression's operand: an attribute path or a value. */
type Operand = { path: string } | { value: unknown };
type Node =
  | { op: 'and' | 'or'; left: Node; right: Node }
  | { op: 'not'; expr: Node }
  | { op: 'exists' | 'notExists'; path: string }
  | { op: 'cmp'; cmp: string; left: Operand; right: Operand }
  | { op: 'between'; subject: Operand; low: Operand; high: Operand }
  | { op: 'beginsWith'; path: string; prefix: Operand };

function tokenize(expression: string): string[] {
  return expression.match(/<>|<=|>=|[=<>(),]|[#:]?[A-Za-z0-9_.]+/g) ?? [];
}

function parseCondition(expression: string, names: Names, values: Values): Node {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (expected !== undefined && t?.toUpperCase() !== expected)
      throw new Error(`fake DynamoDB: expected ${expected} at ${i} in ${expression}`);
    return t;
  };
  const name = (t: string) => (t.startsWith('#') ? (names?.[t] ?? t) : t);
  const operand = (): Operand => {
    const t = take();
    if (t.startsWith(':')) return { value: values?.[t] === undefined ? undefined : unmarshall({ v: values[t] }).v };
    return { path: name(t) };
  };
  const primary = (): Node => {
    const t = peek();
    if (t === '(') {
      take('(');
      const e = or();
      take(')');
      return e;
    }
    if (t?.toUpperCase() === 'NOT') {
      take();
      return { op: 'not', expr: primary() };
    }
    if (t === 'attribute_exists' || t === 'attribute_not_exists' || t === 'begins_with') {
      take();
      take('(');
      const path = name(take());
      if (t === 'begins_with') {
        take(',');
        const prefix = operand();
        take(')');
        return { op: 'beginsWith', path, prefix };
      }
      take(')');
      return { op: t === 'attribute_exists' ? 'exists' : 'notExists', path };
    }
    const left = operand();
    const next = take();
    if (next?.toUpperCase() === 'BETWEEN') {
      const low = operand();
      take('AND');
      return { op: 'between', subject: left, low, high: operand() };
    }
    return { op: 'cmp', cmp: next, left, right: operand() };
  };
  const and = (): Node => {
    let left = primary();
    while (peek()?.toUpperCase() === 'AND') {
      take();
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): Node => {
    let left = and();
    while (peek()?.toUpperCase() === 'OR') {
      take();
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const node = or();
  if (i !== tokens.length) throw new Error(`fake DynamoDB: cannot parse ${expression}`);
  return node;
}

const valueOf = (item: Item | undefined, o: Operand) => ('path' in o ? item?.[o.path] : o.value);

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function evaluate(node: Node, item: Item | undefined): boolean {
  switch (node.op) {
    case 'and':
      return evaluate(node.left, item) && evaluate(node.right, item);
    case 'or':
      return evaluate(node.left, item) || evaluate(node.right, item);
    case 'not':
      return !evaluate(node.expr, item);
    case 'exists':
      return item?.[node.path] !== undefined;
    case 'notExists':
      return item?.[node.path] === undefined;
    case 'beginsWith':
      return typeof item?.[node.path] === 'string' && (item[node.path] as string).startsWith(String(valueOf(item, node.prefix)));
    case 'between': {
      const v = valueOf(item, node.subject);
      if (v === undefined) return false;
      return compare(v, valueOf(item, node.low)) >= 0 && compare(v, valueOf(item, node.high)) <= 0;
    }
    case 'cmp': {
      const a = valueOf(item, node.left);
      const b = valueOf(item, node.right);
      if (a === undefined || b === undefined) return node.cmp === '<>' ? a !== b : false;
      const c = compare(a, b);
      return { '=': c === 0, '<>': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[node.cmp] ?? false;
    }
  }
}

function applyUpdate(item: Item, expression: string, names: Names, values: Values): Item {
  const next = { ...item };
  const resolve = (t: string) => (t.startsWith('#') ? (names?.[t] ?? t) : t);
  const value = (t: string) => unmarshall({ v: values![t] }).v;
  const sections = expression.split(/\b(SET|ADD|REMOVE)\b/).map((s) => s.trim());
  for (let s = 1; s < sections.length; s += 2) {
    const kind = sections[s];
    const body = sections[s + 1];
    for (const part of body
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      if (kind === 'SET') {
        const [path, v] = part.split('=').map((x) => x.trim());
        next[resolve(path)] = value(v);
      } else if (kind === 'ADD') {
        const [path, v] = part.split(/\s+/);
        next[resolve(path)] = Number(next[resolve(path)] ?? 0) + Number(value(v));
      } else {
        delete next[resolve(part)];
      }
    }
  }
  return next;
}

const conditionFailed = (item: Item | undefined, returnOld: boolean) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(returnOld && item ? { Item: marshall(item) } : {}),
  });

/** An error the fake throws instead of answering, for fault injection. */
export type Fault = (command: string, input: Record<string, any>) => Error | undefined;

export class FakeDynamoDB {
  /** Commands received, by name (`PutItemCommand`...). */
  public readonly calls: Record<string, number> = {};
  /** Write units consumed as AWS counts them: 1 per KB per write, 2 per KB per transaction item. */
  public writeUnits = 0;
  public fault?: Fault;
  /** Up to this many milliseconds of random latency before each request is handled (interleaves concurrent callers). */
  public latencyMs = 0;
  private readonly tables = new Map<string, { schema: TableSchema; items: Map<string, Item> }>();
  private readonly streams = new Map<string, DynamoDBRecord[]>();
  private sequence = 1_000_000;

  constructor(schemas: Record<string, TableSchema>) {
    for (const [name, schema] of Object.entries(schemas)) {
      this.tables.set(name, { schema, items: new Map() });
      this.streams.set(name, []);
    }
  }

  /** What the run-time helpers take as a client. */
  public get client(): any {
    return this;
  }

  /** Every item of a table, unmarshalled. */
  public items(table: string): Item[] {
    return [...this.table(table).items.values()].map((i) => structuredClone(i));
  }

  public get(table: string, key: Item): Item | undefined {
    const item = this.table(table).items.get(this.keyOf(table, key));
    return item ? structuredClone(item) : undefined;
  }

  /** Puts an item directly (no request counted). */
  public put(table: string, item: Item): void {
    this.write(table, item);
  }

  /** The stream records of a table since `from` (every change, as Lambda delivers them with NEW_IMAGE). */
  public stream(table: string, from = 0): DynamoDBRecord[] {
    return this.streams.get(table)!.slice(from);
  }

  public requests(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  public async send(command: { constructor: { name: string }; input: Record<string, any> }): Promise<unknown> {
    const name = command.constructor.name;
    this.calls[name] = (this.calls[name] ?? 0) + 1;
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * this.latencyMs));
    const injected = this.fault?.(name, command.input);
    if (injected) throw injected;
    const input = command.input;
    switch (name) {
      case 'PutItemCommand': {
        const item = unmarshall(input.Item);
        const old = this.find(input.TableName, item);
        this.check(input, old);
        this.writeUnits += units(item);
        this.write(input.TableName, item);
        return {};
      }
      case 'GetItemCommand': {
        const item = this.find(input.TableName, unmarshall(input.Key));
        return item ? { Item: marshall(item) } : {};
      }
      case 'DeleteItemCommand': {
        const key = unmarshall(input.Key);
        const old = this.find(input.TableName, key);
        this.check(input, old);
        if (old) this.remove(input.TableName, key);
        return {};
      }
      case 'UpdateItemCommand': {
        const key = unmarshall(input.Key);
        const old = this.find(input.TableName, key);
        this.check(input, old);
        const next = applyUpdate(
          { ...(old ?? key) },
          input.UpdateExpression,
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues,
        );
        this.writeUnits += units(next);
        this.write(input.TableName, next);
        return { Attributes: marshall(next) };
      }
      case 'QueryCommand':
      case 'ScanCommand':
        return this.query(input, name === 'ScanCommand');
      case 'BatchGetItemCommand': {
        const responses: Record<string, Array<Record<string, AttributeValue>>> = {};
        for (const [table, request] of Object.entries(
          input.RequestItems as Record<string, { Keys: Array<Record<string, AttributeValue>> }>,
        )) {
          responses[table] = request.Keys.map((k) => this.find(table, unmarshall(k)))
            .filter((i): i is Item => i !== undefined)
            .map((i) => marshall(i));
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case 'BatchWriteItemCommand': {
        for (const [table, requests] of Object.entries(input.RequestItems as Record<string, Array<Record<string, any>>>)) {
          for (const r of requests) {
            if (r.PutRequest) {
              const item = unmarshall(r.PutRequest.Item);
              this.writeUnits += units(item);
              this.write(table, item);
            } else this.remove(table, unmarshall(r.DeleteRequest.Key));
          }
        }
        return { UnprocessedItems: {} };
      }
      case 'TransactWriteItemsCommand':
        return this.transact(input.TransactItems);
      default:
        throw new Error(`fake DynamoDB: ${name} is not supported`);
    }
  }

  private transact(items: Array<Record<string, any>>): unknown {
    const plans: Array<() => void> = [];
    const reasons: Array<{ Code: string; Message?: string; Item?: Record<string, AttributeValue> }> = [];
    let failed = false;
    for (const entry of items) {
      const [op, body] = Object.entries(entry)[0] as [string, Record<string, any>];
      const key = op === 'Put' ? unmarshall(body.Item) : unmarshall(body.Key);
      const old = this.find(body.TableName, key);
      const ok =
        !body.ConditionExpression ||
        evaluate(parseCondition(body.ConditionExpression, body.ExpressionAttributeNames, body.ExpressionAttributeValues), old);
      if (!ok) {
        failed = true;
        reasons.push({
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          ...(body.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? { Item: marshall(old) } : {}),
        });
        continue;
      }
      reasons.push({ Code: 'None' });
      if (op === 'Put') {
        plans.push(() => {
          this.writeUnits += 2 * units(key);
          this.write(body.TableName, key);
        });
      } else if (op === 'Delete') plans.push(() => this.remove(body.TableName, key));
      else if (op === 'Update') {
        plans.push(() => {
          const next = applyUpdate(
            { ...(old ?? key) },
            body.UpdateExpression,
            body.ExpressionAttributeNames,
            body.ExpressionAttributeValues,
          );
          this.writeUnits += 2 * units(next);
          this.write(body.TableName, next);
        });
      } else plans.push(() => (this.writeUnits += 2));
    }
    if (failed) {
      throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });
    }
    for (const apply of plans) apply();
    return {};
  }

  private query(input: Record<string, any>, scan: boolean): unknown {
    const { schema, items } = this.table(input.TableName);
    const keyCondition = scan
      ? undefined
      : parseCondition(input.KeyConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    const filter = input.FilterExpression
      ? parseCondition(input.FilterExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues)
      : undefined;
    let all = [...items.values()].filter((i) => !keyCondition || evaluate(keyCondition, i));
    all.sort((a, b) => compare(a[schema.pk], b[schema.pk]) || (schema.sk ? compare(a[schema.sk], b[schema.sk]) : 0));
    if (input.ScanIndexForward === false) all = all.reverse();
    if (input.ExclusiveStartKey) {
      const start = this.keyOf(input.TableName, unmarshall(input.ExclusiveStartKey));
      const at = all.findIndex((i) => this.keyOf(input.TableName, i) === start);
      all = all.slice(at + 1);
    }
    const page = input.Limit ? all.slice(0, input.Limit) : all;
    const more = input.Limit !== undefined && all.length > input.Limit;
    const last = page.at(-1);
    return {
      Items: page.filter((i) => !filter || evaluate(filter, i)).map((i) => marshall(i)),
      ...(more && last ? { LastEvaluatedKey: marshall(this.keyPart(input.TableName, last)) } : {}),
    };
  }

  private check(input: Record<string, any>, old: Item | undefined): void {
    if (!input.ConditionExpression) return;
    if (!evaluate(parseCondition(input.ConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues), old)) {
      throw conditionFailed(old, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    }
  }

  private table(name: string) {
    const t = this.tables.get(name);
    if (!t) throw Object.assign(new Error(`Requested resource not found: ${name}`), { name: 'ResourceNotFoundException' });
    return t;
  }

  private keyPart(table: string, item: Item): Item {
    const { schema } = this.table(table);
    return schema.sk ? { [schema.pk]: item[schema.pk], [schema.sk]: item[schema.sk] } : { [schema.pk]: item[schema.pk] };
  }

  private keyOf(table: string, item: Item): string {
    return JSON.stringify(this.keyPart(table, item));
  }

  private find(table: string, key: Item): Item | undefined {
    return this.table(table).items.get(this.keyOf(table, key));
  }

  private write(table: string, item: Item): void {
    const key = this.keyOf(table, item);
    const old = this.table(table).items.get(key);
    this.table(table).items.set(key, structuredClone(item));
    this.record(table, old ? 'MODIFY' : 'INSERT', item, old);
  }

  private remove(table: string, key: Item): void {
    const k = this.keyOf(table, key);
    const old = this.table(table).items.get(k);
    this.table(table).items.delete(k);
    if (old) this.record(table, 'REMOVE', undefined, old);
  }

  private record(table: string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE', item: Item | undefined, old: Item | undefined): void {
    const keys = this.keyPart(table, (item ?? old)!);
    this.sequence += 1;
    this.streams.get(table)!.push({
      awsRegion: 'us-east-1',
      eventID: `fake-${this.sequence}`,
      eventName,
      eventSource: 'aws:dynamodb',
      eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${table}/stream/2026-01-01T00:00:00.000`,
      eventVersion: '1.1',
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: marshall(keys) as never,
        ...(item ? { NewImage: marshall(item) as never } : {}),
        SequenceNumber: String(this.sequence).padStart(21, '0'),
        SizeBytes: 100,
        StreamViewType: 'NEW_IMAGE',
      },
    });
  }
}

/** Write units of an item, as DynamoDB counts them: one per KB or part of one. */
function units(item: Item): number {
  return Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(item)) / 1024));
}

/** Records that pass the construct's filter: INSERTs of a record type. */
export const inserts = (records: readonly DynamoDBRecord[], recordType: string): DynamoDBRecord[] =>
  records.filter((r) => r.eventName === 'INSERT' && r.dynamodb?.NewImage?.recordType?.S === recordType);
