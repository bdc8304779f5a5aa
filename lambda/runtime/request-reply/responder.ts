import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type SqsBatchOptions, checkSqsBatchOptions, processSqsBatch } from '../batch/sqs';
import { type RuntimeLogger, resolveLogger } from '../internal/logger';
import { checkClient, checkFunction, checkLogger, checkOneOf, checkPattern, checkString, checkUrl } from '../internal/options';
import { InvalidRequestError, RejectRequestError } from './errors';
import {
  CORRELATION_ID_ATTRIBUTE,
  EXPIRES_AT_ATTRIBUTE,
  REPLY_QUEUE_PREFIX_ENV,
  REPLY_QUEUE_PREFIX_PATTERN,
  REPLY_QUEUE_PREFIX_RULE,
  REPLY_STATUS_ATTRIBUTE,
  REPLY_TO_ATTRIBUTE,
  failRequestReplyOption as fail,
  isQueueGone,
  parseQueueUrl,
} from './protocol';

/** What a responder's handler knows about the request besides its payload. */
export interface RequestContext {
  readonly correlationId: string;
  /** URL of the requester's reply queue. */
  readonly replyTo: string;
  /** When the requester stops waiting, if it said. */
  readonly expiresAt?: Date;
  /** The SQS record carrying the request. */
  readonly record: SQSRecord;
  /** The Lambda context, when the handler runs in Lambda. */
  readonly lambdaContext?: Context;
}

/** Computes the reply to a request. Throw {@link RejectRequestError} to reply with an error. */
export type RequestHandlerFunction<TRequest, TReply> = (request: TRequest, context: RequestContext) => Promise<TReply> | TReply;

/** Options of {@link requestHandler} and {@link handleRequest}. */
export interface ResponderOptions extends Omit<SqsBatchOptions, 'context' | 'logger'> {
  /** @default - a client from the environment */
  readonly client?: SQSClient;
  /**
   * Name prefix every reply-to queue must have. A request whose reply-to names another queue (or a
   * queue of another account) is not answered: it fails to the dead-letter queue.
   *
   * @default - REPLY_QUEUE_PREFIX, set by the construct
   */
  readonly replyQueuePrefix?: string;
  /**
   * Where skipped requests, dropped replies and failed requests are logged (a Powertools `Logger`,
   * `console`...). `null` turns logging off.
   *
   * @default - the run-time library's shared Powertools `Logger`
   */
  readonly logger?: RuntimeLogger | null;
}

/** The reply queue prefix a responder enforces: the option, else `REPLY_QUEUE_PREFIX`, else none; checked. */
function replyQueuePrefixOf(options: ResponderOptions): string | undefined {
  if (options.replyQueuePrefix !== undefined) {
    return checkPattern(fail, 'replyQueuePrefix', options.replyQueuePrefix, REPLY_QUEUE_PREFIX_PATTERN, REPLY_QUEUE_PREFIX_RULE);
  }
  const fromEnv = process.env[REPLY_QUEUE_PREFIX_ENV];
  return fromEnv ? checkPattern(fail, REPLY_QUEUE_PREFIX_ENV, fromEnv, REPLY_QUEUE_PREFIX_PATTERN, REPLY_QUEUE_PREFIX_RULE) : undefined;
}

function checkResponderOptions(options: ResponderOptions): void {
  checkClient(fail, 'client', options.client);
  checkLogger(fail, 'logger', options.logger);
  replyQueuePrefixOf(options);
}

/** What became of one request. */
export type RequestOutcome = 'replied' | 'rejected' | 'expired' | 'requester-gone';

let defaultClient: SQSClient | undefined;
const REPLY_STATUSES: ReadonlyArray<'ok' | 'error'> = ['ok', 'error'];

const accountOf = (arn: string | undefined): string | undefined => arn?.split(':')[4];

/**
 * Sends a reply to a requester's reply queue.
 *
 * @throws RequestReplyConfigurationError when `replyTo` is not a queue URL, `correlationId` is empty
 * or `status` is neither `ok` nor `error` (nothing is sent)
 */
export async function sendReply(
  client: SQSClient,
  reply: { replyTo: string; correlationId: string; body: unknown; status?: 'ok' | 'error' },
): Promise<void> {
  checkUrl(fail, 'replyTo', reply.replyTo);
  checkString(fail, 'correlationId', reply.correlationId);
  if (reply.status !== undefined) checkOneOf(fail, 'status', reply.status, REPLY_STATUSES);
  await client.send(
    new SendMessageCommand({
      QueueUrl: reply.replyTo,
      MessageBody: JSON.stringify(reply.body ?? null),
      MessageAttributes: {
        [CORRELATION_ID_ATTRIBUTE]: { DataType: 'String', StringValue: reply.correlationId },
        [REPLY_STATUS_ATTRIBUTE]: { DataType: 'String', StringValue: reply.status ?? 'ok' },
      },
    }),
  );
}

