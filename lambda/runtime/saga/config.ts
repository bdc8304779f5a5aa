import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV, LIMIT } from '../../../lib/core/wire';
import { type Fail, checkClient, checkLogger, checkPattern } from '../internal/options';
import { type RuntimeLogger, resolveLogger } from '../internal/logger';
import { SagaConfigurationError } from './errors';

/** What `Saga.sagaConfig` holds (`connectProducer` and `connectConsumer` set it in `SAGA_CONFIG`). */
export interface SagaConfig {
  /** The saga's state machine. */
  readonly stateMachineArn: string;
  /** The resume machine, when a step has a compensation. */
  readonly resumeStateMachineArn?: string;
  /** The saga log's table. */
  readonly logTableName: string;
  /** `STANDARD` or `EXPRESS`. */
  readonly type: 'STANDARD' | 'EXPRESS';
}

/** Options every helper that talks to the saga takes. */
export interface SagaClientOptions {
  /**
   * The saga's configuration, as an object or its JSON.
   *
   * @default - the `SAGA_CONFIG` environment variable
   */
  readonly config?: SagaConfig | string;
  /**
   * The Step Functions client. For `runSaga` against an emulator, give one with `disableHostPrefix: true`
   * (`StartSyncExecution` goes to the `sync-` host otherwise).
   *
   * @default - a new `SFNClient`
   */
  readonly sfnClient?: SFNClient;
  /** @default - a new `DynamoDBClient` */
  readonly dynamoDbClient?: DynamoDBClient;
  /** @default - the shared Powertools Logger (`null` for none) */
  readonly logger?: RuntimeLogger | null;
}

/** Options after defaults and checks. */
export interface ResolvedSagaClient {
  readonly config: SagaConfig;
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBClient;
  readonly logger: RuntimeLogger | null;
}

const fail: Fail = (option, message, value) => {
  throw new SagaConfigurationError(option, message.startsWith(`${option} `) ? message.slice(option.length + 1) : message, { value });
};

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const TABLE_NAME = /^([A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/;

let sharedSfn: SFNClient | undefined;
let sharedDdb: DynamoDBClient | undefined;

/** Parses and checks a saga configuration (JSON or object). */
export function parseSagaConfig(value: SagaConfig | string | undefined, source = 'config'): SagaConfig {
  if (value === undefined || value === '') {
    throw new SagaConfigurationError(
      'config',
      `${source}: no saga configuration (set ${ENV.sagaConfig} with Saga.connectProducer or connectConsumer, or pass config)`,
    );
  }
  let config: SagaConfig;
  try {
    config = typeof value === 'string' ? (JSON.parse(value) as SagaConfig) : value;
  } catch (cause) {
    throw new SagaConfigurationError('config', `${source}: not valid JSON`, { cause });
  }
  if (typeof config !== 'object' || config === null) throw new SagaConfigurationError('config', `${source}: must be an object`, { value });
  checkPattern(fail, 'config.stateMachineArn', config.stateMachineArn, STATE_MACHINE_ARN, 'a Step Functions state machine ARN');
  if (config.resumeStateMachineArn !== undefined) {
    checkPattern(
      fail,
      'config.resumeStateMachineArn',
      config.resumeStateMachineArn,
      STATE_MACHINE_ARN,
      'a Step Functions state machine ARN',
    );
  }
  checkPattern(fail, 'config.logTableName', config.logTableName, TABLE_NAME, 'a DynamoDB table name or ARN');
  if (config.type !== 'STANDARD' && config.type !== 'EXPRESS') {
    throw new SagaConfigurationError('config.type', `must be STANDARD or EXPRESS (given ${JSON.stringify(config.type)})`, {
      value: config.type,
    });
  }
  return config;
}

/** The configuration and clients a helper uses. */
export function resolveSagaClient(options: SagaClientOptions = {}): ResolvedSagaClient {
  const config = parseSagaConfig(
    options.config ?? process.env[ENV.sagaConfig],
    options.config !== undefined ? 'config' : `environment variable ${ENV.sagaConfig}`,
  );
  checkClient(fail, 'sfnClient', options.sfnClient);
  checkClient(fail, 'dynamoDbClient', options.dynamoDbClient);
  checkLogger(fail, 'logger', options.logger);
  return {
    config,
    sfn: options.sfnClient ?? (sharedSfn ??= new SFNClient({})),
    ddb: options.dynamoDbClient ?? (sharedDdb ??= new DynamoDBClient({})),
    logger: resolveLogger(options.logger),
  };
}

/** What a saga id (an execution name) may hold as it is: letters, digits, `_`, `.` and `-`, at most 80. */
const PLAIN_ID = new RegExp(`^[A-Za-z0-9_.-]{1,${LIMIT.sfnExecutionNameMaxLength}}$`);

/**
 * The saga id of a business key: the key itself when it is a valid execution name (letters,
 * digits, `_`, `.`, `-`, at most 80 characters), else `k-` and a SHA-256 of it (base64url). The
 * same key always gives the same id, which is what makes starts idempotent.
 */
export function sagaIdOf(businessKey: string): string {
  if (typeof businessKey !== 'string' || businessKey === '') {
    throw new SagaConfigurationError('businessKey', `must be a non-empty string (given ${JSON.stringify(businessKey)})`, {
      value: businessKey,
    });
  }
  if (PLAIN_ID.test(businessKey) && !businessKey.startsWith('k-')) return businessKey;
  return `k-${createHash('sha256').update(businessKey).digest('base64url')}`;
}

/** The ARN of a Standard execution named `name` of `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The error name of an SDK error. */
export const errorName = (error: unknown): string => (error as { name?: string })?.name ?? 'Error';
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
