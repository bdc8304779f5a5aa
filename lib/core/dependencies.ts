import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Dependable, type IConstruct, type IDependable } from 'constructs';

/**
 * Makes `resource` wait for the policies of `role` (its `DefaultPolicy`, and any `OverflowPolicy`
 * CDK splits off at synth time), not for the role itself: the role is already a dependency through
 * the resource's `Fn::GetAtt` on it, and a `DependsOn` the role is cfn-lint's W3005. A function or
 * state machine must exist only once its permissions do (an event source mapping, a first execution
 * checks them). A role of another stack, or an imported one, is left as CDK has it. Needs
 * `Node.removeDependency` (constructs 10.7); with an older constructs the template keeps CDK's
 * dependencies, which are correct, only redundant.
 */
export function dependOnPoliciesOf(resource: IConstruct, role: iam.IRole | undefined): void {
  const cfn = (resource.node.defaultChild ?? resource) as CfnResource;
  const node = cfn.node as typeof cfn.node & { removeDependency?: (...deps: IDependable[]) => void };
  if (!(role instanceof iam.Role) || Stack.of(role) !== Stack.of(resource) || typeof node.removeDependency !== 'function') return;
  node.removeDependency(role);
  // Evaluated when the app is synthesized, after every grant (and policy splitting) has happened.
  const policies: IDependable = {};
  Dependable.implement(policies, {
    get dependencyRoots() {
      return role.node.children.filter((child) => child !== role.node.defaultChild);
    },
  });
  node.addDependency(policies);
}
