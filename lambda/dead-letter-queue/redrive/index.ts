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
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../../lib/core/wire';
import { DeadLetterQueueConfigurationError } from '../../runtime/dlq/errors';
import {
  MAX_REDRIVE_RATE,
  type RedriveTask,
  cancelRedrive,
  describeQueue,
  latestRedrive,
  startRedrive,
} from '../../runtime/dlq/operations';
import { handlerLogger } from '../../runtime/internal/logger';
import { type Fail, checkInteger, checkQueueArn, numberFromEnvironment } from '../../runtime/internal/options';

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

const ACTIONS: ReadonlyArray<RedriveResponse['action']> = ['start', 'status', 'cancel'];

const logger = handlerLogger('dead-letter-queue-redrive');
const sqs = new SQSClient({});

const fail: Fail = (option, message, value) => {
  throw new DeadLetterQueueConfigurationError(option, message, { value });
};

/** The function's settings, checked: every malformed variable is named. */
function config(): { deadLetterQueueArn: string; destinationArn?: string; maxMessagesPerSecond?: number } {
  const deadLetterQueueArn = process.env[ENV.deadLetterQueueArn];
  if (!deadLetterQueueArn) fail(ENV.deadLetterQueueArn, `${ENV.deadLetterQueueArn} is not set`, deadLetterQueueArn);
  checkQueueArn(fail, ENV.deadLetterQueueArn, deadLetterQueueArn);
  const destinationArn = process.env[ENV.destinationQueueArn] || undefined;
  if (destinationArn !== undefined) checkQueueArn(fail, ENV.destinationQueueArn, destinationArn);
  const maxMessagesPerSecond = numberFromEnvironment(fail, ENV.maxMessagesPerSecond, (f, v) =>
    checkInteger(f, ENV.maxMessagesPerSecond, v, 1, MAX_REDRIVE_RATE),
  );
  return { deadLetterQueueArn: deadLetterQueueArn!, destinationArn, maxMessagesPerSecond };
}

async function queueIsEmpty(arn: string): Promise<boolean> {
  const queue = await describeQueue(sqs, arn);
  return queue.visible + queue.inFlight === 0;
}

export const handler = async (event: RedriveRequest | null | undefined): Promise<RedriveResponse> => {
  const cfg = config();
  const action = event?.action ?? 'start';
  if (!ACTIONS.includes(action)) fail('action', `unknown action '${String(action)}': use start, status or cancel`, action);

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