/**
 * Answers one request record: checks its correlation id and reply-to, skips it when the requester
 * no longer waits, runs `handler`, and sends the reply (or the rejection) to the reply-to queue.
 * Errors other than {@link RejectRequestError} propagate, so the record is retried.
 *
 * @throws InvalidRequestError when the request has no correlation id or reply-to, or names a queue
 * that is not a reply queue of this pattern
 * @throws RequestReplyConfigurationError when an option (or `REPLY_QUEUE_PREFIX`) is invalid
 */
export async function handleRequest<TRequest, TReply>(
  record: SQSRecord,
  handler: RequestHandlerFunction<TRequest, TReply>,
  options: ResponderOptions & { lambdaContext?: Context } = {},
): Promise<RequestOutcome> {
  checkResponderOptions(options);
  const logger = resolveLogger(options.logger);
  const client = options.client ?? (defaultClient ??= new SQSClient({}));
  const attrs = record.messageAttributes ?? {};
  const correlationId = attrs[CORRELATION_ID_ATTRIBUTE]?.stringValue;
  const replyTo = attrs[REPLY_TO_ATTRIBUTE]?.stringValue;
  if (!correlationId || !replyTo) {
    throw new InvalidRequestError(
      record.messageId,
      `it has no ${!correlationId ? CORRELATION_ID_ATTRIBUTE : REPLY_TO_ATTRIBUTE} attribute`,
    );
  }
  const target = parseQueueUrl(replyTo);
  const prefix = replyQueuePrefixOf(options);
  if (!target) throw new InvalidRequestError(record.messageId, `its reply-to is not a queue URL ('${replyTo}')`);
  if (prefix && !target.name.startsWith(prefix)) {
    throw new InvalidRequestError(
      record.messageId,
      `its reply-to queue '${target.name}' is not a reply queue of this pattern (prefix '${prefix}')`,
    );
  }
  const account = accountOf(record.eventSourceARN);
  if (account && target.account !== account) {
    throw new InvalidRequestError(record.messageId, `its reply-to queue is in account ${target.account}, not ${account}`);
  }

  const expiresAtMs = Number(attrs[EXPIRES_AT_ATTRIBUTE]?.stringValue);
  const expiresAt = Number.isFinite(expiresAtMs) && expiresAtMs > 0 ? new Date(expiresAtMs) : undefined;
  if (expiresAt && expiresAt.getTime() <= Date.now()) {
    logger?.warn('request expired before it was processed; not answered', {
      correlationId,
      messageId: record.messageId,
      expiresAt: expiresAt.toISOString(),
    });
    return 'expired';
  }

  // A request that can never succeed (not JSON, or rejected by the handler) is answered at once
  // with an error, not retried.
  let body: unknown;
  let status: 'ok' | 'error' = 'ok';
  let request: TRequest | undefined;
  try {
    request = JSON.parse(record.body) as TRequest;
  } catch (error) {
    status = 'error';
    body = { name: 'MalformedRequestError', message: `the request body is not valid JSON: ${(error as Error).message}` };
  }
  if (status === 'ok') {
    try {
      body = await handler(request as TRequest, { correlationId, replyTo, expiresAt, record, lambdaContext: options.lambdaContext });
    } catch (error) {
      if (!(error instanceof RejectRequestError)) throw error;
      status = 'error';
      body = { name: error.name, message: error.message };
    }
  }

  try {
    await sendReply(client, { replyTo, correlationId, body, status });
  } catch (error) {
    if (!isQueueGone(error)) throw error;
    logger?.warn('reply queue gone (the requester stopped); reply dropped', { correlationId, replyTo });
    return 'requester-gone';
  }
  return status === 'ok' ? 'replied' : 'rejected';
}

/**
 * A Lambda handler for the request queue's event source mapping: answers every request of the
 * batch with `handler` (through the batch helper, with partial batch responses). The options are
 * checked at once (`RequestReplyConfigurationError`, `BatchConfigurationError`).
 *
 * @example
 * export const handler = requestHandler<QuoteRequest, Quote>(async (req) => ({ sku: req.sku, price: await price(req.sku) }));
 */
export function requestHandler<TRequest = unknown, TReply = unknown>(
  handler: RequestHandlerFunction<TRequest, TReply>,
  options: ResponderOptions = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  checkFunction(fail, 'handler', handler);
  checkResponderOptions(options);
  const { client, replyQueuePrefix, logger, ...batchOptions } = options;
  checkSqsBatchOptions(batchOptions);
  return (event, context) =>
    processSqsBatch(event, (record) => handleRequest(record, handler, { client, replyQueuePrefix, logger, lambdaContext: context }), {
      ...batchOptions,
      context,
      logger,
    });
}
