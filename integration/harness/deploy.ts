/**
 * Deploys test stacks built from the real constructs into LocalStack with `cdklocal`, exactly as a
 * user deploys them, and checks that every resource really exists (no silently skipped types).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { App, Stack } from 'aws-cdk-lib';
import { ACCOUNT, REGION, ROOT, applyEmulatorEnv, clientConfig } from './env';

const run = promisify(execFile);
const CDKLOCAL = path.join(ROOT, 'node_modules', 'aws-cdk-local', 'bin', 'cdklocal');

/** A stack deployed into the emulator. */
export interface DeployedStack {
  readonly stackName: string;
  /** The stack's outputs, by output name. */
  readonly outputs: Record<string, string>;
  /** Physical ids of the stack's resources, by logical id. */
  readonly resources: Record<string, string>;
  /** Deletes the stack, unless KEEP_STACKS=1. */
  destroy(): Promise<void>;
}

async function cdklocal(args: string[], timeoutMs = 600_000): Promise<string> {
  // Global setup applied `scripts/localstack.sh env` to process.env before the first deploy, and the
  // test processes inherit it; only a process it did not prepare runs the script here.
  if (!process.env.AWS_ENDPOINT_URL) applyEmulatorEnv();
  const env = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CI: 'true', FORCE_COLOR: '0' };
  delete (env as Record<string, string | undefined>).AWS_PROFILE;
  try {
    const { stdout, stderr } = await run(process.execPath, [CDKLOCAL, ...args], {
      cwd: ROOT,
      env,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return `${stdout}\n${stderr}`;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`cdklocal ${args.join(' ')} failed: ${e.message}\n${(e.stdout ?? '').slice(-4000)}\n${(e.stderr ?? '').slice(-8000)}`);
  }
}

const cfn = () => new CloudFormationClient(clientConfig());

/** Bootstraps the emulator's account/region for cdklocal, once per LocalStack start. */
export async function ensureBootstrapped(): Promise<void> {
  try {
    const res = await cfn().send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }));
    if (res.Stacks?.[0]?.StackStatus?.endsWith('_COMPLETE')) return;
  } catch {
    // not bootstrapped yet
  }
  await cdklocal(['bootstrap', `aws://${ACCOUNT}/${REGION}`, '--ci']);
}

let counter = 0;

/**
 * Synthesizes a stack built by `build` and deploys it with cdklocal. The stack name gets a unique
 * suffix so reruns never collide with stacks kept by KEEP_STACKS=1.
 */
export async function deployStack(name: string, build: (stack: Stack) => void): Promise<DeployedStack> {
  const stackName = `it-${name}-${Date.now().toString(36)}${(counter++).toString(36)}`;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-${name}-`));
  const app = new App({ outdir, analyticsReporting: false });
  const stack = new Stack(app, stackName, { env: { account: ACCOUNT, region: REGION } });
  build(stack);
  const assembly = app.synth();
  const template = assembly.getStackByName(stackName).template as { Resources: Record<string, { Type: string }> };

  const outputsFile = path.join(outdir, 'outputs.json');
  try {
    await cdklocal([
      'deploy',
      stackName,
      '--app',
      outdir,
      '--require-approval',
      'never',
      '--ci',
      '--outputs-file',
      outputsFile,
      '--progress',
      'events',
    ]);
  } catch (error) {
    if (process.env.KEEP_STACKS !== '1')
      await cfn()
        .send(new DeleteStackCommand({ StackName: stackName }))
        .catch(() => undefined);
    throw error;
  }

  const outputs = (JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[stackName] ?? {};
  const described = await cfn().send(new DescribeStackResourcesCommand({ StackName: stackName }));
  const resources: Record<string, string> = {};
  const problems: string[] = [];
  for (const r of described.StackResources ?? []) {
    resources[r.LogicalResourceId!] = r.PhysicalResourceId ?? '';
    if (!/_COMPLETE$/.test(r.ResourceStatus ?? '') || /DELETE/.test(r.ResourceStatus ?? ''))
      problems.push(`${r.LogicalResourceId} is ${r.ResourceStatus}`);
    if (!r.PhysicalResourceId) problems.push(`${r.LogicalResourceId} (${r.ResourceType}) has no physical id`);
  }
  for (const [logicalId, res] of Object.entries(template.Resources)) {
    if (res.Type === 'AWS::CDK::Metadata') continue;
    if (!(logicalId in resources)) problems.push(`${logicalId} (${res.Type}) was not deployed`);
  }
  if (problems.length > 0) {
    throw new Error(`stack ${stackName} did not deploy every resource:\n  ${problems.join('\n  ')}`);
  }

  return {
    stackName,
    outputs,
    resources,
    destroy: async () => {
      if (process.env.KEEP_STACKS === '1') return;
      await cdklocal(['destroy', stackName, '--app', outdir, '--force']);
      fs.rmSync(outdir, { recursive: true, force: true });
    },
  };
}
