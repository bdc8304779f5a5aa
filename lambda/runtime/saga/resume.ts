import { createHash } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { LIMIT, SAGA_LOG_ATTRIBUTE as ATTR, SAGA_STATUS } from '../../../lib/core/wire';
import { type SagaClientOptions, errorMessage, errorName, executionArnOf, resolveSagaClient } from './config';
import { SagaConfigurationError, SagaNotFoundError, SagaNotResumableError, SagaServiceError } from './errors';
import { readSagaRow, sagaDocumentOf } from './log';

/** What {@link resumeSaga} returns. */
export interface ResumeSagaResult {
  readonly sagaId: string;
  /** The resume execution. */
  readonly executionArn: string;
  /** The compensation it starts at (the one that failed). */
  readonly resumeFrom: string;
  /** The steps it undoes, in order. */
  readonly stillToUndo: readonly string[];
  /** Which resume this is (1 for the first). */
  readonly resumeCount: number;
}

/** The name of the n-th resume execution of a saga (at most 80 characters). */
export function resumeExecutionName(sagaId: string, resumeCount: number): string {
  const name = `${sagaId}-resume-${resumeCount}`;
  if (name.length <= LIMIT.sfnExecutionNameMaxLength) return name;
  return `${createHash('sha256').update(sagaId).digest('base64url')}-resume-${resumeCount}`;
}

/**
 * Resumes a saga whose compensation exhausted its retries (COMPENSATION_FAILED), after the cause
 * was fixed: starts the saga's resume machine at the compensation that failed, which undoes the
 * steps still to undo and ends the saga COMPENSATED (or COMPENSATION_FAILED again).
 *
 * Idempotent: the row moves to RESUMING with a resume count (a conditional update, so two operators
 * resuming at once start one execution), and the execution is named after the saga and the count;
 * calling again while RESUMING starts nothing new. Step Functions' `RedriveExecution` is not used:
 * it restarts at the Fail state the saga ends in, not at the compensation, and Express sagas cannot
 * be redriven at all.
 *
 * @throws SagaNotFoundError, SagaNotResumableError, SagaServiceError, SagaConfigurationError
 */
export async function resumeSaga(sagaId: string, options: SagaClientOptions = {}): Promise<ResumeSagaResult> {
  const client = resolveSagaClient(options);
  const { config } = client;
  if (!config.resumeStateMachineArn) {
    throw new SagaConfigurationError('config.resumeStateMachineArn', 'the saga has no resume machine (no step has a compensation)');
  }
  let row = await readSagaRow(client, sagaId);
  if (!row) throw new SagaNotFoundError(sagaId);
  const status = String(row[ATTR.status]);
  if (status === SAGA_STATUS.compensationFailed) {
    const seen = Number(row[ATTR.resumeCount] ?? 0);
    try {
      const res = await client.ddb.send(
        new UpdateItemCommand({
          TableName: config.logTableName,
          Key: { [ATTR.partitionKey]: { S: sagaId } },
          UpdateExpression: 'SET #status = :resuming, #count = :next, #at = :now',
          ConditionExpression: '#status = :failed AND (attribute_not_exists(#count) OR #count = :seen)',
          ExpressionAttributeNames: { '#status': ATTR.status, '#count': ATTR.resumeCount, '#at': ATTR.resumedAt },
          ExpressionAttributeValues: {
            ':resuming': { S: SAGA_STATUS.resuming },
            ':failed': { S: SAGA_STATUS.compensationFailed },
            ':next': { N: String(seen + 1) },
            ':seen': { N: String(seen) },
            ':now': { S: new Date().toISOString() },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      row = unmarshall(res.Attributes!);
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException')
        throw new SagaServiceError('UpdateItem', errorMessage(error), { cause: error, sagaId });
      row = await readSagaRow(client, sagaId); // resumed by someone else meanwhile
      if (!row) throw new SagaNotFoundError(sagaId);
    }
  }
  if (String(row[ATTR.status]) !== SAGA_STATUS.resuming) throw new SagaNotResumableError(sagaId, String(row[ATTR.status]));

  const resumeFrom = String(row[ATTR.failedCompensation] ?? '');
  const stillToUndo = (row[ATTR.stillToUndo] as string[] | undefined) ?? [];
  const resumeCount = Number(row[ATTR.resumeCount] ?? 1);
  if (!resumeFrom) throw new SagaNotResumableError(sagaId, `${SAGA_STATUS.resuming} without a failed compensation`);
  const doc = sagaDocumentOf(row);
  let input: unknown = null;
  try {
    input = JSON.parse(String(row[ATTR.input] ?? 'null'));
  } catch {
    input = null;
  }
  // Deterministic for a given row: a second call starts the same execution (same name, same input).
  const payload = JSON.stringify({ sagaId, resumeFrom, input, saga: { ...doc, results: doc.results ?? {} } });
  const name = resumeExecutionName(sagaId, resumeCount);
  try {
    const res = await client.sfn.send(new StartExecutionCommand({ stateMachineArn: config.resumeStateMachineArn, name, input: payload }));
    client.logger?.info?.('saga resumed', { sagaId, resumeFrom, resumeCount, executionArn: res.executionArn });
    return { sagaId, executionArn: res.executionArn!, resumeFrom, stillToUndo, resumeCount };
  } catch (error) {
    if (errorName(error) === 'ExecutionAlreadyExists') {
      return { sagaId, executionArn: executionArnOf(config.resumeStateMachineArn, name), resumeFrom, stillToUndo, resumeCount };
    }
    throw new SagaServiceError('StartExecution', errorMessage(error), { cause: error, sagaId });
  }
}
