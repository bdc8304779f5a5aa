import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A string (usually an ARN with tokens) the way cdk-nag writes it in a finding id: references as
 * `<LogicalId>` and `<LogicalId.Attribute>`, pseudo parameters as `<AWS::Region>`. Lets a construct
 * acknowledge exactly one finding (e.g. `AwsSolutions-IAM5[Resource::<that string>]`) instead of
 * every finding of a rule.
 */
export function nagReference(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const n = node as Record<string, unknown>;
    if (n['Fn::Join']) {
      const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (n['Fn::Sub']) return visit(n['Fn::Sub']);
    if (n['Fn::GetAtt']) {
      const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (n['Fn::ImportValue']) return visit(n['Fn::ImportValue']);
    if (n.Ref) return `<${visit(n.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

/**
 * Acknowledges, on a dead-letter queue the kit created, the two cdk-nag rules that ask every queue
 * for a dead-letter queue of its own.
 */
export function acknowledgeDeadLetterQueue(queue: IConstruct, of: string): void {
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of ${of}: a DLQ needs no DLQ of its own.`,
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: `This queue is the dead-letter queue of ${of}: a DLQ needs no redrive policy of its own.`,
  });
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 for exactly one wildcard resource (`resourceArn`, tokens
 * allowed) on `scope`, leaving every other wildcard finding in place.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagReference(scope, resourceArn)}]`, reason });
}
