import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const eslintBin = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

/** Lints `code` as if it were `file`, with the project's config (ESLint CLI, as `npm run lint` runs it). */
async function messagesFor(file: string, code: string): Promise<string[]> {
  const run = spawnSync(process.execPath, [eslintBin, '--format', 'json', '--stdin', '--stdin-filename', file], {
    cwd: root,
    input: code,
    encoding: 'utf8',
  });
  const [result] = JSON.parse(run.stdout) as Array<{ messages: Array<{ ruleId: string; message: string }> }>;
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint: the wall between synth-time and run-time code', () => {
  it.each([
    ["import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n"],
    ["import { Logger } from '@aws-lambda-powertools/logger';\nexport const l = Logger;\n"],
    ["export * from '../../lambda/runtime/batch';\n"],
  ])('rejects run-time imports in lib/: %s', async (code) => {
    expect((await messagesFor('lib/core/wall-probe.ts', code)).join('\n')).toMatch(/no-restricted-imports/);
  });

  it.each([
    ["import { Stack } from 'aws-cdk-lib';\nexport const s = Stack;\n"],
    ["import * as sqs from 'aws-cdk-lib/aws-sqs';\nexport const q = sqs;\n"],
    ["import { Construct } from 'constructs';\nexport const c = Construct;\n"],
    ["export * from '../../lib/core';\n"],
  ])('rejects synth-time imports in lambda/: %s', async (code) => {
    expect((await messagesFor('lambda/work-queue/wall-probe.ts', code)).join('\n')).toMatch(/no-restricted-imports/);
  });

  it('accepts each world importing its own packages', async () => {
    expect(
      await messagesFor('lib/core/wall-probe.ts', "import * as lambda from 'aws-cdk-lib/aws-lambda';\nexport const l = lambda;\n"),
    ).toEqual([]);
    expect(
      await messagesFor(
        'lambda/work-queue/wall-probe.ts',
        "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const c = SQSClient;\n",
      ),
    ).toEqual([]);
  });
});
