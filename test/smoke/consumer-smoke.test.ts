/**
 * Consumer smoke test: packs the kit as npm would publish it, installs the tarball into a fresh CDK
 * app in a temp folder (aws-cdk-lib and constructs from the registry), imports it exactly as a
 * user would, synthesizes, and checks the template. Needs `npm run build` first (npm test does it).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_yes: 'true' } });

const ourVersion = (pkg: string) =>
  (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

const APP_TS = `
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KitFunction, WorkQueue } from 'cdk-messaging-patterns';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'SmokeStack');
const consumer = new lambda.Function(stack, 'Consumer', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] })'),
  timeout: Duration.seconds(15),
});
const queue = new WorkQueue(stack, 'Jobs', { consumer, maxConcurrency: 5 });
const worker = new KitFunction(stack, 'Worker', { handler: 'work-queue/consumer' });
queue.grantSend(worker);
app.synth();
`;

describe('consumer smoke test (npm pack → fresh CDK app)', () => {
  let dir: string;
  let tarball: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-smoke-'));
    const packed = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', dir], root)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = path.join(dir, packed[0].filename);
    fs.writeFileSync(path.join(dir, 'files.json'), JSON.stringify(packed[0].files.map((f) => f.path)));
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'smoke-app', private: true, version: '0.0.0' }));
    run(
      npm,
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        tarball,
        `aws-cdk-lib@${ourVersion('aws-cdk-lib')}`,
        `constructs@${ourVersion('constructs')}`,
      ],
      app,
    );
    fs.writeFileSync(path.join(app, 'app.ts'), APP_TS);
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      // skipLibCheck off, so the kit's declaration files are checked as a user's compiler sees them.
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'commonjs',
          lib: ['ES2022', 'ESNext.Disposable'],
          strict: true,
          esModuleInterop: true,
          skipLibCheck: false,
          types: [],
        },
      }),
    );
  }, 300_000);

  afterAll(() => {
    if (dir && !process.env.KEEP_SMOKE) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ships compiled code, declarations and handler bundles, and no sources or tests', () => {
    const files: string[] = JSON.parse(fs.readFileSync(path.join(dir, 'files.json'), 'utf8'));
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lambda/work-queue/consumer/index.js',
        'dist/lambda/runtime/batch/index.js',
        'dist/lambda/runtime/batch/index.d.ts',
        'package.json',
        'README.md',
      ]),
    );
    expect(files.filter((f) => /(^|\/)(test|integration|scripts)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it('type-checks a TypeScript app importing the kit', () => {
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(() => run(process.execPath, [tsc, '-p', '.'], path.join(dir, 'app'))).not.toThrow();
  }, 120_000);

  it('synthesizes without esbuild or Docker, and the template has the WorkQueue', () => {
    const app = path.join(dir, 'app');
    expect(fs.existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
    run(process.execPath, ['app.js'], app);
    const template = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'SmokeStack.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const byType = (t: string) => Object.values(template.Resources).filter((r) => r.Type === t);
    const queues = byType('AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    const source = queues.find((q) => q.Properties.RedrivePolicy);
    expect(source?.Properties).toMatchObject({ VisibilityTimeout: 90, SqsManagedSseEnabled: true, RedrivePolicy: { maxReceiveCount: 5 } });
    expect(byType('AWS::SQS::QueuePolicy')).toHaveLength(2);
    expect(byType('AWS::Lambda::EventSourceMapping')[0].Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    expect(byType('AWS::CloudWatch::Alarm')).toHaveLength(2);
    // The kit's handler is a pre-built asset copied into cdk.out.
    const worker = byType('AWS::Lambda::Function').find((f) => f.Properties.Runtime === 'nodejs24.x');
    expect(worker).toBeDefined();
    const assetDirs = fs.readdirSync(path.join(app, 'cdk.out')).filter((d) => d.startsWith('asset.'));
    expect(assetDirs.some((d) => fs.existsSync(path.join(app, 'cdk.out', d, 'index.js.map')))).toBe(true);
  }, 120_000);

  it('resolves the runtime subpath export', () => {
    const app = path.join(dir, 'app');
    const out = run(process.execPath, ['-e', "console.log(typeof require('cdk-messaging-patterns/runtime/batch').processSqsBatch)"], app);
    expect(out.trim()).toBe('function');
  });
});
