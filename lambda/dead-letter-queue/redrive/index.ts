/**
 * The redrive function of `DeadLetterQueueRedrive`: starts, reports or cancels an SQS message move
 * task out of one dead-letter queue. Invoked on a schedule (`{ "action": "start", "trigger":
 * "schedule" }`) or by an operator (`aws lambda invoke --payload '{"action":"start"}'`).
 *
 * It never waits for the move to finish (a move task can run for hours): it starts the task and
 * returns its handle; `status` reports progress, `cancel` stops it.
 *
 * Environment: DEAD_LETTER_QUEUE_ARN; DESTINATION_QUEUE_ARN (optional: else messages go back to
 * the queues they came from); MAX_MESSAGES_PER_SECOND (optional).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { cancelRedrive, describeQueue, latestRedrive, startRedrive, type RedriveTask } from '../../runtime/dlq/operations';

/** What the function is asked to do. */
export interface RedriveRequest {
  /** @default 'start' */
  readonly action?: 'start' | 'status' | 'cancel';
  /** Overrides MAX_MESSAGES_PER_SECOND for this redrive (1–500). */
  readonly maxMessagesPerSecond?: number;
  /** `schedule` when a schedule invokes it: an empty dead-letter queue is then skipped. */
  readonly trigger?: 'schedule' | 'manual';
}

/** What the function returns. */
export interface RedriveResponse {
  readonly action: 'start' | 'status' | 'cancel';
  readonly outcome: 'started' | 'already-running' | 'empty' | 'cancelled' | 'not-running' | 'reported';
  readonly task?: RedriveTask;
  /** `cancel`: messages moved before the cancellation. */
  readonly moved?: number;
}

const logger = new Logger({ serviceName: 'dead-letter-queue-redrive' });
const sqs = new SQSClient({});

function config(): { deadLetterQueueArn: string; destinationArn?: string; maxMessagesPerSecond?: number } {
  const deadLetterQueueArn = process.env.DEAD_LETTER_QUEUE_ARN;
  if (!deadLetterQueueArn) throw new Error('DEAD_LETTER_QUEUE_ARN is not set');
  const rate = process.env.MAX_MESSAGES_PER_SECOND;
  return {
    deadLetterQueueArn,
    destinationArn: process.env.DESTINATION_QUEUE_ARN || undefined,
    maxMessagesPerSecond: rate ? Number(rate) : undefined,
  };
}

async function queueIsEmpty(arn: string): Promise<boolean> {
  const queue = await describeQueue(sqs, arn);
  return queue.visible + queue.inFlight === 0;
}

export const handler = async (event: RedriveRequest | null | undefined): Promise<RedriveResponse> => {
  const cfg = config();
  const action = event?.action ?? 'start';

  if (action === 'status') {
    const task = await latestRedrive(sqs, cfg.deadLetterQueueArn);
    logger.info('redrive status', { task });
    return { action, outcome: 'reported', task };
  }

  if (action === 'cancel') {
    const moved = await cancelRedrive(sqs, cfg.deadLetterQueueArn);
    logger.info(moved === undefined ? 'no redrive running' : 'redrive cancelled', { moved });
    return { action, outcome: moved === undefined ? 'not-running' : 'cancelled', moved };
  }

  if (action !== 'start') throw new Error(`unknown action '${String(action)}': use start, status or cancel`);

  // A schedule skips an empty queue (no task, no noise); an operator's start always starts.
  if (event?.trigger === 'schedule' && (await queueIsEmpty(cfg.deadLetterQueueArn))) {
    logger.info('dead-letter queue empty, nothing to redrive');
    return { action, outcome: 'empty' };
  }
  const result = await startRedrive(sqs, cfg.deadLetterQueueArn, {
    destinationArn: cfg.destinationArn,
    maxMessagesPerSecond: event?.maxMessagesPerSecond ?? cfg.maxMessagesPerSecond,
  });
  if (result.started && result.previous?.status === 'FAILED') {
    logger.warn('the previous redrive failed; a new one was started', { previous: result.previous });
  }
  logger.info(result.started ? 'redrive started' : 'a redrive is already running', { task: result.task });
  return { action, outcome: result.started ? 'started' : 'already-running', task: result.task };
};
