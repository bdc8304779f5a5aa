import { Annotations, ArnFormat, Lazy, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MessagingPatternProps, createAlarm, validateAlarms } from '../core/alarms';
import {
  KIT_LOG_RETENTION,
  SAGA_ACTION_MAX_ATTEMPTS,
  SAGA_ACTION_MAX_DELAY,
  SAGA_ACTION_RETRY_INTERVAL,
  SAGA_ALARM_THRESHOLD,
  SAGA_CALLBACK_MAX_ATTEMPTS,
  SAGA_COMPENSATION_MAX_ATTEMPTS,
  SAGA_COMPENSATION_MAX_DELAY,
  SAGA_COMPENSATION_RETRY_INTERVAL,
  SAGA_EXPRESS_COMPENSATION_MAX_ATTEMPTS,
  SAGA_LOG_WRITE_MAX_ATTEMPTS,
  SAGA_LOG_WRITE_MAX_DELAY,
  SAGA_LOG_WRITE_RETRY_INTERVAL,
  SAGA_RETRY_BACKOFF_RATE,
} from '../core/defaults';
import { dependOnPoliciesOf } from '../core/dependencies';
import { combineGrants, connectFunction } from '../core/grants';
import { SFN_EXPRESS_MAX_DURATION, SFN_MAX_MAP_CONCURRENCY, SFN_MAX_TASK_TIMEOUT, SFN_MIN_TASK_TIMEOUT } from '../core/limits';
import { metricOptions } from '../core/metrics';
import { acknowledgeWildcardResource } from '../core/nag';
import { ConnectOptions, MessagingPattern } from '../core/pattern';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';

import { ENV, SAGA_LOG_ATTRIBUTE } from '../core/wire';
import {
  type PlanStep,
  RESERVED_STEP_NAMES,
  hasCompensation,
  hasDistributedMap,
  resumeDefinition,
  sagaDefinition,
  tasksOf,
  worstCaseDelaySeconds,
} from './private/definition';
import { type RetryDefaults, resolveRetry, secondsOf, validateRetry } from './private/retry';
import type { SagaRetry, SagaStep } from './saga-step';

/** Props of {@link Saga}. */
export interface SagaProps extends MessagingPatternProps {
  /** The steps, in order: at least one. */
  readonly steps: SagaStep[];

  /**
   * Standard (exactly once, up to a year, callbacks, resume by execution name) or Express (at most
   * 5 minutes, no callbacks: request-response sagas run with `runSaga`).
   *
   * @default sfn.StateMachineType.STANDARD
   */
  readonly stateMachineType?: sfn.StateMachineType;

  /**
   * The state machine's name (1–73 characters: the resume machine is `<name>-resume`).
   *
   * @default - a name CloudFormation generates
   */
  readonly stateMachineName?: string;

  /**
   * How actions are retried unless a step says otherwise.
   *
   * @default - 3 retries, from 1 s, doubling, at most 30 s apart, full jitter
   */
  readonly retry?: SagaRetry;

  /**
   * How compensations are retried unless a step says otherwise.
   *
   * @default - 20 retries (8 in an Express saga), from 1 s, doubling, at most 1 minute apart, full jitter
   */
  readonly compensationRetry?: SagaRetry;

  /**
   * Whether a step that failed is compensated too, before the steps that completed: a step that
   * timed out (or lost its response) may have taken effect. Its compensation must then be a no-op
   * when the action never took effect. With false, compensation starts at the step before.
   *
   * @default true
   */
  readonly compensateFailedStep?: boolean;

  /**
   * Logging of both state machines.
   *
   * @default - a new log group (one-month retention), level ALL, without execution data
   */
  readonly logs?: sfn.LogOptions;

  /**
   * X-Ray tracing of both state machines.
   *
   * @default true
   */
  readonly tracingEnabled?: boolean;

  /**
   * A customer managed key encrypting the saga log.
   *
   * @default - a key AWS owns
   */
  readonly logTableEncryptionKey?: kms.IKey;

  /**
   * Point-in-time recovery of the saga log.
   *
   * @default true
   */
  readonly logTablePointInTimeRecovery?: boolean;

