import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { KitFunction } from '../../../lib/core/kit-function';
import { handlerBundlePath } from '../../../lib/core/handler-code';
import { nagErrors, newStack, template } from '../../helpers/cdk';

describe('KitFunction', () => {
  it('runs a pre-built bundle on the newest Node.js runtime with the kit defaults', () => {
    const stack = newStack();
    new KitFunction(stack, 'Worker', { handler: 'work-queue/consumer' });
    const t = template(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 30,
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('WorkerLogGroup') } },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    // Its own role, no AWS managed policy.
    t.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it("depends on its role's policies, not on the role it already references (cfn-lint W3005)", () => {
    const stack = newStack();
    const fn = new KitFunction(stack, 'Worker', { handler: 'work-queue/consumer' });
    // A statement added after construction, and enough of them that CDK splits off an overflow policy.
    for (let i = 0; i < 150; i++) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage'],
          resources: [`arn:aws:sqs:eu-west-1:111122223333:${'queue'.repeat(8)}-${i}`],
        }),
      );
    }
    const resources = template(stack).toJSON().Resources as Record<string, { Type: string; DependsOn?: string[] }>;
    const [, worker] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function')!;
    const role = Object.keys(resources).find((id) => resources[id].Type === 'AWS::IAM::Role')!;
    const policies = Object.keys(resources).filter((id) => ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(resources[id].Type));
    expect(policies.length).toBeGreaterThan(1);
    expect(worker.DependsOn).not.toContain(role);
    expect([...(worker.DependsOn ?? [])].sort()).toEqual(policies.sort());
  });

  it('drops the redundant dependency on a given role of the same stack too', () => {
    const stack = newStack();
    const role = new iam.Role(stack, 'Given', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    new KitFunction(stack, 'Worker', { handler: 'work-queue/consumer', functionProps: { role } });
    const resources = template(stack).toJSON().Resources as Record<string, { Type: string; DependsOn?: string[] }>;
    const [, worker] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function')!;
    expect(worker.DependsOn ?? []).not.toContain(Object.keys(resources).find((id) => resources[id].Type === 'AWS::IAM::Role'));
  });

  it('acknowledges both asynchronous-failure rules with synchronousOnlyReason, and neither without it', () => {
    const findings = nagErrors((app) => {
      const stack = new Stack(app, 'Gate');
      for (const [id, synchronousOnlyReason] of [
        ['Explained', 'Invoked only by its schedule; a lost run loses nothing.'],
        ['Plain', undefined],
      ]) {
        const fn = new KitFunction(stack, id!, { handler: 'work-queue/consumer', synchronousOnlyReason });
        // An async invoke config without a destination: what Serverless-LambdaAsyncFailureDestination checks.
        fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
      }
    });
    const rules = ['Serverless-LambdaDLQ', 'Serverless-LambdaAsyncFailureDestination'];
    const ruleIdsAt = (path: RegExp) =>
      findings
        .filter((f) => path.test(f.path) && rules.includes(f.ruleId))
        .map((f) => f.ruleId)
        .sort();
    expect(ruleIdsAt(/^Gate\/Explained\//)).toEqual([]);
    expect(ruleIdsAt(/^Gate\/Plain\//)).toEqual([...rules].sort());
  });

  it('merges function props over the defaults', () => {
    const stack = newStack();
    new KitFunction(stack, 'Worker', { handler: 'work-queue/consumer', functionProps: { memorySize: 512, environment: { A: 'b' } } });
    template(stack).hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', A: 'b' } },
    });
  });
});

describe('handlerBundlePath', () => {
  it('points at the bundle in dist/lambda', () => {
    const dir = handlerBundlePath('work-queue/consumer');
    expect(dir).toBe(path.resolve(__dirname, '../../../dist/lambda/work-queue/consumer'));
    expect(fs.existsSync(path.join(dir, 'index.js.map'))).toBe(true);
  });

  it('fails if the handler name is malformed', () => {
    expect(() => handlerBundlePath('../etc')).toThrow(/handler must look like '<pattern>\/<handler>' \(given '..\/etc'\)/);
  });

  it('fails if the bundle is missing, saying how to build it', () => {
    expect(() => handlerBundlePath('work-queue/missing')).toThrow(
      /bundle for handler 'work-queue\/missing' is missing .* run `npm run build`/,
    );
  });
});
