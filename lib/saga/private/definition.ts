import { Aws } from 'aws-cdk-lib';
import { MessagingPatternsError } from '../../core/errors';
import { SAGA_ERROR, SAGA_LOG_ATTRIBUTE as ATTR, SAGA_STATUS } from '../../core/wire';
import type { SagaTask } from '../saga-task';
import {
  COMPENSATION_FAILURE_PATH,
  INPUT_PATH,
  OUTCOME_PATH,
  RESULTS_PATH,
  RESUME_FROM_PATH,
  RESUME_SAGA_ID_PATH,
  SAGA_ID_PATH,
  SAGA_PATH,
  compensationKeyExpression,
  compensationPath,
  failurePath,
  resultPath,
  tokenExpression,
} from './paths';

/** A retry policy, resolved (seconds). */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds?: number;
  readonly jitter: boolean;
  readonly nonRetryableErrors: readonly string[];
}

/** A step, resolved from the props. */
export interface PlanStep {
  readonly name: string;
  readonly kind: 'task' | 'parallel' | 'map';
  readonly action?: SagaTask;
  readonly compensation?: SagaTask;
  readonly retry: RetryPolicy;
  readonly compensationRetry: RetryPolicy;
  readonly timeoutSeconds?: number;
  readonly heartbeatSeconds?: number;
  /** The rendered `sfn.Condition` (a Choice rule without `Next`). */
  readonly condition?: Record<string, unknown>;
  readonly branches?: readonly (readonly PlanStep[])[];
  readonly map?: {
    readonly itemsPath: string;
    readonly maxConcurrency?: number;
    readonly toleratedFailurePercentage?: number;
  };
}

/** What both machines need besides the steps. */
export interface DefinitionOptions {
  /** The saga log's table name (a token is fine). */
  readonly logTableName: string;
  /** Catch of a failed step enters the chain at its own compensation (true) or at the one before it. */
  readonly compensateFailedStep: boolean;
  /** Retries of the saga-log writes. */
  readonly logRetry: RetryPolicy;
}

/** An Amazon States Language definition (JSONPath). */
export interface Definition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Record<string, State>;
  readonly QueryLanguage?: string;
}

type State = Record<string, unknown>;
type Results = 'known' | 'empty';

/** State names of the outcome states. */
export const STATE = {
  committed: 'Committed',
  compensated: 'Compensated',
  compensationFailed: 'CompensationFailed',
  resume: 'Resume',
  unknownResumeStep: 'UnknownResumeStep',
} as const;

/** Names no step may take: they are the outcome states'. */
export const RESERVED_STEP_NAMES: readonly string[] = Object.values(STATE);

export const undoName = (step: string, suffix = '') => `Undo ${step}${suffix}`;
export const guardName = (step: string) => `Undo ${step}?`;
export const ifName = (step: string) => `If ${step}`;
export const compensationFailedName = (step: string) => `CompensationFailed at ${step}`;

/** Suffix of the variant of the first step's compensation entered when that step itself failed: no results exist yet. */
const FIRST = ' (first)';

const UPDATE_ITEM = `arn:${Aws.PARTITION}:states:::dynamodb:updateItem`;

