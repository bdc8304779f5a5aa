/**
 * The sample order saga's approver: ends the manual-approval callback step of an order above the
 * approval amount (`SagaTask.callbackQueue` put the request, with its task token, on the approvals
 * queue). Invoked by an approvals UI, an operator or the tests with
 * `{ taskToken, decision: 'approve' | 'reject' | 'heartbeat', approver?, reason? }`; connect it with
 * `saga.connectConsumer(fn)` (states:SendTask*).
 */
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';
import { completeTask, failTask, heartbeatTask } from '../../runtime/saga/task-token';

/** A decision on one approval request. */
export interface ApprovalDecision {
  readonly taskToken: string;
  readonly decision: 'approve' | 'reject' | 'heartbeat';
  readonly approver?: string;
  readonly reason?: string;
}

/** Thrown for a malformed decision. */
export class InvalidDecisionError extends MessagingPatternsRuntimeError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = 'InvalidDecisionError';
  }
}

/** The error an order saga's approval step fails with when the approver says no: the saga compensates. */
export const APPROVAL_REJECTED = 'ApprovalRejected';

const logger = handlerLogger('saga-approval');

export const handler = async (event: ApprovalDecision): Promise<{ readonly decision: string }> => {
  if (typeof event?.taskToken !== 'string' || event.taskToken === '')
    throw new InvalidDecisionError('taskToken must be a non-empty string');
  switch (event.decision) {
    case 'approve':
      await completeTask(event.taskToken, { approved: true, approver: event.approver ?? 'unknown' });
      break;
    case 'reject':
      await failTask(event.taskToken, APPROVAL_REJECTED, event.reason ?? 'rejected');
      break;
    case 'heartbeat':
      await heartbeatTask(event.taskToken);
      break;
    default:
      throw new InvalidDecisionError(`decision must be approve, reject or heartbeat (given ${JSON.stringify(event.decision)})`);
  }
  logger.info('approval decision', { decision: event.decision, approver: event.approver });
  return { decision: event.decision };
};
