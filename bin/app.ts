#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ShowcaseStack } from './showcase-stack';

const app = new App();
new ShowcaseStack(app, 'MessagingPatternsShowcase', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'cdk-messaging-patterns showcase: each messaging pattern with its example handler',
});
// Security gate: cdk-nag rule packs run as validation plugins at synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