/** Drops undefined fields. */
function defined(o: Record<string, unknown>): State {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The `Retry` of a task: the non-retryable errors first (no retry), then every other error with the policy. */
export function retriers(p: RetryPolicy): State[] | undefined {
  if (p.maxAttempts === 0) return undefined;
  return [
    ...(p.nonRetryableErrors.length > 0 ? [{ ErrorEquals: [...p.nonRetryableErrors], MaxAttempts: 0 }] : []),
    defined({
      ErrorEquals: ['States.ALL'],
      IntervalSeconds: p.intervalSeconds,
      MaxAttempts: p.maxAttempts,
      BackoffRate: p.backoffRate,
      MaxDelaySeconds: p.maxDelaySeconds,
      JitterStrategy: p.jitter ? 'FULL' : undefined,
    }),
  ];
}

/** Worst-case seconds a policy waits between attempts (what it adds to a step's duration). */
export function worstCaseDelaySeconds(p: RetryPolicy): number {
  let total = 0;
  for (let k = 0; k < p.maxAttempts; k++) {
    const delay = p.intervalSeconds * p.backoffRate ** k;
    total += p.maxDelaySeconds === undefined ? delay : Math.min(delay, p.maxDelaySeconds);
  }
  return total;
}

const hasCompensation = (step: PlanStep): boolean =>
  step.kind === 'parallel' ? (step.branches ?? []).some((b) => b.some(hasCompensation)) : step.compensation !== undefined;

/** The saga event a task receives (JSON-path parameters). */
function sagaEvent(step: string, phase: 'action' | 'compensation', results: Results): State {
  return {
    'sagaId.$': SAGA_ID_PATH,
    step,
    phase,
    'idempotencyToken.$': tokenExpression(step),
    'input.$': INPUT_PATH,
    ...(results === 'known' ? { 'results.$': RESULTS_PATH } : { results: {} }),
  };
}

/** The event of one map item (the iteration's input holds sagaId, index, item and input). */
function itemEvent(step: string, phase: 'action' | 'compensation'): State {
  return {
    'sagaId.$': '$.sagaId',
    step,
    phase,
    'idempotencyToken.$': `States.Format('{}#${step}#{}', $.sagaId, $.index)`,
    'input.$': '$.input',
    'item.$': '$.item',
    'index.$': '$.index',
  };
}

const itemKey = (step: string, phase: 'action' | 'compensation') =>
  phase === 'action'
    ? `States.Format('{}#${step}#{}', $.sagaId, $.index)`
    : `States.Format('{}#${step}#{}#compensation', $.sagaId, $.index)`;

interface TaskStateOptions {
  readonly retry: RetryPolicy;
  readonly timeoutSeconds?: number;
  readonly heartbeatSeconds?: number;
  readonly resultPath?: string;
  readonly catchers?: State[];
  readonly next?: string;
}

function taskState(task: SagaTask, event: State, key: string, o: TaskStateOptions): State {
  const r = task._render(event, key);
  return defined({
    Type: 'Task',
    Resource: r.Resource,
    Parameters: r.Parameters,
    ResultSelector: r.ResultSelector,
    ResultPath: o.resultPath,
    TimeoutSeconds: o.timeoutSeconds,
    HeartbeatSeconds: o.heartbeatSeconds,
    Retry: retriers(o.retry),
    Catch: o.catchers,
    Next: o.next,
    End: o.next === undefined ? true : undefined,
  });
}

const catchAll = (resultPathValue: string, next: string): State[] => [
  { ErrorEquals: ['States.ALL'], ResultPath: resultPathValue, Next: next },
];

/** `States.JsonMerge` of the branches' results, nested for more than two branches. */
function mergeBranchResults(branches: number): string {
  let expr = '$[0].saga.results';
  for (let i = 1; i < branches; i++) expr = `States.JsonMerge(${expr}, $[${i}].saga.results, false)`;
  return expr;
}

/** A set of states with unique names (state names are unique across a whole machine, nested ones included). */
class StateSet {
  public readonly states: Record<string, State> = {};
  public add(name: string, state: State): string {
    if (name in this.states) {
      throw new MessagingPatternsError('Saga', [{ code: 'steps.name:conflict', message: `state ${name} is defined twice` }]);
    }
    this.states[name] = state;
    return name;
  }
}

/** A map step's iteration input: the saga id, the item's index and value, and the saga input. */
const itemSelector = (): State => ({
  'sagaId.$': SAGA_ID_PATH,
  'index.$': '$$.Map.Item.Index',
  'item.$': '$$.Map.Item.Value',
  'input.$': INPUT_PATH,
});

/** Adds the action state(s) of a top-level step (its name is the state's). */
function addAction(s: StateSet, step: PlanStep, results: Results, next: string, catchers: State[]): void {
  if (step.kind === 'task') {
    s.add(
      step.name,
      taskState(step.action!, sagaEvent(step.name, 'action', results), tokenExpression(step.name), {
        retry: step.retry,
        timeoutSeconds: step.timeoutSeconds,
        heartbeatSeconds: step.heartbeatSeconds,
        resultPath: resultPath(step.name),
        catchers,
        next,
      }),
    );
    return;
  }
  if (step.kind === 'parallel') {
    const branches = step.branches!.map((branch) => {
      const b = new StateSet();
      branch.forEach((sub, i) => {
        b.add(
          sub.name,
          taskState(
            sub.action!,
            sagaEvent(sub.name, 'action', results === 'known' || i > 0 ? 'known' : 'empty'),
            tokenExpression(sub.name),
            {
              retry: sub.retry,
              timeoutSeconds: sub.timeoutSeconds,
              heartbeatSeconds: sub.heartbeatSeconds,
              resultPath: resultPath(sub.name),
              next: branch[i + 1]?.name,
            },
          ),
        );
      });
      return { StartAt: branch[0].name, States: b.states };
    });
    s.add(step.name, {
      Type: 'Parallel',
      Branches: branches,
      // Every branch holds the saga document: merge their results into one.
      ResultSelector: { 'results.$': mergeBranchResults(branches.length) },
      ResultPath: SAGA_PATH,
      Catch: catchers,
      Next: next,
    });
    return;
  }
  // map
  const map = step.map!;
  const distributed = (map.toleratedFailurePercentage ?? 0) > 0;
  const item = new StateSet();
  const itemName = `${step.name} item`;
  const itemCatch = distributed && step.compensation ? catchAll('$.failure', `${step.name} item undo`) : undefined;
  item.add(
    itemName,
    taskState(step.action!, itemEvent(step.name, 'action'), itemKey(step.name, 'action'), {
      retry: step.retry,
      timeoutSeconds: step.timeoutSeconds,
      heartbeatSeconds: step.heartbeatSeconds,
      catchers: itemCatch,
    }),
  );
  if (itemCatch) {
    // A tolerated failure leaves nothing behind: the item's own compensation runs (a no-op when its action never took effect).
    item.add(
      `${step.name} item undo`,
      taskState(step.compensation!, itemEvent(step.name, 'compensation'), itemKey(step.name, 'compensation'), {
        retry: step.compensationRetry,
        resultPath: '$.compensation',
        catchers: catchAll('$.compensationFailure', `${step.name} item compensation failed`),
        next: `${step.name} item failed`,
      }),
    );
    item.add(`${step.name} item failed`, {
      Type: 'Fail',
      Error: SAGA_ERROR.itemFailed,
      Cause: `an item of step ${step.name} failed after its retries; its compensation ran`,
    });
    item.add(`${step.name} item compensation failed`, {
      Type: 'Fail',
      Error: SAGA_ERROR.compensationFailed,
      Cause: `an item of step ${step.name} failed, and so did its compensation`,
    });
  }
  s.add(
    step.name,
    defined({
      Type: 'Map',
      ItemsPath: map.itemsPath,
      ItemSelector: itemSelector(),
      MaxConcurrency: map.maxConcurrency,
      ToleratedFailurePercentage: distributed ? map.toleratedFailurePercentage : undefined,
      ItemProcessor: {
        ProcessorConfig: distributed
          ? { Mode: 'DISTRIBUTED', ExecutionType: step.action!.isCallback ? 'STANDARD' : 'EXPRESS' }
          : { Mode: 'INLINE' },
        StartAt: itemName,
        States: item.states,
      },
      ResultPath: resultPath(step.name),
      Catch: catchers,
      Next: next,
    }),
  );
}

/** Adds the compensation state of a top-level step (`Undo <step><suffix>`). */
function addUndo(s: StateSet, step: PlanStep, results: Results, suffix: string, next: string): void {
  const catchers = catchAll(COMPENSATION_FAILURE_PATH, compensationFailedName(step.name));
  if (step.kind === 'task') {
    s.add(
      undoName(step.name, suffix),
      taskState(step.compensation!, sagaEvent(step.name, 'compensation', results), compensationKeyExpression(step.name), {
        retry: step.compensationRetry,
        resultPath: compensationPath(step.name),
        catchers,
        next,
      }),
    );
    return;
  }
  if (step.kind === 'parallel') {
    const undone: string[] = [];
    const branches = step
      .branches!.map((branch) => [...branch].reverse().filter((sub) => sub.compensation))
      .filter((subs) => subs.length > 0)
      .map((subs) => {
        const b = new StateSet();
        subs.forEach((sub, i) => {
          undone.push(sub.name);
          b.add(
            undoName(sub.name, suffix),
            taskState(sub.compensation!, sagaEvent(sub.name, 'compensation', results), compensationKeyExpression(sub.name), {
              retry: sub.compensationRetry,
              resultPath: compensationPath(sub.name),
              next: subs[i + 1] ? undoName(subs[i + 1].name, suffix) : undefined,
            }),
          );
        });
        return { StartAt: undoName(subs[0].name, suffix), States: b.states };
      });
    s.add(undoName(step.name, suffix), {
      Type: 'Parallel',
      Branches: branches,
      ResultSelector: { steps: undone },
      ResultPath: compensationPath(step.name),
      Catch: catchers,
      Next: next,
    });
    return;
  }
  // map: every item's compensation (no-ops for items whose action never took effect)
  const map = step.map!;
  const item = new StateSet();
  const itemName = `${undoName(step.name, suffix)} item`;
  item.add(
    itemName,
    taskState(step.compensation!, itemEvent(step.name, 'compensation'), itemKey(step.name, 'compensation'), {
      retry: step.compensationRetry,
    }),
  );
  s.add(
    undoName(step.name, suffix),
    defined({
      Type: 'Map',
      ItemsPath: map.itemsPath,
      ItemSelector: itemSelector(),
      MaxConcurrency: map.maxConcurrency,
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: itemName, States: item.states },
      ResultSelector: { 'items.$': 'States.ArrayLength($)' },
      ResultPath: compensationPath(step.name),
      Catch: catchers,
      Next: next,
    }),
  );
}

