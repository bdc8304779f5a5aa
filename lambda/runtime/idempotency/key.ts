import { createHash } from 'node:crypto';
import {
  ArityError,
  EmptyExpressionError,
  IncompleteExpressionError,
  LexerError,
  ParseError,
  UnknownFunctionError,
  search,
} from '@aws-lambda-powertools/jmespath';
import { PowertoolsFunctions } from '@aws-lambda-powertools/jmespath/functions';
import { MESSAGE_ATTRIBUTE } from '../../../lib/core/wire';
import { IdempotencyConfigurationError, IdempotencyKeyError } from './errors';

/**
 * Where a message's idempotency key (or its validated payload) comes from:
 * - a JMESPath expression evaluated against the record, with Powertools' functions
 *   (`powertools_json(body).orderId`, `powertools_base64(kinesis.data)`, ...);
 * - a function of the record.
 */
export type Selector = string | ((record: unknown) => unknown);

/** Name of the message attribute that carries an explicit idempotency key (SQS, SNS). */
export const IDEMPOTENCY_KEY_ATTRIBUTE = MESSAGE_ATTRIBUTE.idempotencyKey;

const jmesPathOptions = { customFunctions: new PowertoolsFunctions() };

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Reads a JSON body that looks like an SNS notification or an EventBridge event; undefined otherwise. */
function envelopeKey(body: string): string | undefined {
  if (!body.startsWith('{') || !(body.includes('"Notification"') || body.includes('"detail-type"'))) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined; // not JSON: the handler reports it; the SQS message id is the key
  }
  if (!isObject(parsed)) return undefined;
  if (parsed.Type === 'Notification' && str(parsed.MessageId) && str(parsed.TopicArn)) {
    const attrs = isObject(parsed.MessageAttributes) ? parsed.MessageAttributes : {};
    const attr = attrs[IDEMPOTENCY_KEY_ATTRIBUTE];
    return (isObject(attr) ? str(attr.Value) : undefined) ?? str(parsed.MessageId);
  }
  if (str(parsed['detail-type']) && str(parsed.id) && str(parsed.source)) return str(parsed.id);
  return undefined;
}

/**
 * The default idempotency key of a record, for every event source the kit uses:
 *
 * | record | key |
 * |---|---|
 * | SQS | the `idempotencyKey` message attribute; else, when the body is an SNS notification (SNS to SQS without raw delivery), its `idempotencyKey` attribute or its SNS `MessageId`; else, when the body is an EventBridge event, its `id`; else the SQS `messageId` |
 * | SNS | the `idempotencyKey` message attribute, else `Sns.MessageId` |
 * | EventBridge event | `id` |
 * | Kinesis, DynamoDB Streams | `eventID` (shard and sequence number) |
 * | any object | its `idempotencyKey` property |
 *
 * Producer retries create new SQS message ids: give such messages an `idempotencyKey` attribute
 * (or use a selector) so they are recognised as duplicates.
 *
 * @returns the key, or undefined when the record has none
 */
export function defaultIdempotencyKey(record: unknown): string | undefined {
  if (!isObject(record)) return undefined;
  const explicit = str(record[IDEMPOTENCY_KEY_ATTRIBUTE]);
  if (explicit) return explicit;
  // SQS
  if (record.eventSource === 'aws:sqs' || (typeof record.receiptHandle === 'string' && typeof record.messageId === 'string')) {
    const attrs = isObject(record.messageAttributes) ? record.messageAttributes : {};
    const attr = attrs[IDEMPOTENCY_KEY_ATTRIBUTE];
    const fromAttr = isObject(attr) ? str(attr.stringValue) : undefined;
    if (fromAttr) return fromAttr;
    return (typeof record.body === 'string' ? envelopeKey(record.body) : undefined) ?? str(record.messageId);
  }
  // SNS delivering to Lambda
  if (isObject(record.Sns)) {
    const attrs = isObject(record.Sns.MessageAttributes) ? record.Sns.MessageAttributes : {};
    const attr = attrs[IDEMPOTENCY_KEY_ATTRIBUTE];
    return (isObject(attr) ? str(attr.Value) : undefined) ?? str(record.Sns.MessageId);
  }
  // EventBridge
  if (str(record['detail-type']) && str(record.id)) return str(record.id);
  // Kinesis, DynamoDB Streams
  if ((isObject(record.kinesis) || isObject(record.dynamodb)) && str(record.eventID)) return str(record.eventID);
  return undefined;
}

