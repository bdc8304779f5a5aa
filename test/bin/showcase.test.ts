import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ShowcaseStack } from '../../bin/showcase-stack';
import { nagErrors } from '../helpers/cdk';

describe('showcase app', () => {
  it('synthesizes with a work queue fed to the example consumer, and no warnings', () => {
    const app = new App();
    const stack = new ShowcaseStack(app, 'Showcase');
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: 256,
      TracingConfig: { Mode: 'Active' },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('passes the cdk-nag AwsSolutions and Serverless packs with no error', () => {
    const findings = nagErrors((app) => new ShowcaseStack(app, 'Showcase'));
    expect(findings).toEqual([]);
  });

  it('passes them in a stack with a concrete account and region too (acknowledgements follow the rendered ARNs)', () => {
    const findings = nagErrors((app) => new ShowcaseStack(app, 'Showcase', { env: { account: '123456789012', region: 'eu-west-1' } }));
    expect(findings).toEqual([]);
  });
});
