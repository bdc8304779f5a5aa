/**
 * The saga document: what the generated state machines read and write, as JSON paths.
 *
 * ```
 * { "input": <the saga input>,
 *   "saga": { "results":  { "<step>": <its result> },
 *             "failures": { "<step>": { "Error", "Cause" } },
 *             "compensations": { "<step>": <its result> },
 *             "compensationFailure": { "Error", "Cause" } },
 *   "outcome": { "status": "COMMITTED" | "COMPENSATED" } }
 * ```
 *
 * The resume machine's input adds `sagaId` and `resumeFrom`; there `$$.Execution.Name` (the saga id
 * in the main machine) is rewritten to `$.sagaId`.
 */
export const SAGA_ID_PATH = '$$.Execution.Name';
export const RESUME_SAGA_ID_PATH = '$.sagaId';
export const INPUT_PATH = '$.input';
export const SAGA_PATH = '$.saga';
export const RESULTS_PATH = '$.saga.results';
export const resultPath = (step: string) => `$.saga.results.${step}`;
export const failurePath = (step: string) => `$.saga.failures.${step}`;
export const compensationPath = (step: string) => `$.saga.compensations.${step}`;
export const COMPENSATION_FAILURE_PATH = '$.saga.compensationFailure';
export const OUTCOME_PATH = '$.outcome';
export const RESUME_FROM_PATH = '$.resumeFrom';

/** `States.Format('{}#<step>', <sagaId>)`: a step's idempotency token. */
export const tokenExpression = (step: string, sagaIdPath = SAGA_ID_PATH) => `States.Format('{}#${step}', ${sagaIdPath})`;
/** The idempotency key of a compensation's messages: `<token>#compensation`. */
export const compensationKeyExpression = (step: string, sagaIdPath = SAGA_ID_PATH) =>
  `States.Format('{}#${step}#compensation', ${sagaIdPath})`;
