import { SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { type Fail, checkClient, checkInteger, checkString } from '../internal/options';
import { errorMessage, errorName } from './config';
import { SagaConfigurationError, SagaServiceError, SagaTaskTokenError } from './errors';

/** Options of the task-token helpers. */
export interface TaskTokenOptions {
  /** @default - a new `SFNClient` */
  readonly client?: SFNClient;
}

const fail: Fail = (option, message, value) => {
  throw new SagaConfigurationError(option, message.startsWith(`${option} `) ? message.slice(option.length + 1) : message, { value });
};

/** Step Functions' answers that mean nobody waits for the token any more. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
/** Largest error and cause `SendTaskFailure` accepts. */
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;

let shared: SFNClient | undefined;

function clientOf(options: TaskTokenOptions): SFNClient {
  checkClient(fail, 'client', options.client);
  return options.client ?? (shared ??= new SFNClient({}));
}

type TaskCommand = SendTaskSuccessCommand | SendTaskFailureCommand | SendTaskHeartbeatCommand;

async function send(client: SFNClient, operation: string, command: TaskCommand): Promise<void> {
  try {
    await client.send(command as SendTaskSuccessCommand);
  } catch (error) {
    if (GONE.has(errorName(error))) throw new SagaTaskTokenError(errorName(error), errorMessage(error), { cause: error });
    throw new SagaServiceError(operation, errorMessage(error), { cause: error });
  }
}

/**
 * Completes a callback step (`SendTaskSuccess`): `output` (JSON-serialisable) becomes the step's
 * result, and the saga goes on.
 *
 * @throws SagaTaskTokenError when the step already ended (timed out, answered), SagaServiceError
 */
export async function completeTask(taskToken: string, output: unknown = {}, options: TaskTokenOptions = {}): Promise<void> {
  checkString(fail, 'taskToken', taskToken);
  await send(clientOf(options), 'SendTaskSuccess', new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output ?? {}) }));
}

/**
 * Fails a callback step (`SendTaskFailure`) with an error name the saga's Catch sees (e.g.
 * `ApprovalRejected`): the saga compensates.
 *
 * @throws SagaTaskTokenError when the step already ended, SagaServiceError
 */
export async function failTask(taskToken: string, error: string, cause = '', options: TaskTokenOptions = {}): Promise<void> {
  checkString(fail, 'taskToken', taskToken);
  checkString(fail, 'error', error);
  await send(
    clientOf(options),
    'SendTaskFailure',
    new SendTaskFailureCommand({ taskToken, error: error.slice(0, MAX_ERROR), cause: String(cause).slice(0, MAX_CAUSE) }),
  );
}

/**
 * Tells Step Functions a callback step is still being worked on (`SendTaskHeartbeat`): call it more
 * often than the step's `heartbeat`, or the step fails with `States.HeartbeatTimeout`.
 *
 * @throws SagaTaskTokenError when the step already ended, SagaServiceError
 */
export async function heartbeatTask(taskToken: string, options: TaskTokenOptions = {}): Promise<void> {
  checkString(fail, 'taskToken', taskToken);
  await send(clientOf(options), 'SendTaskHeartbeat', new SendTaskHeartbeatCommand({ taskToken }));
}

/** Options of {@link keepTaskAlive}. */
export interface KeepTaskAliveOptions extends TaskTokenOptions {
  /** Milliseconds between heartbeats (a third of the step's `heartbeat` is a safe choice). */
  readonly intervalMs: number;
}

/**
 * Runs `work` while sending a heartbeat every `intervalMs`, then completes the step with its result
 * (or fails it with the error's name). A heartbeat that finds the step ended stops the heartbeats;
 * `work` is not interrupted.
 */
export async function keepTaskAlive<T>(taskToken: string, work: () => Promise<T>, options: KeepTaskAliveOptions): Promise<T> {
  checkString(fail, 'taskToken', taskToken);
  checkInteger(fail, 'intervalMs', options.intervalMs, 100);
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    heartbeatTask(taskToken, options).catch((error: unknown) => {
      if (error instanceof SagaTaskTokenError) stopped = true;
    });
  }, options.intervalMs);
  try {
    const result = await work();
    await completeTask(taskToken, result, options);
    return result;
  } catch (error) {
    if (!(error instanceof SagaTaskTokenError)) {
      await failTask(taskToken, errorName(error), errorMessage(error), options).catch(() => undefined);
    }
    throw error;
  } finally {
    clearInterval(timer);
  }
}
