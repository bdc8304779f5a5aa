import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type RuntimeLogger, resolveLogger } from '../internal/logger';
import { checkFinite, checkLogger, checkNumber, checkPattern } from '../internal/options';
import {
  HEARTBEAT_TAG,
  REPLY_QUEUE_PREFIX_PATTERN,
  REPLY_QUEUE_PREFIX_RULE,
  failRequestReplyOption as fail,
  isQueueGone,
} from './protocol';

/** What {@link reapIdleReplyQueues} did. */
export interface ReapResult {
  /** Reply queues looked at. */
  readonly checked: number;
  /** URLs of the reply queues deleted. */
  readonly deleted: string[];
}

/**
 * Deletes the reply queues under `prefix` whose requester has not used them for `idleSeconds`
 * (their heartbeat tag, else their creation time, is older). Requesters refresh the heartbeat when
 * a quarter of `idleSeconds` has passed, so a queue in use is never deleted; a requester whose
 * queue was deleted while it was idle creates a new one on its next request.
 *
 * @throws RequestReplyConfigurationError for a malformed prefix or a non-positive `idleSeconds`
 */
export async function reapIdleReplyQueues(
  client: SQSClient,
  prefix: string,
  idleSeconds: number,
  options: { now?: number; logger?: RuntimeLogger | null } = {},
): Promise<ReapResult> {
  checkPattern(fail, 'prefix', prefix, REPLY_QUEUE_PREFIX_PATTERN, REPLY_QUEUE_PREFIX_RULE);
  checkNumber(fail, 'idleSeconds', idleSeconds, { min: 0, rule: 'a positive number of seconds' });
  if (options.now !== undefined) checkFinite(fail, 'now', options.now);
  const logger = resolveLogger(checkLogger(fail, 'logger', options.logger));
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const res = await client.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken }));
    urls.push(...(res.QueueUrls ?? []));
    NextToken = res.NextToken;
  } while (NextToken);

  const deleted: string[] = [];
  for (const url of urls) {
    try {
      const tags = (await client.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
      let lastUsed = Number(tags[HEARTBEAT_TAG]);
      if (!Number.isFinite(lastUsed) || lastUsed <= 0) {
        const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['CreatedTimestamp'] }));
        lastUsed = Number(attrs.Attributes?.CreatedTimestamp ?? nowSeconds);
      }
      if (nowSeconds - lastUsed <= idleSeconds) continue;
      await client.send(new DeleteQueueCommand({ QueueUrl: url }));
      deleted.push(url);
      logger?.info?.('idle reply queue deleted', { url, idleSeconds: nowSeconds - lastUsed });
    } catch (error) {
      if (!isQueueGone(error)) throw error;
    }
  }
  return { checked: urls.length, deleted };
}
