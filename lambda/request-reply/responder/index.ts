/**
 * Example responder, used by the showcase app and the integration tests of `RequestReply`.
 *
 * A request `{ "op": "add", "a": 1, "b": 2 }` is answered with `{ "result": 3 }`; `echo` answers
 * with `input`. Every reply repeats `requestId` when the request has one. Test knobs: `delayMs`
 * waits before answering (to make a request time out), `reject` rejects the request with that
 * message (the requester gets a RequestRejectedError at once).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handlerLogger } from '../../runtime/internal/logger';
import { RejectRequestError } from '../../runtime/request-reply/errors';
import { requestHandler } from '../../runtime/request-reply/responder';

/** A request to the example responder. */
export interface ExampleRequest {
  readonly op: 'add' | 'echo';
  readonly a?: number;
  readonly b?: number;
  readonly input?: unknown;
  readonly requestId?: string;
  readonly delayMs?: number;
  readonly reject?: string;
}

/** Its reply. */
export interface ExampleReply {
  readonly requestId?: string;
  readonly result: unknown;
}

const logger = handlerLogger('request-reply-responder');

const respond = requestHandler<ExampleRequest, ExampleReply>(
  async (request, { lambdaContext }) => {
    if (request.delayMs) {
      const budget = (lambdaContext?.getRemainingTimeInMillis() ?? 30_000) - 500;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(request.delayMs!, budget))));
    }
    if (request.reject) throw new RejectRequestError(request.reject);
    switch (request.op) {
      case 'add':
        if (typeof request.a !== 'number' || typeof request.b !== 'number') throw new RejectRequestError('add needs numbers a and b');
        return { requestId: request.requestId, result: request.a + request.b };
      case 'echo':
        return { requestId: request.requestId, result: request.input ?? null };
      default:
        throw new RejectRequestError(`unknown op '${String((request as { op?: unknown }).op)}'`);
    }
  },
  { logger },
);

export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return respond(event, context);
};
