import * as sns from 'aws-cdk-lib/aws-sns';
import { SNS_FILTER_POLICY_MAX_COMBINATIONS, SNS_FILTER_POLICY_MAX_KEYS } from '../../core/limits';
import { PropsValidator } from '../../core/validation';

/** The filter props of a subscription. */
export interface FilterInputs {
  readonly filterPolicy?: { [attribute: string]: sns.SubscriptionFilter };
  readonly filterPolicyWithMessageBody?: { [key: string]: sns.FilterOrPolicy };
}

/** Leaf keys of a body filter policy, each with its value count and nesting depth. */
function leavesOf(
  policy: { [key: string]: sns.FilterOrPolicy },
  depth = 1,
  prefix = '',
): Array<{ key: string; values: number; depth: number }> {
  const out: Array<{ key: string; values: number; depth: number }> = [];
  for (const [key, value] of Object.entries(policy)) {
    if (value.isPolicy()) out.push(...leavesOf((value as sns.Policy).policyDoc, depth + 1, `${prefix}${key}.`));
    else if (value.isFilter()) out.push({ key: `${prefix}${key}`, values: (value as sns.Filter).filterDoc.conditions.length, depth });
  }
  return out;
}

/**
 * Checks a subscription's filter policies against SNS's limits (and the way CDK counts body
 * combinations, so that the kit's problem comes before CDK's error): one scope only, 1 to 5 keys
 * (leaf keys for a body policy), every key with a value, at most 150 combinations of values.
 */
export function validateFilterPolicies(v: PropsValidator, props: FilterInputs): void {
  v.mutuallyExclusive({ filterPolicy: props.filterPolicy, filterPolicyWithMessageBody: props.filterPolicyWithMessageBody });
  const scopes: Array<[string, Array<{ key: string; values: number; depth: number }> | undefined]> = [
    [
      'filterPolicy',
      props.filterPolicy &&
        Object.entries(props.filterPolicy).map(([key, filter]) => ({ key, values: filter.conditions.length, depth: 1 })),
    ],
    ['filterPolicyWithMessageBody', props.filterPolicyWithMessageBody && leavesOf(props.filterPolicyWithMessageBody)],
  ];
  for (const [name, leaves] of scopes) {
    if (!leaves) continue;
    v.check(
      `${name}:range`,
      leaves.length >= 1 && leaves.length <= SNS_FILTER_POLICY_MAX_KEYS,
      `${name} must have between 1 and ${SNS_FILTER_POLICY_MAX_KEYS} keys${name === 'filterPolicyWithMessageBody' ? ' (leaf keys)' : ''}: omit it to receive every message (given ${leaves.length}: ${JSON.stringify(leaves.map((l) => l.key))})`,
    );
    const empty = leaves.filter((l) => l.values === 0).map((l) => l.key);
    v.check(
      `${name}:range`,
      empty.length === 0,
      `${name} must give every key at least one value (given none for ${JSON.stringify(empty)})`,
    );
    const combinations = leaves.reduce((n, l) => n * l.values * l.depth, 1);
    v.check(
      `${name}:range`,
      combinations <= SNS_FILTER_POLICY_MAX_COMBINATIONS,
      `${name} must not exceed ${SNS_FILTER_POLICY_MAX_COMBINATIONS} combinations of values (the product of each key's value count, times its depth in a body policy) (given ${combinations})`,
    );
  }
}
