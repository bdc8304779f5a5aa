/**
 * Python binding smoke test: builds the Python distribution with jsii-pacmak (`npm run package:python`),
 * installs it with aws-cdk-lib from PyPI into a virtualenv (cached, see scripts/smoke/python.ts),
 * synthesizes a WorkQueue app written in Python, and checks that its template is the one the same
 * app written in TypeScript synthesizes on the same aws-cdk-lib (the JavaScript the Python packages
 * carry). Needs `npm run build` first (npm test does it) and python3 with venv.
 *
 * jsii runs the kit's JavaScript in a Node.js child process; Node.js 20 is end-of-life in jsii's
 * support matrix, so jsii prints a banner on every run unless JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { WORK_QUEUE_APP, WORK_QUEUE_STACK } from '../../scripts/smoke/apps';
import {
  type CfnTemplate,
  kitManifest,
  lowestOf,
  readJson,
  root,
  run,
  runWithStderr,
  synthEnvironment,
  timed,
} from '../../scripts/smoke/consumer-app';
import { type PythonEnv, builtWheel, pythonEnv, unpackJsiiTarballs, wheelContents } from '../../scripts/smoke/python';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const JSII_ENV = { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' };
const APP_PY = path.join(__dirname, 'python', 'work_queue_app.py');

const timings: string[] = [];
const time = <T>(label: string, fn: () => T): T => {
  const { result, seconds } = timed(fn);
  timings.push(`${label}: ${seconds.toFixed(1)} s`);
  return result;
};

let work: string;
let wheel: string;
let contents: ReturnType<typeof wheelContents>;
let env: PythonEnv;
let pacmakOutput: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-python-smoke-'));
  pacmakOutput = time('Python build (npm run package:python)', () => run(npm, ['run', 'package:python'], root, JSII_ENV));
  wheel = builtWheel();
  contents = wheelContents(wheel);
  env = time('Python virtualenv + install', () => pythonEnv(wheel, contents.requires));
  timings.push(
    `virtualenv: ${env.reused ? 'cached, kit wheel reinstalled' : 'created'}; aws-cdk-lib ${env.versions['aws-cdk-lib']} from ${env.awsCdkLibSource}, ` +
      `constructs ${env.versions.constructs}, jsii ${env.versions.jsii}`,
  );
}, 900_000);

afterAll(() => {
  console.log(`Python smoke timings (${work}):\n  ${timings.join('\n  ')}`);
  if (work && !process.env.KEEP_SMOKE) fs.rmSync(work, { recursive: true, force: true });
});

it('builds a wheel whose requirements are the peer ranges', () => {
  const peers = kitManifest().peerDependencies;
  const requirement = (pkg: string, major: number) =>
    expect.stringMatching(new RegExp(`^${pkg} ?<${major + 1}\\.0\\.0, ?>=${lowestOf(peers[pkg]).replace(/\./g, '\\.')}$`));
  expect(contents.requires).toEqual(
    expect.arrayContaining([requirement('aws-cdk-lib', 2), requirement('constructs', 10), expect.stringMatching(/^jsii\b/)]),
  );
  expect(pacmakOutput).not.toMatch(/end-of-life/i);
});

it('ships the pre-bundled handlers and the assembly inside the wheel', () => {
  // The jsii tarball in the wheel is the npm package: every handler bundle the build made must be in it.
  const dist = path.join(root, 'dist', 'lambda');
  const handlers = fs
    .readdirSync(dist)
    .filter((p) => p !== 'runtime')
    .flatMap((p) => fs.readdirSync(path.join(dist, p)).map((h) => `package/dist/lambda/${p}/${h}/index.js`));
  expect(handlers.length).toBeGreaterThan(5);
  expect(contents.tarball).toEqual(
    expect.arrayContaining([...handlers, 'package/.jsii', 'package/dist/lib/index.js', 'package/dist/lambda/runtime/batch/index.js']),
  );
  expect(contents.tarball.filter((f) => /^package\/(lib|lambda|test|scripts)\//.test(f))).toEqual([]);
});

describe('a Python app with a WorkQueue', () => {
  let python: CfnTemplate;
  let typescript: CfnTemplate;
  let report: {
    versions: Record<string, string>;
    isMessagingPattern: boolean;
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    alarms: number;
    grantIsIamGrant: boolean;
    hasDeadLetterQueue: boolean;
    rejected: { type: string; message: string } | null;
  };
  /** What the Python run printed. */
  let output: string;

  beforeAll(() => {
    const out = path.join(work, 'python.out');
    const reportFile = path.join(work, 'report.json');
    const { stdout, stderr: err } = time('Python synth', () =>
      runWithStderr(env.python, [APP_PY], work, { ...JSII_ENV, ...synthEnvironment(out), SMOKE_REPORT: reportFile }),
    );
    output = stdout + err;
    python = readJson<CfnTemplate>(path.join(out, `${WORK_QUEUE_STACK}.template.json`));
    report = readJson(reportFile);

    // The same app in TypeScript, on the JavaScript the Python packages carry (same aws-cdk-lib, same kit).
    const twin = path.join(work, 'typescript');
    fs.mkdirSync(twin);
    time('TypeScript twin (unpack + synth)', () => {
      unpackJsiiTarballs(env.python, twin);
      const js = ts.transpileModule(WORK_QUEUE_APP, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      });
      fs.writeFileSync(path.join(twin, 'app.js'), js.outputText);
      run(process.execPath, ['app.js'], twin, synthEnvironment(path.join(twin, 'cdk.out')));
    });
    typescript = readJson<CfnTemplate>(path.join(twin, 'cdk.out', `${WORK_QUEUE_STACK}.template.json`));
  }, 600_000);

  it('runs on the installed packages, quietly', () => {
    expect(report.versions).toEqual(env.versions);
    // Silenced: jsii's Node.js end-of-life banner. Anything else jsii or CDK prints is news.
    expect(output).not.toMatch(/end-of-life|deprecat|warn/i);
  });

  it('synthesizes the WorkQueue with its secure defaults', () => {
    const byType = (t: string) => Object.values(python.Resources).filter((r) => r.Type === t);
    const queues = byType('AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    expect(queues.find((q) => q.Properties?.RedrivePolicy)?.Properties).toMatchObject({
      VisibilityTimeout: 90,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 5 },
    });
    expect(byType('AWS::SQS::QueuePolicy')).toHaveLength(2);
    expect(byType('AWS::Lambda::EventSourceMapping').map((m) => m.Properties)).toEqual([
      expect.objectContaining({ FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 5 } }),
    ]);
    expect(byType('AWS::CloudWatch::Alarm')).toHaveLength(2);
  });

  it('synthesizes the template the TypeScript app does', () => {
    const types = (t: CfnTemplate) =>
      Object.values(normalise(t).Resources)
        .map((r) => r.Type)
        .sort();
    expect(types(python)).toEqual(types(typescript));
    expect(normalise(python)).toEqual(normalise(typescript));
  });

  it('exposes the construct to Python: attributes, grants, and the kit error as a RuntimeError', () => {
    expect(report).toMatchObject({
      isMessagingPattern: true,
      visibilityTimeoutSeconds: 90,
      maxReceiveCount: 5,
      alarms: 2,
      grantIsIamGrant: true,
      hasDeadLetterQueue: true,
    });
    // MessagingPatternsError is not in the assembly (jsii cannot model Error subclasses): Python gets
    // jsii's error for a JavaScript exception, a RuntimeError, with the kit's message and codes in it.
    expect(report.rejected?.type).toBe('builtins.RuntimeError');
    expect(report.rejected?.message).toMatch(/^\[Rejected\/Queue\] .*\[batchSize:range\]/);
  });
});

/** A template without what legitimately differs between two synths: CDK metadata, asset hashes. */
function normalise(template: CfnTemplate): CfnTemplate {
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type !== 'AWS::CDK::Metadata')
      .map(([id, r]) => {
        const { Metadata: _metadata, ...rest } = r;
        return [id, rest];
      }),
  );
  return JSON.parse(JSON.stringify({ Resources: resources }).replace(/[0-9a-f]{64}/g, '<asset-hash>')) as CfnTemplate;
}
