import { Stack } from 'aws-cdk-lib';
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
