import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, StartExecutionCommand, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import { SAGA_LOG_ATTRIBUTE as ATTR, SAGA_STATUS } from '../../../lib/core/wire';
import {
  type ResolvedSagaClient,
  type SagaClientOptions,
  errorMessage,
  errorName,
  executionArnOf,
  resolveSagaClient,
  sagaIdOf,
} from './config';
import { SagaConfigurationError, SagaServiceError, SagaStartConflictError } from './errors';
import { type SagaDescription, type SagaStatus, describeSaga } from './log';

/** What {@link startSaga} returns. */
export interface StartSagaResult {
  /** The saga id: the execution name, derived from the business key ({@link sagaIdOf}). */
  readonly sagaId: string;
  /** The execution running the saga (the first one, for a duplicate). */
  readonly executionArn: string;
  /**
   * True when a start with this business key was made before: the saga runs once, this call
   * started nothing new.
   */
  readonly duplicate: boolean;
}

/** The execution input the saga's state machine expects. */
export const sagaExecutionInput = (input: unknown): string => JSON.stringify({ input });

/** Writes the RUNNING start row unless the saga has a row already; true when it had one. */
async function writeStartRow(client: ResolvedSagaClient, sagaId: string, businessKey: string, executionArn?: string): Promise<boolean> {
  try {
    await client.ddb.send(
      new PutItemCommand({
        TableName: client.config.logTableName,
        Item: marshall(
          {
            [ATTR.partitionKey]: sagaId,
            [ATTR.status]: SAGA_STATUS.running,
            [ATTR.businessKey]: businessKey,
            [ATTR.startedAt]: new Date().toISOString(),
            [ATTR.executionArn]: executionArn,
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': ATTR.partitionKey },
      }),
    );
    return false;
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return true;
    throw new SagaServiceError('PutItem', errorMessage(error), { cause: error, sagaId });
  }
}

/** Checks the business key and the input; returns the saga id. */
function checkStart(businessKey: string, input: unknown): string {
  const sagaId = sagaIdOf(businessKey);
  if (input === undefined) throw new SagaConfigurationError('input', 'must be a JSON value (given undefined)');
  return sagaId;
}

/**
 * Starts a saga, once per business key: the execution is named after the key ({@link sagaIdOf}),
 * so a retried or duplicated start does not run the saga twice.
 *
 * 1. The start row (RUNNING, the business key, the time) goes into the saga log, unless the saga has
 *    a row already.
 * 2. Standard: `StartExecution` with that name. Step Functions answers a second start with the same
 *    name and input with the running execution, and one after it ended with `ExecutionAlreadyExists`
 *    (for 90 days): both are duplicates. The same key with a different input is a
 *    {@link SagaStartConflictError}.
 * 3. Express (whose executions are not unique by name): the start row is the guard; a saga that has
 *    one is a duplicate and is not started again. A crash between the row and `StartExecution` leaves
 *    a RUNNING row with no execution (at most once).
 *
 * @example
 * const { sagaId, duplicate } = await startSaga(order.orderId, order);
 * @throws SagaStartConflictError, SagaServiceError (retryable), SagaConfigurationError
 */
export async function startSaga(businessKey: string, input: unknown, options: SagaClientOptions = {}): Promise<StartSagaResult> {
  const client = resolveSagaClient(options);
  const sagaId = checkStart(businessKey, input);
  const { config } = client;
  const standard = config.type === 'STANDARD';
  const knownArn = standard ? executionArnOf(config.stateMachineArn, sagaId) : undefined;
  const hadRow = await writeStartRow(client, sagaId, businessKey, knownArn);
  if (!standard && hadRow) {
    client.logger?.info?.('saga already started', { sagaId, businessKey });
    const row = await describeSaga(sagaId, { ...options, execution: false });
    return { sagaId, executionArn: row?.executionArn ?? '', duplicate: true };
  }
  const payload = sagaExecutionInput(input);
  try {
    const res = await client.sfn.send(new StartExecutionCommand({ stateMachineArn: config.stateMachineArn, name: sagaId, input: payload }));
    return { sagaId, executionArn: res.executionArn!, duplicate: hadRow };
  } catch (error) {
    if (errorName(error) !== 'ExecutionAlreadyExists' || !knownArn) {
      throw new SagaServiceError('StartExecution', errorMessage(error), {
        cause: error,
        sagaId,
        retryable: errorName(error) !== 'AccessDeniedException',
      });
    }
    const existing = await client.sfn.send(new DescribeExecutionCommand({ executionArn: knownArn })).catch((e: unknown) => {
      throw new SagaServiceError('DescribeExecution', errorMessage(e), { cause: e, sagaId });
    });
    if (!sameJson(existing.input, payload)) throw new SagaStartConflictError(sagaId, knownArn);
    client.logger?.info?.('saga already started', { sagaId, businessKey, executionArn: knownArn });
    return { sagaId, executionArn: knownArn, duplicate: true };
  }
}

function sameJson(a: string | undefined, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a ?? 'null')) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

/** What {@link runSaga} returns. */
export interface RunSagaResult {
  readonly sagaId: string;
  /** COMMITTED or COMPENSATED; COMPENSATION_FAILED when a compensation was exhausted; RUNNING for a duplicate still running. */
  readonly status: SagaStatus;
  /** Each completed step's result. */
  readonly results: Record<string, unknown>;
  /** The step that failed, for a compensated saga. */
  readonly failedStep?: string;
  /** True when the saga had run (or been started) before: the outcome is the first run's. */
  readonly duplicate: boolean;
  /** The full description, as `describeSaga` gives it. */
  readonly description?: SagaDescription;
}

/**
 * Runs an Express saga synchronously (`StartSyncExecution`): request-response, at most 5 minutes.
 * Once per business key, through the start row: a duplicate returns the first run's outcome from the
 * saga log (or RUNNING while it runs).
 *
 * @throws SagaServiceError, SagaConfigurationError (a Standard saga: use startSaga)
 */
export async function runSaga(businessKey: string, input: unknown, options: SagaClientOptions = {}): Promise<RunSagaResult> {
  const client = resolveSagaClient(options);
  const sagaId = checkStart(businessKey, input);
  if (client.config.type !== 'EXPRESS') {
    throw new SagaConfigurationError('config.type', 'runSaga runs Express sagas; start a Standard saga with startSaga', {
      value: client.config.type,
    });
  }
  const hadRow = await writeStartRow(client, sagaId, businessKey);
  if (hadRow) {
    const d = await describeSaga(sagaId, { ...options, execution: false });
    return {
      sagaId,
      status: d?.status ?? SAGA_STATUS.running,
      results: d?.results ?? {},
      failedStep: d?.failure?.step,
      duplicate: true,
      description: d,
    };
  }
  let res;
  try {
    res = await client.sfn.send(
      new StartSyncExecutionCommand({ stateMachineArn: client.config.stateMachineArn, name: sagaId, input: sagaExecutionInput(input) }),
    );
  } catch (error) {
    throw new SagaServiceError('StartSyncExecution', errorMessage(error), { cause: error, sagaId });
  }
  if (res.status !== 'SUCCEEDED') {
    const d = await describeSaga(sagaId, { ...options, execution: false });
    return {
      sagaId,
      status: d?.status ?? SAGA_STATUS.running,
      results: d?.results ?? {},
      failedStep: d?.failure?.step,
      duplicate: false,
      description: d,
    };
  }
  const output = JSON.parse(res.output ?? '{}') as {
    outcome?: { status?: SagaStatus };
    saga?: { results?: Record<string, unknown>; failures?: Record<string, unknown> };
  };
  return {
    sagaId,
    status: output.outcome?.status ?? SAGA_STATUS.committed,
    results: output.saga?.results ?? {},
    failedStep: Object.keys(output.saga?.failures ?? {})[0],
    duplicate: false,
  };
}