/** The UpdateItem Task state writing a saga-log row. */
function logState(
  o: DefinitionOptions,
  set: Record<string, State>,
  ifNotExists: Record<string, State>,
  remove: string[],
  outcome: State | undefined,
  next: string | undefined,
  catchNext?: string,
): State {
  const names: Record<string, string> = {};
  const values: Record<string, State> = {};
  const clauses: string[] = [];
  for (const [attribute, value] of Object.entries(set)) {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    clauses.push(`#${attribute} = :${attribute}`);
  }
  for (const [attribute, value] of Object.entries(ifNotExists)) {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    clauses.push(`#${attribute} = if_not_exists(#${attribute}, :${attribute})`);
  }
  for (const attribute of remove) names[`#${attribute}`] = attribute;
  return defined({
    Type: 'Task',
    Resource: UPDATE_ITEM,
    Parameters: {
      TableName: o.logTableName,
      Key: { [ATTR.partitionKey]: { 'S.$': SAGA_ID_PATH } },
      UpdateExpression: `SET ${clauses.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.map((a) => `#${a}`).join(', ')}` : ''}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
    ResultSelector: outcome,
    ResultPath: outcome ? OUTCOME_PATH : null,
    Retry: retriers(o.logRetry),
    Catch: catchNext ? [{ ErrorEquals: ['States.ALL'], ResultPath: '$.logFailure', Next: catchNext }] : undefined,
    Next: next,
    End: next === undefined ? true : undefined,
  });
}

const str = (value: string): State => ({ S: value });
const strAt = (path: string): State => ({ 'S.$': path });
const SAGA_JSON = strAt(`States.JsonToString(${SAGA_PATH})`);
const INPUT_JSON = strAt(`States.JsonToString(${INPUT_PATH})`);
const NOW = strAt('$$.State.EnteredTime');

/** The top-level steps from `step` down, that have a compensation: what is still to undo when its compensation failed. */
function stillToUndo(steps: readonly PlanStep[], index: number): State {
  return {
    L: steps
      .slice(0, index + 1)
      .reverse()
      .filter(hasCompensation)
      .map((s) => str(s.name)),
  };
}

/** The compensation chain of the top-level steps: `Undo <step>` from the last down, with guards for conditional steps. */
function addChain(s: StateSet, steps: readonly PlanStep[], o: DefinitionOptions, machine: 'main' | 'resume'): void {
  steps.forEach((step, j) => {
    if (!hasCompensation(step)) return;
    const next = undoEntry(steps, j - 1);
    addUndo(s, step, 'known', '', next);
    if (step.condition) {
      // The step may have been skipped: undo it only if its action ran.
      s.add(guardName(step.name), {
        Type: 'Choice',
        Choices: [{ Variable: resultPath(step.name), IsPresent: true, Next: undoName(step.name) }],
        Default: next,
      });
    }
    const set: Record<string, State> = {
      [ATTR.status]: str(SAGA_STATUS.compensationFailed),
      [ATTR.saga]: SAGA_JSON,
      [ATTR.input]: INPUT_JSON,
      [ATTR.endedAt]: NOW,
      [ATTR.failedCompensation]: str(step.name),
      [ATTR.stillToUndo]: stillToUndo(steps, j),
      ...(machine === 'main' ? { [ATTR.executionArn]: strAt('$$.Execution.Id') } : { [ATTR.resumeExecutionArn]: strAt('$$.Execution.Id') }),
    };
    const startedAt: Record<string, State> = machine === 'main' ? { [ATTR.startedAt]: strAt('$$.Execution.StartTime') } : {};
    s.add(
      compensationFailedName(step.name),
      logState(o, set, startedAt, [], undefined, STATE.compensationFailed, STATE.compensationFailed),
    );
  });
  s.add(STATE.compensationFailed, {
    Type: 'Fail',
    Error: SAGA_ERROR.compensationFailed,
    Cause: 'A compensation failed after its retries. The saga log lists the steps still to undo; fix the cause, then resumeSaga.',
  });
}

/** Where compensating the top-level steps `index` and below starts: the first of them with a compensation, else the Compensated row. */
function undoEntry(steps: readonly PlanStep[], index: number): string {
  for (let j = index; j >= 0; j--) {
    const step = steps[j];
    if (hasCompensation(step)) return step.condition ? guardName(step.name) : undoName(step.name);
  }
  return STATE.compensated;
}

/**
 * The saga's state machine: each step's action with its retries and a Catch of every error
 * (`States.ALL`: States.Timeout, States.TaskFailed, States.HeartbeatTimeout included) that enters one
 * static compensation chain; the outcome rows of the saga log as the final states (no bookkeeping
 * state in between).
 */
export function sagaDefinition(steps: readonly PlanStep[], o: DefinitionOptions): Definition {
  const s = new StateSet();
  const entry = (i: number): string => (i >= steps.length ? STATE.committed : steps[i].condition ? ifName(steps[i].name) : steps[i].name);
  steps.forEach((step, i) => {
    const ownUndo = o.compensateFailedStep && hasCompensation(step);
    const target = ownUndo ? undoName(step.name, i === 0 && step.kind !== 'map' ? FIRST : '') : undoEntry(steps, i - 1);
    if (step.condition) {
      s.add(ifName(step.name), { Type: 'Choice', Choices: [{ ...step.condition, Next: step.name }], Default: entry(i + 1) });
    }
    addAction(s, step, i === 0 ? 'empty' : 'known', entry(i + 1), catchAll(failurePath(step.name), target));
    if (ownUndo && i === 0 && step.kind !== 'map') addUndo(s, step, 'empty', FIRST, undoEntry(steps, -1));
  });
  addChain(s, steps, o, 'main');
  const started = { [ATTR.startedAt]: strAt('$$.Execution.StartTime') };
  const row = (status: string) => ({
    [ATTR.status]: str(status),
    [ATTR.saga]: SAGA_JSON,
    [ATTR.endedAt]: NOW,
    [ATTR.executionArn]: strAt('$$.Execution.Id'),
  });
  s.add(STATE.committed, logState(o, row(SAGA_STATUS.committed), started, [], { status: SAGA_STATUS.committed }, undefined));
  s.add(STATE.compensated, logState(o, row(SAGA_STATUS.compensated), started, [], { status: SAGA_STATUS.compensated }, undefined));
  return { StartAt: entry(0), States: s.states };
}

/**
 * The resume machine: the same compensation chain, entered at the compensation that failed
 * (`$.resumeFrom`), for a saga whose log row says COMPENSATION_FAILED. Its input is
 * `{ sagaId, resumeFrom, input, saga }` (resumeSaga builds it from the row).
 */
export function resumeDefinition(steps: readonly PlanStep[], o: DefinitionOptions): Definition {
  const s = new StateSet();
  const compensated = steps.filter(hasCompensation);
  s.add(STATE.resume, {
    Type: 'Choice',
    Choices: compensated.map((step) => ({ Variable: RESUME_FROM_PATH, StringEquals: step.name, Next: undoName(step.name) })),
    Default: STATE.unknownResumeStep,
  });
  s.add(STATE.unknownResumeStep, {
    Type: 'Fail',
    Error: SAGA_ERROR.unknownResumeStep,
    Cause: `resumeFrom must name a step with a compensation (${compensated.map((c) => c.name).join(', ')})`,
  });
  addChain(s, steps, o, 'resume');
  s.add(
    STATE.compensated,
    logState(
      o,
      {
        [ATTR.status]: str(SAGA_STATUS.compensated),
        [ATTR.saga]: SAGA_JSON,
        [ATTR.endedAt]: NOW,
        [ATTR.resumeExecutionArn]: strAt('$$.Execution.Id'),
      },
      {},
      [ATTR.failedCompensation, ATTR.stillToUndo, ATTR.input],
      { status: SAGA_STATUS.compensated },
      undefined,
    ),
  );
  return rewriteSagaId({ StartAt: STATE.resume, States: s.states });
}

/**
 * In the resume machine the saga id is `$.sagaId`, not the execution name: rewrites every JSON
 * path and intrinsic function that reads `$$.Execution.Name` (the kit's and the user's DynamoDB
 * parameters alike).
 */
export function rewriteSagaId<T>(value: T): T {
  const visit = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') return key?.endsWith('.$') ? v.split(SAGA_ID_PATH).join(RESUME_SAGA_ID_PATH) : v;
    if (Array.isArray(v)) return v.map((x) => visit(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x, k)]));
    return v;
  };
  return visit(value) as T;
}

/** Every task of the plan (actions and compensations, nested ones included). */
export function tasksOf(steps: readonly PlanStep[]): SagaTask[] {
  return steps.flatMap((step) => [
    ...(step.action ? [step.action] : []),
    ...(step.compensation ? [step.compensation] : []),
    ...(step.branches ?? []).flatMap((b) => tasksOf(b)),
  ]);
}

/** Whether the plan has a map step that runs as a Distributed Map (a tolerated failure share above 0). */
export function hasDistributedMap(steps: readonly PlanStep[]): boolean {
  return steps.some((s) => s.kind === 'map' && (s.map?.toleratedFailurePercentage ?? 0) > 0);
}

export { hasCompensation };
