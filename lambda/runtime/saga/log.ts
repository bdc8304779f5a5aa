import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { SAGA_LOG_ATTRIBUTE as ATTR, SAGA_STATUS } from '../../../lib/core/wire';
import { type SagaClientOptions, errorMessage, errorName, executionArnOf, resolveSagaClient } from './config';
import { SagaNotFoundError, SagaServiceError } from './errors';

/** A saga's status in the log (`RUNNING` until an outcome row is written). */
export type SagaStatus = (typeof SAGA_STATUS)[keyof typeof SAGA_STATUS];

/** A step's error, as Step Functions caught it. */
export interface SagaStepError {
  readonly step: string;
  readonly error: string;
  readonly cause?: string;
}

/** What the saga log (and, for a running saga, its execution) says about a saga. */
export interface SagaDescription {
  readonly sagaId: string;
  /** The row's status; `RUNNING` as well when there is no row yet but the execution runs. */
  readonly status: SagaStatus;
  readonly businessKey?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly executionArn?: string;
  /** Each completed step's result. */
  readonly results: Record<string, unknown>;
  /** The steps that completed, in the order of `results`. */
  readonly completedSteps: readonly string[];
  /** The step that failed, with its error (COMPENSATED and COMPENSATION_FAILED sagas). */
  readonly failure?: SagaStepError;
  /** The compensations that ran, each with its result. */
  readonly compensations: Record<string, unknown>;
  /** The compensation that exhausted its retries, with its error (COMPENSATION_FAILED). */
  readonly compensationFailure?: SagaStepError;
  /** The steps still to undo, in the order they are undone (COMPENSATION_FAILED). */
  readonly stillToUndo: readonly string[];
  readonly resumeCount: number;
  readonly resumeExecutionArn?: string;
  /** For a saga without an outcome row: the state its execution is in (from the execution history), e.g. `charge` or `Undo reserve`. */
  readonly stateReached?: string;
  /** For a saga without an outcome row: the execution's status (RUNNING, SUCCEEDED, FAILED...). */
  readonly executionStatus?: string;
}

/** Options of {@link describeSaga}. */
export interface DescribeSagaOptions extends SagaClientOptions {
  /**
   * For a saga without an outcome row, read its execution (status, and the state reached from its
   * history): one or two more requests.
   *
   * @default true
   */
  readonly execution?: boolean;
}

/** The document the state machine wrote into the row's `saga` attribute. */
interface SagaDocument {
  readonly results?: Record<string, unknown>;
  readonly failures?: Record<string, { Error?: string; Cause?: string }>;
  readonly compensations?: Record<string, unknown>;
  readonly compensationFailure?: { Error?: string; Cause?: string };
}

/** Reads a saga-log row (consistent read); undefined when there is none. */
export async function readSagaRow(
  client: ReturnType<typeof resolveSagaClient>,
  sagaId: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await client.ddb.send(
      new GetItemCommand({ TableName: client.config.logTableName, Key: { [ATTR.partitionKey]: { S: sagaId } }, ConsistentRead: true }),
    );
    return res.Item ? unmarshall(res.Item) : undefined;
  } catch (error) {
    throw new SagaServiceError('GetItem', errorMessage(error), { cause: error, sagaId });
  }
}

/** Parses the row's `saga` JSON (an empty document when absent or unreadable). */
export function sagaDocumentOf(row: Record<string, unknown> | undefined): SagaDocument {
  const raw = row?.[ATTR.saga];
  if (typeof raw !== 'string') return {};
  try {
    return JSON.parse(raw) as SagaDocument;
  } catch {
    return {};
  }
}

function stepError(errors: Record<string, { Error?: string; Cause?: string }> | undefined): SagaStepError | undefined {
  const [step, e] = Object.entries(errors ?? {})[0] ?? [];
  return step && e ? { step, error: e.Error ?? 'Unknown', cause: e.Cause || undefined } : undefined;
}

/** The name of the last state entered, from the newest events of an execution's history. */
function lastStateEntered(events: readonly HistoryEvent[]): string | undefined {
  for (const e of events) {
    const name = e.stateEnteredEventDetails?.name;
    if (name) return name;
  }
  return undefined;
}

/**
 * What the saga log says about a saga: status, each completed step's result, the failed step and its
 * error, the compensations that ran, and, when a compensation failed, the steps still to undo. For
 * a saga still running (no outcome row yet), also its execution's status and the state it reached.
 *
 * @returns the description, or undefined when the saga is unknown (no row and no execution)
 * @throws SagaServiceError, SagaConfigurationError
 */
export async function describeSaga(sagaId: string, options: DescribeSagaOptions = {}): Promise<SagaDescription | undefined> {
  const client = resolveSagaClient(options);
  const row = await readSagaRow(client, sagaId);
  const doc = sagaDocumentOf(row);
  const status = (row?.[ATTR.status] as SagaStatus | undefined) ?? SAGA_STATUS.running;
  let executionArn = row?.[ATTR.executionArn] as string | undefined;
  let stateReached: string | undefined;
  let executionStatus: string | undefined;
  if (
    (status === SAGA_STATUS.running || status === SAGA_STATUS.resuming) &&
    options.execution !== false &&
    client.config.type === 'STANDARD'
  ) {
    executionArn ??= executionArnOf(client.config.stateMachineArn, sagaId);
    try {
      const described = await client.sfn.send(new DescribeExecutionCommand({ executionArn }));
      executionStatus = described.status;
      const history = await client.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20 }));
      stateReached = lastStateEntered(history.events ?? []);
    } catch (error) {
      if (errorName(error) !== 'ExecutionDoesNotExist')
        throw new SagaServiceError('DescribeExecution', errorMessage(error), { cause: error, sagaId });
      if (!row) return undefined;
    }
  } else if (!row) {
    return undefined;
  }
  const results = doc.results ?? {};
  return {
    sagaId,
    status,
    businessKey: row?.[ATTR.businessKey] as string | undefined,
    startedAt: row?.[ATTR.startedAt] as string | undefined,
    endedAt: row?.[ATTR.endedAt] as string | undefined,
    executionArn,
    results,
    completedSteps: Object.keys(results),
    failure: stepError(doc.failures),
    compensations: doc.compensations ?? {},
    compensationFailure:
      doc.compensationFailure && row?.[ATTR.failedCompensation]
        ? {
            step: String(row[ATTR.failedCompensation]),
            error: doc.compensationFailure.Error ?? 'Unknown',
            cause: doc.compensationFailure.Cause || undefined,
          }
        : undefined,
    stillToUndo: (row?.[ATTR.stillToUndo] as string[] | undefined) ?? [],
    resumeCount: Number(row?.[ATTR.resumeCount] ?? 0),
    resumeExecutionArn: row?.[ATTR.resumeExecutionArn] as string | undefined,
    stateReached,
    executionStatus,
  };
}

/** Like {@link describeSaga}, but throws {@link SagaNotFoundError} for an unknown saga. */
export async function requireSaga(sagaId: string, options: DescribeSagaOptions = {}): Promise<SagaDescription> {
  const description = await describeSaga(sagaId, options);
  if (!description) throw new SagaNotFoundError(sagaId);
  return description;
}