/**
 * True when a selected key carries no value: Powertools' `isMissingIdempotencyKey` rule (any falsy
 * value — including 0 — or an object or array whose values are all falsy), so both modes agree.
 */
export function isMissing(value: unknown): boolean {
  if (value !== null && typeof value === 'object') return Object.values(value as Obj).every((v) => !v);
  return !value;
}

/** Checks a selector when the library is configured; throws {@link IdempotencyConfigurationError}. */
export function checkSelector(option: string, selector: Selector | undefined): void {
  if (selector === undefined || typeof selector === 'function') return;
  if (typeof selector !== 'string' || selector.trim() === '') {
    throw new IdempotencyConfigurationError(option, `must be a JMESPath expression or a function (given ${JSON.stringify(selector)})`, {
      value: selector,
    });
  }
  try {
    search(selector, {}, jmesPathOptions);
  } catch (cause) {
    // Only errors of the expression itself: evaluating it against {} may fail for other reasons
    // (powertools_json(body) of a missing body), which say nothing about the expression.
    const invalid = [ArityError, EmptyExpressionError, IncompleteExpressionError, LexerError, ParseError, UnknownFunctionError];
    if (invalid.some((type) => cause instanceof type)) {
      throw new IdempotencyConfigurationError(option, `is not a valid JMESPath expression (given '${selector}')`, {
        cause,
        value: selector,
      });
    }
  }
}

/** Evaluates a selector against a record. Errors (a body that is not JSON) become {@link IdempotencyKeyError}. */
export function select(selector: Selector, record: unknown): unknown {
  const name = typeof selector === 'string' ? selector : 'function';
  try {
    return typeof selector === 'string' ? search(selector, record as Obj, jmesPathOptions) : selector(record);
  } catch (cause) {
    throw new IdempotencyKeyError(
      name,
      `selector ${name} failed on the message: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** The idempotency key value of a record: the selector's, or the {@link defaultIdempotencyKey}. */
export function selectKey(selector: Selector | undefined, record: unknown): unknown {
  const value = selector === undefined ? defaultIdempotencyKey(record) : select(selector, record);
  if (isMissing(value)) {
    const name = selector === undefined ? 'default' : typeof selector === 'string' ? selector : 'function';
    throw new IdempotencyKeyError(
      name,
      selector === undefined
        ? 'the message has no idempotency key: no idempotencyKey attribute and no message id was found'
        : `selector ${name} found no idempotency key in the message`,
    );
  }
  return value;
}

/** Sorts object keys recursively (case-insensitively, as Powertools does) so equal payloads hash equally. */
export function deepSort(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepSort);
  if (isObject(value)) {
    return Object.keys(value)
      .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
      .reduce<Obj>((acc, k) => {
        acc[k] = deepSort(value[k]);
        return acc;
      }, {});
  }
  return value;
}

/**
 * Hash of a JSON value, exactly as Powertools idempotency computes it (digest of the JSON of the
 * sorted value, base64), so both modes of this library and Powertools itself derive the same
 * record ids.
 */
export function hashValue(value: unknown, hashFunction: string): string {
  return createHash(hashFunction)
    .update(JSON.stringify(deepSort(value)) ?? 'null')
    .digest('base64');
}

/** The record id of a key: `<keyPrefix>#<hash>` (Powertools' layout). */
export function recordId(keyPrefix: string, keyValue: unknown, hashFunction: string): string {
  return `${keyPrefix}#${hashValue(keyValue, hashFunction)}`;
}
