/** Helpers to read the generated state machines out of a synthesized template. */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

export type State = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export interface Definition {
  readonly StartAt: string;
  readonly States: Record<string, State>;
}

/** A template value with references as `<LogicalId>` / `<LogicalId.Attribute>` strings. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref) return `<${String(v.Ref)}>`;
  if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  return JSON.stringify(value);
}

/** The definitions of the stack's state machines, by logical id. */
export function definitions(stack: Stack): Record<string, Definition> {
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  return Object.fromEntries(
    Object.entries(machines).map(([id, r]) => [id, JSON.parse(flatten((r as State).Properties.DefinitionString)) as Definition]),
  );
}

/** The saga's main and resume definitions. */
export function sagaDefinitions(stack: Stack, sagaId = 'Saga'): { main: Definition; resume?: Definition } {
  const all = definitions(stack);
  const main = Object.entries(all).find(([id]) => id.startsWith(sagaId) && !id.startsWith(`${sagaId}Resume`));
  const resume = Object.entries(all).find(([id]) => id.startsWith(`${sagaId}Resume`));
  if (!main) throw new Error(`no state machine for ${sagaId} in ${Object.keys(all).join(', ')}`);
  return { main: main[1], resume: resume?.[1] };
}

/** Every state of a definition, nested ones (Parallel branches, Map item processors) included. */
export function allStates(d: Definition): Record<string, State> {
  const out: Record<string, State> = {};
  const visit = (states: Record<string, State>) => {
    for (const [name, s] of Object.entries(states)) {
      out[name] = s;
      for (const b of s.Branches ?? []) visit(b.States);
      if (s.ItemProcessor) visit(s.ItemProcessor.States);
    }
  };
  visit(d.States);
  return out;
}

/**
 * The top-level states a run goes through when the task state `failAt` fails (its Catch is taken;
 * every other task succeeds), Choice states taking their first rule when `takeChoices` says so and
 * their default otherwise.
 */
export function walk(d: Definition, failAt?: string | string[], takeChoices: string[] = []): string[] {
  const failing = new Set(Array.isArray(failAt) ? failAt : failAt ? [failAt] : []);
  const path: string[] = [];
  let name: string | undefined = d.StartAt;
  while (name !== undefined) {
    if (path.length > 100) throw new Error(`loop: ${path.join(' > ')}`);
    path.push(name);
    const s: State = d.States[name];
    if (!s) throw new Error(`no state ${name}`);
    if (s.Type === 'Choice') name = takeChoices.includes(name) ? s.Choices[0].Next : s.Default;
    else if (failing.has(name)) name = s.Catch?.[0]?.Next;
    else name = s.End ? undefined : s.Next;
    if (s.Type === 'Fail' || s.Type === 'Succeed') break;
  }
  return path;
}
