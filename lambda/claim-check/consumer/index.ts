/**
 * Example claim-check consumer, used by the showcase app and the integration tests.
 *
 * Each SQS message carries a payload inline or a claim (also inside an SNS envelope or an
 * EventBridge event). The consumer checks it out with `S3ClaimCheck` (bucket from the construct's
 * `environment`), and, when `RESULTS_QUEUE_URL` is set, reports what it got there: the payload's
 * size and SHA-256, whether it came through a claim, and the `id` found in a JSON payload. The tests
 * compare those hashes with the producer's.
 */
import { createHash } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { processSqsBatch } from '../../runtime/batch/sqs';
import { S3ClaimCheck } from '../../runtime/claim-check/s3';
import { handlerLogger } from '../../runtime/internal/logger';

const logger = handlerLogger('claim-check-consumer');
const claims = new S3ClaimCheck();
const sqs = new SQSClient({});
const resultsQueueUrl = process.env[EXAMPLE_ENV.resultsQueueUrl];

/** The `id` member of a JSON payload, if any. */
function idOf(payload: string): string | undefined {
  try {
    const value = JSON.parse(payload) as { id?: unknown };
    return typeof value?.id === 'string' ? value.id : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 of the payload's canonical JSON (what survives a re-serialization), if it is JSON. */
function jsonSha256(payload: string): string | undefined {
  try {
    return createHash('sha256')
      .update(JSON.stringify(JSON.parse(payload)))
      .digest('hex');
  } catch {
    return undefined;
  }
}

async function processRecord(record: SQSRecord): Promise<void> {
  const claim = claims.claimOf(record);
  const payload = await claims.checkOut(record);
  if (!resultsQueueUrl) return;
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: resultsQueueUrl,
      MessageBody: JSON.stringify({
        messageId: record.messageId,
        id: idOf(payload),
        claimed: claim !== undefined,
        key: claim?.key,
        bytes: Buffer.byteLength(payload, 'utf8'),
        sha256: createHash('sha256').update(payload, 'utf8').digest('hex'),
        jsonSha256: jsonSha256(payload),
      }),
    }),
  );
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processSqsBatch(event, processRecord, { context, throwOnFullBatchFailure: false, logger });
};