  /**
   * What happens to the saga log when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logTableRemovalPolicy?: RemovalPolicy;
}

/** Alarm ids of Saga, for `alarms.overrides`. */
const COMPENSATION_FAILED_ALARM = 'CompensationFailed';
const TIMED_OUT_ALARM = 'ExecutionsTimedOut';
const ABORTED_ALARM = 'ExecutionsAborted';
const RESUME_FAILED_ALARM = 'ResumeFailed';
const SAGA_ALARMS = [COMPENSATION_FAILED_ALARM, TIMED_OUT_ALARM, ABORTED_ALARM, RESUME_FAILED_ALARM];
const STEP_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;
const MACHINE_NAME = /^[A-Za-z0-9_-]{1,73}$/;
const ITEMS_PATH = /^\$\.(input|saga\.results\.[A-Za-z][A-Za-z0-9_-]*)(\.|\[|$)/;

/**
 * A saga: ordered steps, each an action with its retries and a compensation, run by a Step
 * Functions state machine the construct generates. On a step's failure after its retries (any error,
 * `States.Timeout` and `States.TaskFailed` included) the compensations of the completed steps run in
 * reverse order, each retried until it succeeds or exhausts; an exhausted compensation ends the saga
 * COMPENSATION_FAILED (a saga-log row listing the steps still to undo, an alarm) and `resumeSaga`
 * finishes it after a fix. Every task gets the idempotency token `<sagaId>#<step>`. `startSaga`
 * names the execution after the business key, so a duplicate start runs the saga once.
 *
 * The saga log (`logTable`, keyed by `sagaId`) holds one row per saga: RUNNING (written by
 * `startSaga`), then COMMITTED, COMPENSATED or COMPENSATION_FAILED, written by the machine's final
 * state in place of a Succeed or Fail (no extra state transitions).
 *
 * Alarms (ids for `alarms.overrides`): `CompensationFailed` (executions failed: a compensation was
 * exhausted, or the machine failed otherwise), `ExecutionsTimedOut`, `ExecutionsAborted` (a saga
 * stopped half done) and `ResumeFailed` (a resume execution failed).
 *
 * @example
 * const saga = new Saga(this, 'Order', {
 *   steps: [
 *     { name: 'reserve', action: SagaTask.invoke(inventory), compensation: SagaTask.invoke(inventory) },
 *     { name: 'charge', action: SagaTask.invoke(payments), compensation: SagaTask.invoke(payments),
 *       retry: { nonRetryableErrors: ['PaymentDeclined'] } },
 *     { name: 'ship', action: SagaTask.invoke(shipping), compensation: SagaTask.invoke(shipping) },
 *   ],
 * });
 * saga.connectProducer(api); // startSaga(orderId, order) from cdk-messaging-patterns/runtime/saga
 */
export class Saga extends MessagingPattern {
  /** The saga's state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The state machine that resumes a saga whose compensation failed (Standard), when any step has a compensation. */
  public readonly resumeStateMachine?: sfn.StateMachine;
  /** The saga log: one item per saga, keyed by `sagaId`. */
  public readonly logTable: dynamodb.Table;
  /** Where both state machines log. */
  public readonly logGroup: logs.ILogGroup;
  /** The state machines' role. */
  public readonly role: iam.IRole;
  /** Standard or Express. */
  public readonly stateMachineType: sfn.StateMachineType;

  constructor(scope: Construct, id: string, props: SagaProps) {
    super(scope, id, props);
    const v = new PropsValidator(this);
    const { plan, type } = validateSagaProps(v, props);
    v.throwIfInvalid();
    this.stateMachineType = type;

    if (type === sfn.StateMachineType.EXPRESS) {
      const worst = Math.max(0, ...flatten(plan).map((s) => worstCaseDelaySeconds(s.compensationRetry)));
      if (worst > SFN_EXPRESS_MAX_DURATION.toSeconds()) {
        Annotations.of(this).addWarningV2(
          'cdk-messaging-patterns:sagaExpressRetries',
          `compensation retries can wait ${Math.round(worst)} seconds, longer than an Express execution may run (${SFN_EXPRESS_MAX_DURATION.toSeconds()} s): the execution would time out without recording anything. Shorten compensationRetry, or use a Standard saga.`,
        );
      }
    }

    this.logTable = new dynamodb.Table(this, 'Log', {
      partitionKey: { name: SAGA_LOG_ATTRIBUTE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: props.logTableEncryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.DEFAULT,
      encryptionKey: props.logTableEncryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.logTablePointInTimeRecovery ?? true },
      removalPolicy: props.logTableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Runs the saga ${this.node.path}`,
    });
    this.role = role;
    for (const task of tasksOf(plan)) task._grant(role);
    this.logTable.grant(role, 'dynamodb:UpdateItem');
    this.logTable.encryptionKey?.grantEncryptDecrypt(role);

    this.logGroup =
      (props.logs?.destination as logs.ILogGroup | undefined) ?? new logs.LogGroup(this, 'LogGroup', { retention: KIT_LOG_RETENTION });
    const logOptions: sfn.LogOptions = {
      level: sfn.LogLevel.ALL,
      includeExecutionData: false,
      ...props.logs,
      destination: this.logGroup,
    };
    const tracingEnabled = props.tracingEnabled ?? true;

    const options = {
      logTableName: this.logTable.tableName,
      compensateFailedStep: props.compensateFailedStep ?? true,
      logRetry: {
        maxAttempts: SAGA_LOG_WRITE_MAX_ATTEMPTS,
        intervalSeconds: SAGA_LOG_WRITE_RETRY_INTERVAL.toSeconds(),
        backoffRate: SAGA_RETRY_BACKOFF_RATE,
        maxDelaySeconds: SAGA_LOG_WRITE_MAX_DELAY.toSeconds(),
        jitter: true,
        nonRetryableErrors: [],
      },
    };
    // A Distributed Map starts child executions of its own machine: its ARN must be known before the
    // machine exists (no cycle through the role's policy), so the machine gets a physical name.
    const stateMachineName =
      props.stateMachineName ?? (hasDistributedMap(plan) ? Names.uniqueResourceName(this, { maxLength: 73 }) : undefined);
    if (hasDistributedMap(plan)) this.grantDistributedMap(role, stateMachineName!);

    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromString(Stack.of(this).toJsonString(sagaDefinition(plan, options))),
      stateMachineType: type,
      stateMachineName,
      role,
      logs: logOptions,
      tracingEnabled,
    });
    dependOnPoliciesOf(this.stateMachine, role);

    if (plan.some(hasCompensation)) {
      this.resumeStateMachine = new sfn.StateMachine(this, 'Resume', {
        definitionBody: sfn.DefinitionBody.fromString(Stack.of(this).toJsonString(resumeDefinition(plan, options))),
        stateMachineType: sfn.StateMachineType.STANDARD,
        stateMachineName: stateMachineName ? `${stateMachineName}-resume` : undefined,
        role,
        logs: logOptions,
        tracingEnabled,
      });
      dependOnPoliciesOf(this.resumeStateMachine, role);
    }

    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions logging (logs:CreateLogDelivery and related) and X-Ray tracing (xray:PutTraceSegments and related) support no resource-level permissions, so the statements CDK adds for them use "*".',
    });

    const what = `Saga ${this.node.path}`;
    createAlarm(this, props.alarms, {
      id: COMPENSATION_FAILED_ALARM,
      metric: this.metricExecutionsFailed(),
      threshold: SAGA_ALARM_THRESHOLD,
      description: (n) =>
        `${what}: ${n === 1 ? 'an execution' : `${n} or more executions`} failed. A compensation exhausted its retries (error Saga.CompensationFailed; the saga log row is COMPENSATION_FAILED and lists the steps still to undo: fix the cause, then resumeSaga), or the machine failed otherwise.`,
    });
    createAlarm(this, props.alarms, {
      id: TIMED_OUT_ALARM,
      metric: this.metricExecutionsTimedOut(),
      threshold: SAGA_ALARM_THRESHOLD,
      description: () =>
        `${what}: an execution timed out. Its saga stopped half done without compensating; see the execution and the saga log.`,
    });
    createAlarm(this, props.alarms, {
      id: ABORTED_ALARM,
      metric: this.metricExecutionsAborted(),
      threshold: SAGA_ALARM_THRESHOLD,
      description: () =>
        `${what}: an execution was stopped. Its saga stopped half done without compensating; see the execution and the saga log.`,
    });
    if (this.resumeStateMachine) {
      createAlarm(this, props.alarms, {
        id: RESUME_FAILED_ALARM,
        metric: this.resumeStateMachine.metricFailed(metricOptions(cloudwatch.Stats.SUM)),
        threshold: SAGA_ALARM_THRESHOLD,
        description: () =>
          `${what}: a resume execution failed: a compensation failed again. The saga log row says which; fix it and resume again.`,
      });
    }
    this._showOnDashboard(this.metricExecutionsStarted(), this.metricExecutionsSucceeded(), this.metricExecutionsFailed());
  }

  /**
   * The configuration the run-time helpers read (JSON: both state machine ARNs, the saga log's
   * table name, the type), as `connectProducer` and `connectConsumer` set it in `SAGA_CONFIG`.
   */
  public get sagaConfig(): string {
    return Lazy.string({
      produce: () =>
        Stack.of(this).toJsonString({
          stateMachineArn: this.stateMachine.stateMachineArn,
          resumeStateMachineArn: this.resumeStateMachine?.stateMachineArn,
          logTableName: this.logTable.tableName,
          type: this.stateMachineType,
        }),
    });
  }

  /**
   * Grants `grantee` what `startSaga` and `runSaga` need: writing the start row, starting an
   * execution (and a synchronous one for Express) and describing it.
   */
  public grantStart(grantee: iam.IGrantable): iam.Grant {
    const grants = [
      this.stateMachine.grantStartExecution(grantee),
      this.stateMachineType === sfn.StateMachineType.EXPRESS ? this.stateMachine.grantStartSyncExecution(grantee) : undefined,
      this.grantExecutions(grantee, this.stateMachine, 'states:DescribeExecution'),
      this.logTable.grant(grantee, 'dynamodb:PutItem', 'dynamodb:GetItem'),
      this.logTable.encryptionKey?.grantEncryptDecrypt(grantee),
    ];
    return combineGrants(grantee, grants, 'nothing to grant');
  }

  /** Grants `grantee` what `describeSaga` needs: the saga log, and the executions and their history. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const machines = [this.stateMachine, this.resumeStateMachine].filter((m): m is sfn.StateMachine => m !== undefined);
    const grants = [
      ...machines.map((m) => this.grantExecutions(grantee, m, 'states:DescribeExecution', 'states:GetExecutionHistory')),
      this.logTable.grant(grantee, 'dynamodb:GetItem'),
      this.logTable.encryptionKey?.grantDecrypt(grantee),
    ];
    return combineGrants(grantee, grants, 'nothing to grant');
  }

  /**
   * Grants `grantee` (an operator, a runbook function) what `resumeSaga` needs: reading and
   * updating the saga log row, starting the resume machine and describing its executions.
   */
  public grantResume(grantee: iam.IGrantable): iam.Grant {
    if (!this.resumeStateMachine) return iam.Grant.drop(grantee, 'no step has a compensation: there is nothing to resume');
    const grants = [
      this.resumeStateMachine.grantStartExecution(grantee),
      this.grantExecutions(grantee, this.resumeStateMachine, 'states:DescribeExecution'),
      this.logTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:UpdateItem'),
      this.logTable.encryptionKey?.grantEncryptDecrypt(grantee),
    ];
    return combineGrants(grantee, grants, 'nothing to grant');
  }

  /** Grants `grantee` what `completeTask`, `failTask` and `heartbeatTask` need: `states:SendTask{Success,Failure,Heartbeat}`. */
  public grantTaskResponse(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantTaskResponse(grantee);
  }

  /**
   * Makes `fn` a producer of sagas: {@link grantStart} and {@link grantRead}, and {@link sagaConfig}
   * in its `SAGA_CONFIG` environment variable (`startSaga`, `runSaga`, `describeSaga`). Resuming is
   * an operator's act: add {@link grantResume} where it is wanted.
   */
  public connectProducer(fn: lambda.IFunction, options: ConnectOptions = {}): iam.Grant {
    const grant = combineGrants(fn, [this.grantStart(fn), this.grantRead(fn)], 'nothing to grant');
    return connectFunction(this, fn, { [options.environmentVariable ?? ENV.sagaConfig]: this.sagaConfig }, grant);
  }

  /**
   * Makes `fn` a callback consumer (an approver, a worker): {@link grantTaskResponse}, and
   * {@link sagaConfig} in its `SAGA_CONFIG` environment variable.
   */
  public connectConsumer(fn: lambda.IFunction, options: ConnectOptions = {}): iam.Grant {
    return connectFunction(this, fn, { [options.environmentVariable ?? ENV.sagaConfig]: this.sagaConfig }, this.grantTaskResponse(fn));
  }

  /** Sagas started (Sum over 1 minute). */
  public metricExecutionsStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricStarted(metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Sagas ended COMMITTED or COMPENSATED (the execution succeeded; Sum over 1 minute). */
  public metricExecutionsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Executions failed: COMPENSATION_FAILED sagas, and any other failure (Sum over 1 minute). */
  public metricExecutionsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Executions timed out (Sum over 1 minute). */
  public metricExecutionsTimedOut(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTimedOut(metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Executions stopped (Sum over 1 minute). */
  public metricExecutionsAborted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricAborted(metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** How long sagas take (Average over 1 minute, milliseconds). */
  public metricExecutionTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTime(metricOptions(cloudwatch.Stats.AVERAGE, props));
  }

  /** `actions` on the executions of `machine` (`arn:...:execution:<name>:*`). */
  private grantExecutions(grantee: iam.IGrantable, machine: sfn.StateMachine, ...actions: string[]): iam.Grant {
    const grant = machine.grantExecution(grantee, ...actions);
    if (grantee.grantPrincipal instanceof iam.Role) {
      for (const statement of grant.principalStatements) {
        for (const resource of statement.resources) {
          acknowledgeWildcardResource(
            grantee.grantPrincipal,
            resource,
            "Executions are named at run time (one per saga, after its business key); the actions are limited to the executions of this saga's state machine.",
          );
        }
      }
    }
    return grant;
  }

  /** What a Distributed Map needs on its own machine: starting, describing and stopping child executions. */
  private grantDistributedMap(role: iam.Role, stateMachineName: string): void {
    const stack = Stack.of(this);
    const arnFormat = ArnFormat.COLON_RESOURCE_NAME;
    const machineArn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat });
    const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName}:*`, arnFormat });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [machineArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }),
    );
    acknowledgeWildcardResource(
      role,
      executions,
      'A Distributed Map names its child executions at run time; the actions are limited to the children of this state machine.',
    );
  }
}

