import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { IdempotencyConfigurationError, IdempotencyKeyError, defaultIdempotencyKey } from '../../../../lambda/runtime/idempotency';
import { checkSelector, deepSort, hashValue, recordId, selectKey } from '../../../../lambda/runtime/idempotency/key';
import { sqsRecord } from '../../../helpers/events';

const withAttr = (key: string) => ({
  ...sqsRecord({ a: 1 }, { id: 'm-attr' }),
  messageAttributes: { idempotencyKey: { stringValue: key, dataType: 'String', stringListValues: [], binaryListValues: [] } },
});

const snsEnvelope = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Type: 'Notification', MessageId: 'sns-1', TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Message: '{}', ...extra });

describe('Function: defaultIdempotencyKey', () => {
  it('uses the idempotencyKey message attribute of an SQS record', () => {
    expect(defaultIdempotencyKey(withAttr('order-7'))).toBe('order-7');
  });

  it('falls back to the SQS message id', () => {
    expect(defaultIdempotencyKey(sqsRecord({ a: 1 }, { id: 'm-1' }))).toBe('m-1');
  });

  it('uses the SNS MessageId of an SNS notification delivered through SQS (not the SQS message id)', () => {
    expect(defaultIdempotencyKey(sqsRecord(snsEnvelope(), { id: 'sqs-1' }))).toBe('sns-1');
  });

  it("prefers the SNS notification's idempotencyKey attribute", () => {
    const body = snsEnvelope({ MessageAttributes: { idempotencyKey: { Type: 'String', Value: 'k-9' } } });
    expect(defaultIdempotencyKey(sqsRecord(body, { id: 'sqs-1' }))).toBe('k-9');
  });

  it('uses the event id of an EventBridge event delivered through SQS', () => {
    const body = JSON.stringify({ id: 'eb-1', 'detail-type': 'OrderPlaced', source: 'shop', detail: {} });
    expect(defaultIdempotencyKey(sqsRecord(body, { id: 'sqs-2' }))).toBe('eb-1');
  });

  it('keeps the SQS message id when the body is not JSON', () => {
    expect(defaultIdempotencyKey(sqsRecord('{"Type":"Notification", oops', { id: 'sqs-3' }))).toBe('sqs-3');
  });

  it('reads SNS, EventBridge, Kinesis and DynamoDB Streams records', () => {
    expect(defaultIdempotencyKey({ EventSource: 'aws:sns', Sns: { MessageId: 'n-1', MessageAttributes: {} } })).toBe('n-1');
    expect(
      defaultIdempotencyKey({
        EventSource: 'aws:sns',
        Sns: { MessageId: 'n-1', MessageAttributes: { idempotencyKey: { Type: 'String', Value: 'k' } } },
      }),
    ).toBe('k');
    expect(defaultIdempotencyKey({ id: 'e-1', 'detail-type': 'X', source: 's', detail: {} })).toBe('e-1');
    expect(defaultIdempotencyKey({ eventID: 'shardId-0:49', kinesis: { sequenceNumber: '49', data: '' } })).toBe('shardId-0:49');
    expect(defaultIdempotencyKey({ eventID: 'ddb-1', dynamodb: { Keys: {} } })).toBe('ddb-1');
  });

  it('reads an idempotencyKey property of any object, and nothing from anything else', () => {
    expect(defaultIdempotencyKey({ idempotencyKey: 'x' })).toBe('x');
    expect(defaultIdempotencyKey({ foo: 1 })).toBeUndefined();
    expect(defaultIdempotencyKey('text')).toBeUndefined();
    expect(defaultIdempotencyKey(null)).toBeUndefined();
  });
});