const flatten = (steps: readonly PlanStep[]): PlanStep[] => steps.flatMap((s) => [s, ...(s.branches ?? []).flatMap((b) => flatten(b))]);

/** Checks a saga's props into `v`; returns the resolved plan of steps and the machine type. */
export function validateSagaProps(v: PropsValidator, props: SagaProps): { plan: PlanStep[]; type: sfn.StateMachineType } {
  const type = props.stateMachineType ?? sfn.StateMachineType.STANDARD;
  const express = type === sfn.StateMachineType.EXPRESS;
  const steps = props.steps ?? [];
  v.check('steps:required', steps.length > 0, 'steps must hold at least one step (given none)');
  v.matches(
    'stateMachineName',
    props.stateMachineName,
    MACHINE_NAME,
    "1 to 73 letters, digits, '-' or '_' (the resume machine adds '-resume')",
  );
  validateRetry(v, 'retry', props.retry);
  validateRetry(v, 'compensationRetry', props.compensationRetry);
  validateAlarms(v, props.alarms, SAGA_ALARMS);

  const seen = new Set<string>();
  const actionDefaults: RetryDefaults = {
    maxAttempts: SAGA_ACTION_MAX_ATTEMPTS,
    interval: SAGA_ACTION_RETRY_INTERVAL,
    maxDelay: SAGA_ACTION_MAX_DELAY,
  };
  const compensationDefaults: RetryDefaults = {
    maxAttempts: express ? SAGA_EXPRESS_COMPENSATION_MAX_ATTEMPTS : SAGA_COMPENSATION_MAX_ATTEMPTS,
    interval: SAGA_COMPENSATION_RETRY_INTERVAL,
    maxDelay: SAGA_COMPENSATION_MAX_DELAY,
  };

  const resolve = (step: SagaStep, index: number, nested: boolean): PlanStep => {
    const name = step.name;
    const p = `steps.${name}`;
    v.matches('steps.name', name, STEP_NAME, "a letter, then up to 39 letters, digits, '-' or '_'");
    v.check(
      'steps.name:conflict',
      !seen.has(name),
      `step names must be unique in the saga, branches included (given ${describeValue(name)} twice)`,
    );
    v.check(
      'steps.name:conflict',
      !RESERVED_STEP_NAMES.includes(name),
      `step names ${RESERVED_STEP_NAMES.join(', ')} are the saga's own states (given ${describeValue(name)})`,
    );
    seen.add(name);

    const parallel = step.branches !== undefined;
    v.check(
      `${p}.action|branches:exclusive`,
      !(parallel && step.action),
      `step '${name}' has an action and branches: a parallel step's work is in its branches`,
    );
    v.check(`${p}.action:required`, parallel || step.action !== undefined, `step '${name}' needs an action (or branches) (given neither)`);
    v.check(`${p}.branches|forEach:exclusive`, !(parallel && step.forEach), `step '${name}' has branches and forEach: choose one`);
    if (nested) {
      v.check(`${p}.branches:unsupported`, !parallel, `step '${name}' is in a branch: branches cannot nest`);
      v.check(
        `${p}.forEach:unsupported`,
        step.forEach === undefined,
        `step '${name}' is in a branch: a forEach step cannot be in a branch`,
      );
      v.check(
        `${p}.condition:unsupported`,
        step.condition === undefined,
        `step '${name}' is in a branch: branch steps cannot have a condition`,
      );
    } else {
      v.check(
        `${p}.condition:unsupported`,
        index > 0 || step.condition === undefined,
        `step '${name}' is the first step: the first step always runs (given a condition)`,
      );
    }
    if (parallel) {
      v.check(
        `${p}.branches:required`,
        (step.branches ?? []).length > 0 && step.branches!.every((b) => b.steps.length > 0),
        `step '${name}' needs at least one branch, each with at least one step`,
      );
      for (const [field, value] of Object.entries({
        compensation: step.compensation,
        retry: step.retry,
        compensationRetry: step.compensationRetry,
        timeout: step.timeout,
        heartbeat: step.heartbeat,
      })) {
        v.check(
          `${p}.${field}:unsupported`,
          value === undefined,
          `step '${name}' is a parallel step: give ${field} to the steps of its branches`,
        );
      }
    }
    const action = step.action;
    const callback = action?.isCallback ?? false;
    if (callback) {
      v.check(
        `${p}.timeout:required`,
        step.timeout !== undefined,
        `step '${name}' is a callback: it needs a timeout, or it can wait for a year (given none)`,
      );
      v.check(
        `${p}.heartbeat:required`,
        step.heartbeat !== undefined,
        `step '${name}' is a callback: it needs a heartbeat, so a lost worker is noticed before the timeout (given none)`,
      );
      v.check(
        `${p}.action:unsupported`,
        !express,
        `step '${name}' is a callback: Express state machines cannot wait for a task token (use a Standard saga)`,
      );
    } else {
      v.check(
        `${p}.heartbeat:unsupported`,
        step.heartbeat === undefined || parallel,
        `step '${name}': heartbeat applies to callbacks only (given ${step.heartbeat ? secondsOf(step.heartbeat) : 'none'})`,
      );
    }
    v.check(
      `${p}.compensation:unsupported`,
      !(step.compensation?.isCallback ?? false),
      `step '${name}': a compensation cannot be a callback; it must be able to run without waiting for anyone`,
    );
    for (const [field, value] of [
      ['timeout', step.timeout],
      ['heartbeat', step.heartbeat],
    ] as const) {
      if (value === undefined || value.isUnresolved()) continue;
      const seconds = value.toSeconds({ integral: false });
      v.check(
        `${p}.${field}:range`,
        Number.isInteger(seconds) && seconds >= SFN_MIN_TASK_TIMEOUT.toSeconds() && seconds <= SFN_MAX_TASK_TIMEOUT.toSeconds(),
        `step '${name}': ${field} must be a whole number of seconds between 1 and ${SFN_MAX_TASK_TIMEOUT.toSeconds()} (given ${secondsOf(value)})`,
      );
    }
    if (step.timeout && step.heartbeat && !step.timeout.isUnresolved() && !step.heartbeat.isUnresolved()) {
      v.check(
        `${p}.heartbeat:range`,
        step.heartbeat.toSeconds({ integral: false }) < step.timeout.toSeconds({ integral: false }),
        `step '${name}': heartbeat must be shorter than timeout (given ${secondsOf(step.heartbeat)} and ${secondsOf(step.timeout)})`,
      );
    }
    for (const task of [action, step.compensation]) {
      const { queue, topic, messageGroupId } = task?._target ?? {};
      const fifo = (queue && !isUnresolved(queue.fifo) && queue.fifo) || (topic && !isUnresolved(topic.fifo) && topic.fifo);
      v.check(
        `${p}.messageGroupId:required`,
        !fifo || messageGroupId !== undefined,
        `step '${name}': a FIFO queue or topic needs a messageGroupId (given none for ${(queue ?? topic)?.node.path})`,
      );
    }
    validateRetry(v, `${p}.retry`, step.retry);
    validateRetry(v, `${p}.compensationRetry`, step.compensationRetry);
    const map = step.forEach;
    if (map) {
      v.matches(
        `${p}.forEach.itemsPath`,
        map.itemsPath,
        ITEMS_PATH,
        "a JSON path into the saga input ('$.input...') or an earlier step's result ('$.saga.results.<step>...')",
      );
      v.integerInRange(`${p}.forEach.maxConcurrency`, map.maxConcurrency, 0, SFN_MAX_MAP_CONCURRENCY);
      v.numberInRange(`${p}.forEach.toleratedFailurePercentage`, map.toleratedFailurePercentage, 0, 100);
      v.check(
        `${p}.forEach.toleratedFailurePercentage:unsupported`,
        !(express && (map.toleratedFailurePercentage ?? 0) > 0),
        `step '${name}': a tolerated failure share needs a Distributed Map, which Express state machines cannot run (given ${map.toleratedFailurePercentage})`,
      );
    }
    return {
      name,
      kind: parallel ? 'parallel' : map ? 'map' : 'task',
      action,
      compensation: step.compensation,
      retry: callback
        ? resolveRetry({ ...actionDefaults, maxAttempts: SAGA_CALLBACK_MAX_ATTEMPTS }, step.retry)
        : resolveRetry(actionDefaults, props.retry, step.retry),
      compensationRetry: resolveRetry(compensationDefaults, props.compensationRetry, step.compensationRetry),
      timeoutSeconds: step.timeout?.toSeconds({ integral: false }),
      heartbeatSeconds: step.heartbeat?.toSeconds({ integral: false }),
      condition: step.condition?.renderCondition(),
      branches: step.branches?.map((b) => b.steps.map((sub, i) => resolve(sub, i, true))),
      map: map
        ? { itemsPath: map.itemsPath, maxConcurrency: map.maxConcurrency, toleratedFailurePercentage: map.toleratedFailurePercentage }
        : undefined,
    };
  };
  const plan = steps.map((s, i) => resolve(s, i, false));
  return { plan, type };
}