describe('Function: selectKey', () => {
  it('evaluates a JMESPath selector with Powertools functions', () => {
    expect(selectKey('powertools_json(body).orderId', sqsRecord({ orderId: 'o-1' }))).toBe('o-1');
  });

  it('calls a function selector', () => {
    expect(selectKey((r) => (r as { messageId: string }).messageId.toUpperCase(), sqsRecord(1, { id: 'abc' }))).toBe('ABC');
  });

  it('throws IdempotencyKeyError naming the selector when it finds nothing', () => {
    expect(() => selectKey('powertools_json(body).orderId', sqsRecord({ other: 1 }))).toThrow(IdempotencyKeyError);
    expect(() => selectKey('powertools_json(body).orderId', sqsRecord({ other: 1 }))).toThrow(
      /selector powertools_json\(body\).orderId found no idempotency key/,
    );
    expect(() => selectKey(undefined, { foo: 1 })).toThrow(/no idempotencyKey attribute and no message id/);
  });

  it('treats exactly what Powertools treats as a missing key as missing (0, NaN, false, empty objects)', () => {
    // Powertools' own rule, private in its types: the reference both modes must agree with
    const powertoolsIsMissing = (BasePersistenceLayer as unknown as { isMissingIdempotencyKey(v: unknown): boolean })
      .isMissingIdempotencyKey;
    const candidates: unknown[] = [0, Number.NaN, false, '', null, [], [0, ''], {}, { a: 0, b: '' }, 1, 'x', [0, 1], { a: 0, b: 'y' }];
    for (const value of candidates) {
      const ours = (() => {
        try {
          selectKey(() => value, {});
          return false;
        } catch (e) {
          return e instanceof IdempotencyKeyError;
        }
      })();
      expect([value, ours]).toEqual([value, powertoolsIsMissing(value)]);
    }
  });

  it('throws IdempotencyKeyError for a body that is not JSON (powertools_json yields null for it)', () => {
    expect(() => selectKey('powertools_json(body).orderId', sqsRecord('{not json'))).toThrow(IdempotencyKeyError);
  });

  it('throws IdempotencyKeyError with the cause when a function selector throws', () => {
    let err: unknown;
    try {
      selectKey((r) => JSON.parse((r as { body: string }).body).orderId, sqsRecord('{not json'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IdempotencyKeyError);
    expect((err as IdempotencyKeyError).selector).toBe('function');
    expect((err as Error).cause).toBeInstanceOf(SyntaxError);
    expect((err as Error).message).toMatch(/^selector function failed on the message: /);
  });
});

describe('Function: checkSelector', () => {
  it('rejects an invalid JMESPath expression with the expression in the message', () => {
    expect(() => checkSelector('keySelector', 'body.[')).toThrow(IdempotencyConfigurationError);
    expect(() => checkSelector('keySelector', 'body.[')).toThrow(/keySelector: is not a valid JMESPath expression \(given 'body.\['\)/);
    expect(() => checkSelector('keySelector', '  ')).toThrow(/must be a JMESPath expression or a function/);
  });

  it('accepts valid expressions and functions', () => {
    expect(() => checkSelector('keySelector', 'powertools_json(body).id')).not.toThrow();
    expect(() => checkSelector('keySelector', () => 'x')).not.toThrow();
  });
});

describe('Function: hashValue / recordId', () => {
  it('ignores key order in objects', () => {
    expect(hashValue({ b: 1, a: { d: 2, c: 3 } }, 'md5')).toBe(hashValue({ a: { c: 3, d: 2 }, b: 1 }, 'md5'));
    expect(deepSort({ b: 1, A: 2 })).toEqual({ A: 2, b: 1 });
    expect(Object.keys(deepSort({ b: 1, a: 2 }) as object)).toEqual(['a', 'b']);
  });

  it('derives the same record id as Powertools idempotency for the same key and prefix', () => {
    // Prepare: Powertools' own derivation, through its documented extension point.
    class Exposed extends DynamoDBPersistenceLayer {
      public idOf(data: unknown): string {
        return this.getHashedIdempotencyKey(data as never);
      }
    }
    const layer = new Exposed({ tableName: 'idem' });
    layer.configure({ config: new IdempotencyConfig({ eventKeyJmesPath: 'key' }), keyPrefix: 'payments' });
    // Act / Assess
    expect(recordId('payments', 'order-7', 'md5')).toBe(layer.idOf({ key: 'order-7' }));
    expect(recordId('payments', 'order-7', 'md5')).toMatch(/^payments#[A-Za-z0-9+/]{22}==$/);
  });
});
