/**
 * Consumer smoke test: packs the kit as npm would publish it, installs the tarball into fresh CDK
 * apps in a temp folder, imports it exactly as a user would, type-checks (skipLibCheck off),
 * synthesizes and checks the templates. Runs twice: at the lowest aws-cdk-lib and constructs the
 * peer ranges in package.json allow (the floor the ranges promise), and at the newest on the npm
 * registry. Needs `npm run build` first (npm test does it).
 *
 * To try other versions (before changing the peer ranges): `npx ts-node scripts/smoke/peer-check.ts`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ALL_CONSTRUCTS_APP,
  ALL_CONSTRUCTS_COVERED,
  ALL_CONSTRUCTS_STACK,
  WORK_QUEUE_APP,
  WORK_QUEUE_STACK,
} from '../../scripts/smoke/apps';
import {
  type CfnResource,
  type CfnTemplate,
  compile,
  createConsumerApp,
  installedVersion,
  kitManifest,
  latestAwsCdkLib,
  latestConstructs,
  lowestOf,
  packKit,
  readJson,
  run,
  runtimeSdkPackages,
  synth,
  timed,
} from '../../scripts/smoke/consumer-app';

const peers = kitManifest().peerDependencies;
const latest = { awsCdkLib: latestAwsCdkLib(), constructs: latestConstructs() };
const targets = [
  { name: 'lowest declared', awsCdkLib: lowestOf(peers['aws-cdk-lib']), constructs: lowestOf(peers.constructs) },
  { name: 'latest', awsCdkLib: latest.awsCdkLib.version, constructs: latest.constructs.version },
];
console.log(
  [
    `consumer smoke: peer ranges aws-cdk-lib ${peers['aws-cdk-lib']}, constructs ${peers.constructs}`,
    ...targets.map((t) => `  ${t.name}: aws-cdk-lib@${t.awsCdkLib}, constructs@${t.constructs}`),
    `  latest from: aws-cdk-lib ${latest.awsCdkLib.source}; constructs ${latest.constructs.source}`,
  ].join('\n'),
);

const timings: string[] = [];
const time = <T>(label: string, fn: () => T): T => {
  const { result, seconds } = timed(fn);
  timings.push(`${label}: ${seconds.toFixed(1)} s`);
  return result;
};

let work: string;
let files: string[];
/** The app folder of each target. */
const apps = new Map<string, string>();

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-smoke-'));
  const packed = time('pack', () => packKit(work));
  files = packed.files;
  // Both installs at once: they mostly wait for downloads.
  const started = Date.now();
  await Promise.all(
    targets.map(async (t) => {
      const dir = path.join(work, t.name.replace(/\W+/g, '-'));
      apps.set(
        t.name,
        await createConsumerApp({
          dir,
          tarball: packed.tarball,
          awsCdkLib: t.awsCdkLib,
          constructs: t.constructs,
          sources: { 'app.ts': ALL_CONSTRUCTS_APP, 'work-queue-app.ts': WORK_QUEUE_APP },
          // The SDK clients the run-time library loads, as a user's handlers install them (dev dependencies).
          extraPackages: runtimeSdkPackages(),
        }),
      );
    }),
  );
  timings.push(`npm install, both versions at once: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(() => {
  console.log(`consumer smoke timings (${work}):\n  ${timings.join('\n  ')}`);
  if (work && !process.env.KEEP_SMOKE) fs.rmSync(work, { recursive: true, force: true });
});

it('ships compiled code, declarations, handler bundles and the jsii assembly, and no sources or tests', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lambda/work-queue/consumer/index.js',
      'dist/lambda/request-reply/reaper/index.js',
      'dist/lambda/runtime/batch/index.js',
      'dist/lambda/runtime/batch/index.d.ts',
      '.jsii',
      'package.json',
      'README.md',
    ]),
  );
  expect(files.filter((f) => /(^|\/)(test|integration|scripts)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
});

it('the all-constructs app covers every construct of the kit', () => {
  // The constructs are the concrete classes based on MessagingPattern, in the assembly the tarball ships.
  const assembly = readJson<{ types: Record<string, { kind: string; name: string; base?: string; abstract?: boolean }> }>(
    path.join(apps.get(targets[0].name)!, 'node_modules', 'cdk-messaging-patterns', '.jsii'),
  );
  const isPattern = (fqn: string | undefined): boolean =>
    fqn === 'cdk-messaging-patterns.MessagingPattern' || (fqn !== undefined && isPattern(assembly.types[fqn]?.base));
  const constructs = Object.values(assembly.types)
    .filter((t) => t.kind === 'class' && !t.abstract && isPattern(t.base))
    .map((t) => t.name)
    .sort();
  // A construct missing here: add it to ALL_CONSTRUCTS_APP (and ALL_CONSTRUCTS_COVERED) in scripts/smoke/apps.ts.
  expect(constructs.filter((c) => !ALL_CONSTRUCTS_COVERED.includes(c))).toEqual([]);
  expect(ALL_CONSTRUCTS_COVERED.filter((c) => !constructs.includes(c))).toEqual([]);
});

describe.each(targets)('a fresh CDK app at the $name versions (aws-cdk-lib@$awsCdkLib, constructs@$constructs)', (target) => {
  let app: string;
  let template: CfnTemplate;

  beforeAll(() => {
    app = apps.get(target.name)!;
  });

  it('installs the intended aws-cdk-lib and constructs', () => {
    expect(installedVersion(app, 'aws-cdk-lib')).toBe(target.awsCdkLib);
    expect(installedVersion(app, 'constructs')).toBe(target.constructs);
  });

  it('type-checks TypeScript apps importing the kit, with skipLibCheck off', () => {
    expect(() => time(`${target.name}: tsc`, () => compile(app))).not.toThrow();
  }, 300_000);

  it('synthesizes every construct without esbuild or Docker', () => {
    expect(fs.existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
    template = time(`${target.name}: synth (all constructs)`, () => synth(app, 'app.js', ALL_CONSTRUCTS_STACK));
    expect(Object.keys(template.Resources).length).toBeGreaterThan(100);
  }, 300_000);

  it("has each construct's key resources", () => {
    expectAllConstructs(template, path.join(app, 'cdk.out'));
  });

  it('synthesizes a WorkQueue with its secure defaults', () => {
    const wq = time(`${target.name}: synth (WorkQueue)`, () => synth(app, 'work-queue-app.js', WORK_QUEUE_STACK, 'cdk.out.work-queue'));
    const byType = (t: string) => Object.values(wq.Resources).filter((r) => r.Type === t);
    const queues = byType('AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    const source = queues.find((q) => q.Properties?.RedrivePolicy);
    expect(source?.Properties).toMatchObject({ VisibilityTimeout: 90, SqsManagedSseEnabled: true, RedrivePolicy: { maxReceiveCount: 5 } });
    expect(byType('AWS::SQS::QueuePolicy')).toHaveLength(2);
    expect(byType('AWS::Lambda::EventSourceMapping')[0].Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    expect(byType('AWS::CloudWatch::Alarm')).toHaveLength(2);
  }, 300_000);

  it('resolves every runtime subpath export, each loading with exports', () => {
    const subpaths = Object.keys(kitManifest().exports).filter((k) => k.startsWith('./runtime/'));
    expect(subpaths).toEqual(expect.arrayContaining(['./runtime/batch', './runtime/outbox', './runtime/event-store']));
    const script = `for (const p of ${JSON.stringify(subpaths)}) { const m = require('cdk-messaging-patterns' + p.slice(1)); console.log(p, Object.keys(m).length); }`;
    const loaded = Object.fromEntries(
      run(process.execPath, ['-e', script], app)
        .trim()
        .split('\n')
        .map((line) => line.split(' ')),
    );
    expect(Object.keys(loaded).sort()).toEqual([...subpaths].sort());
    for (const p of subpaths) expect(Number(loaded[p])).toBeGreaterThan(0);
    const out = run(
      process.execPath,
      [
        '-e',
        "console.log(typeof require('cdk-messaging-patterns/runtime/batch').processSqsBatch, typeof require('cdk-messaging-patterns/runtime/outbox').OutboxRelay, typeof require('cdk-messaging-patterns/runtime/event-store').EventStore)",
      ],
      app,
    );
    expect(out.trim()).toBe('function function function');
  }, 60_000);
});

/** Resources under a construct of the stack, by its id (`Orders` → every `AllConstructs/Orders/...`). */
function under(template: CfnTemplate, id: string, type?: string): CfnResource[] {
  const prefix = `${ALL_CONSTRUCTS_STACK}/${id}/`;
  return Object.values(template.Resources).filter(
    (r) => String(r.Metadata?.['aws:cdk:path'] ?? '').startsWith(prefix) && (type === undefined || r.Type === type),
  );
}

function logicalId(template: CfnTemplate, cdkPath: string): string {
  const found = Object.entries(template.Resources).find(([, r]) => r.Metadata?.['aws:cdk:path'] === `${ALL_CONSTRUCTS_STACK}/${cdkPath}`);
  if (!found) throw new Error(`no resource at ${cdkPath}`);
  return found[0];
}

const props = (r: CfnResource | undefined): Record<string, unknown> => r?.Properties ?? {};
const sourceQueue = (queues: CfnResource[]) => queues.find((q) => props(q).RedrivePolicy);
const KIT_RUNTIME = 'nodejs24.x';

function expectAllConstructs(t: CfnTemplate, outdir: string): void {
  const appKey = { 'Fn::GetAtt': [logicalId(t, 'AppKey/Resource'), 'Arn'] };
  const topic = { Ref: logicalId(t, 'AlarmTopic/Resource') };

  // IdempotencyTable: key id, TTL, on demand, PITR, the customer managed key.
  expect(under(t, 'Idempotency', 'AWS::DynamoDB::Table').map(props)).toEqual([
    expect.objectContaining({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { KMSMasterKeyId: appKey, SSEEnabled: true, SSEType: 'KMS' },
    }),
  ]);

  // WorkQueue: queue + DLQ on the key, the derived visibility timeout, the mapping, 2 alarms + addAlarm.
  const orders = under(t, 'Orders', 'AWS::SQS::Queue');
  expect(orders).toHaveLength(2);
  expect(orders.every((q) => JSON.stringify(props(q).KmsMasterKeyId) === JSON.stringify(appKey))).toBe(true);
  expect(props(sourceQueue(orders))).toMatchObject({ VisibilityTimeout: 95, RedrivePolicy: { maxReceiveCount: 4 } });
  expect(under(t, 'Orders', 'AWS::SQS::QueuePolicy')).toHaveLength(2);
  expect(under(t, 'Orders', 'AWS::Lambda::EventSourceMapping').map(props)).toEqual([
    expect.objectContaining({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    }),
  ]);
  const orderAlarms = under(t, 'Orders', 'AWS::CloudWatch::Alarm');
  expect(orderAlarms.map((a) => String(a.Metadata?.['aws:cdk:path']).split('/')[3]).sort()).toEqual([
    'ConsumerErrors',
    'DeadLetterQueueNotEmpty',
    'OldestMessageTooOld',
  ]);
  const oldest = orderAlarms.find((a) => String(a.Metadata?.['aws:cdk:path']).includes('/OldestMessageTooOld/'));
  expect(props(oldest)).toMatchObject({
    Threshold: 600,
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    Period: 120,
    TreatMissingData: 'ignore',
    AlarmActions: [topic],
    OKActions: [topic],
  });
  expect(orderAlarms.every((a) => JSON.stringify(props(a).AlarmActions) === JSON.stringify([topic]))).toBe(true);

  // SequentialConvoy: FIFO queue and DLQ, high-throughput settings.
  const convoy = under(t, 'OrderEvents', 'AWS::SQS::Queue');
  expect(convoy).toHaveLength(2);
  expect(convoy.every((q) => props(q).FifoQueue === true)).toBe(true);
  expect(props(sourceQueue(convoy))).toMatchObject({
    ContentBasedDeduplication: true,
    DeduplicationScope: 'messageGroup',
    FifoThroughputLimit: 'perMessageGroupId',
  });
  expect(under(t, 'OrderEvents', 'AWS::Lambda::EventSourceMapping').map((m) => props(m).ScalingConfig)).toEqual([
    { MaximumConcurrency: 10 },
  ]);

  // PriorityQueue, weighted: a queue and DLQ per level, one mapping per level sharing 30.
  expect(under(t, 'Jobs', 'AWS::SQS::Queue')).toHaveLength(6);
  const caps = under(t, 'Jobs', 'AWS::Lambda::EventSourceMapping').map(
    (m) => (props(m).ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency,
  );
  expect(caps).toHaveLength(3);
  expect(caps.reduce((a, b) => a + b, 0)).toBe(30);
  expect(under(t, 'Jobs', 'AWS::CloudWatch::Alarm')).toHaveLength(6);

  // PriorityQueue, strict: the kit's key, the dispatcher and its schedule, no mappings.
  const urgentKey = { 'Fn::GetAtt': [logicalId(t, 'Urgent/Key/Resource'), 'Arn'] };
  // Its two levels' queues and DLQs on the key; the dispatch schedule's own DLQ (SSE-SQS: EventBridge
  // delivers to it without a key grant).
  const urgent = under(t, 'Urgent', 'AWS::SQS::Queue');
  expect(urgent).toHaveLength(5);
  const scheduleDlq = urgent.filter((q) => String(q.Metadata?.['aws:cdk:path']).includes('/DispatchScheduleDeadLetterQueue/'));
  expect(scheduleDlq.map(props)).toEqual([expect.objectContaining({ SqsManagedSseEnabled: true })]);
  expect(
    urgent.filter((q) => !scheduleDlq.includes(q)).every((q) => JSON.stringify(props(q).KmsMasterKeyId) === JSON.stringify(urgentKey)),
  ).toBe(true);
  expect(under(t, 'Urgent', 'AWS::Lambda::EventSourceMapping')).toHaveLength(0);
  expect(under(t, 'Urgent', 'AWS::Lambda::Function').map((f) => props(f).Runtime)).toEqual([KIT_RUNTIME]);
  expect(under(t, 'Urgent', 'AWS::Events::Rule').map((r) => props(r).ScheduleExpression)).toEqual(['rate(1 minute)']);

  // DelayQueue: schedule group, scheduler role, producer policy, schedule DLQ, 4 alarms.
  expect(under(t, 'Reminders', 'AWS::Scheduler::ScheduleGroup')).toHaveLength(1);
  expect(under(t, 'Reminders', 'AWS::SQS::Queue')).toHaveLength(3);
  expect(JSON.stringify(under(t, 'Reminders', 'AWS::IAM::Role').map(props))).toContain('scheduler.amazonaws.com');
  expect(JSON.stringify(under(t, 'Reminders', 'AWS::IAM::ManagedPolicy').map(props))).toContain('scheduler:CreateSchedule');
  expect(under(t, 'Reminders', 'AWS::CloudWatch::Alarm')).toHaveLength(4);
  expect(JSON.stringify(under(t, 'ReminderUser').map(props))).toContain('scheduler:CreateSchedule');

  // ClaimCheck: SSE-KMS with a bucket key and the claim lifecycle, server access logs to a second bucket.
  const buckets = under(t, 'Reports', 'AWS::S3::Bucket');
  expect(buckets).toHaveLength(2);
  const claims = buckets.find((b) => props(b).LoggingConfiguration);
  expect(props(claims)).toMatchObject({
    BucketEncryption: {
      ServerSideEncryptionConfiguration: [
        { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: appKey } },
      ],
    },
    LifecycleConfiguration: { Rules: [expect.objectContaining({ Id: 'ExpireClaims', Prefix: 'claims/', ExpirationInDays: 20 })] },
    OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
  });

  // RequestReply: request queue and DLQ with a mapping, the reaper and its schedule, the schedule's DLQ.
  expect(
    under(t, 'Quotes', 'AWS::SQS::Queue')
      .map((q) => String(q.Metadata?.['aws:cdk:path']).split('/').slice(2, -1).join('/'))
      .sort(),
  ).toEqual(['ReaperScheduleDeadLetterQueue', 'Requests/DeadLetterQueue', 'Requests/Queue']);
  expect(under(t, 'Quotes', 'AWS::Lambda::EventSourceMapping')).toHaveLength(1);
  expect(under(t, 'Quotes', 'AWS::Lambda::Function').map((f) => props(f).Runtime)).toEqual([KIT_RUNTIME]);
  expect(under(t, 'Quotes', 'AWS::Events::Rule').map((r) => props(r).ScheduleExpression)).toEqual([expect.stringMatching(/^rate\(/)]);

  // FailureReasonStore: the bucket with its expiry, and the tag on the work queue's DLQ.
  expect(under(t, 'FailureReasons', 'AWS::S3::Bucket').map((b) => props(b).LifecycleConfiguration)).toEqual([
    { Rules: [expect.objectContaining({ Id: 'ExpireFailureReasons', Prefix: 'reasons/', ExpirationInDays: 15 })] },
  ]);
  const ordersDlq = orders.find((q) => !props(q).RedrivePolicy);
  expect(JSON.stringify(props(ordersDlq).Tags)).toContain('cdk-messaging-patterns:failure-reasons');

  // DeadLetterQueueRedrive: the function with its rate limit, on a 6-hour schedule.
  expect(under(t, 'OrdersRedrive', 'AWS::Lambda::Function').map(props)).toEqual([
    expect.objectContaining({
      Runtime: KIT_RUNTIME,
      Environment: { Variables: expect.objectContaining({ MAX_MESSAGES_PER_SECOND: '50' }) },
    }),
  ]);
  const rule = under(t, 'OrdersRedrive', 'AWS::Events::Rule').map(props);
  expect(rule).toEqual([
    expect.objectContaining({
      ScheduleExpression: 'rate(6 hours)',
      Targets: [expect.objectContaining({ DeadLetterConfig: expect.anything(), RetryPolicy: expect.anything() })],
    }),
  ]);
  expect(JSON.stringify(rule)).toContain('\\"action\\":\\"start\\"');

  // EventRouter: bus, archive on the key, two bus policies; route EuOrders split over 2 rules (7
  // targets) with $or and replays ignored, route Projection accepting replays; a DLQ and alarms per route.
  expect(under(t, 'Router', 'AWS::Events::EventBus')).toHaveLength(1);
  expect(under(t, 'Router', 'AWS::Events::Archive').map(props)).toEqual([
    expect.objectContaining({ RetentionDays: 7, KmsKeyIdentifier: appKey }),
  ]);
  expect(under(t, 'Router', 'AWS::Events::EventBusPolicy')).toHaveLength(2);
  const euRules = under(t, 'Router/Routes/EuOrders', 'AWS::Events::Rule').map(props);
  expect(euRules.map((r) => (r.Targets as unknown[]).length).sort()).toEqual([2, 5]);
  for (const r of euRules) {
    expect(r.EventPattern).toMatchObject({
      source: ['shop.orders'],
      'replay-name': [{ exists: false }],
      $or: [{}, {}].map(() => expect.anything()),
    });
  }
  const euTargets = euRules.flatMap((r) => r.Targets as Array<Record<string, unknown>>);
  expect(euTargets.filter((x) => x.DeadLetterConfig)).toHaveLength(7);
  expect(euTargets.filter((x) => x.RetryPolicy)).toHaveLength(6); // not the event bus target
  expect(euTargets.filter((x) => x.SqsParameters)).toEqual([expect.objectContaining({ SqsParameters: { MessageGroupId: 'orders' } })]);
  expect(euTargets.filter((x) => x.KinesisParameters)).toEqual([
    expect.objectContaining({ KinesisParameters: { PartitionKeyPath: '$.detail.orderId' } }),
  ]);
  const projection = under(t, 'Router/Routes/Projection', 'AWS::Events::Rule').map(props);
  expect(projection).toHaveLength(1);
  expect(projection[0].EventPattern).not.toHaveProperty('replay-name');
  expect(under(t, 'Router', 'AWS::SQS::Queue')).toHaveLength(2);
  expect(under(t, 'Router', 'AWS::CloudWatch::Alarm')).toHaveLength(5);

  // TransactionalOutbox: the table's stream and TTL on the key, the relay filtered to outbox inserts with
  // partial batch responses, bisection, bounded retries and an on-failure queue; its own router bus; the
  // FIFO-topic outbox; the event store's table and its projection's read model and mapping.
  expect(under(t, 'OrderOutbox/Resource', 'AWS::DynamoDB::Table').map(props)).toEqual([
    expect.objectContaining({
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { KMSMasterKeyId: appKey, SSEEnabled: true, SSEType: 'KMS' },
    }),
  ]);
  const relayMappings = under(t, 'OrderOutbox', 'AWS::Lambda::EventSourceMapping').map(props);
  expect(relayMappings).toEqual([
    expect.objectContaining({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: expect.anything() } },
      FilterCriteria: { Filters: [expect.objectContaining({ Pattern: expect.stringContaining('INSERT') })] },
    }),
  ]);
  expect(under(t, 'OrderOutbox/Relay', 'AWS::Lambda::Function').map((f) => props(f).Runtime)).toEqual([KIT_RUNTIME]);
  expect(under(t, 'OrderOutbox/Router', 'AWS::Events::EventBus')).toHaveLength(1);
  expect(JSON.stringify(under(t, 'OrderOutbox', 'AWS::CloudWatch::Alarm').map((a) => props(a).AlarmActions))).toContain(
    JSON.stringify(topic),
  );
  expect(under(t, 'LedgerOutbox', 'AWS::Events::EventBus')).toHaveLength(0);
  expect(JSON.stringify(under(t, 'LedgerOutbox', 'AWS::IAM::Policy').map(props))).toContain('sns:Publish');
  expect(under(t, 'Accounts/Resource', 'AWS::DynamoDB::Table').map(props)).toEqual([
    expect.objectContaining({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    }),
  ]);
  expect(under(t, 'Accounts/Summary', 'AWS::DynamoDB::Table')).toHaveLength(1);
  expect(under(t, 'Accounts/Summary', 'AWS::Lambda::EventSourceMapping').map(props)).toEqual([
    expect.objectContaining({ BatchSize: 50, FunctionResponseTypes: ['ReportBatchItemFailures'], BisectBatchOnFunctionError: true }),
  ]);

  // KafkaConsumer: on an existing MSK cluster (IAM), the mapping with the kit's failure handling and
  // provisioned pollers, the on-failure queue, the overridden lag alarm; the MSK Serverless cluster it
  // creates; the self-managed cluster in a VPC over SCRAM-256.
  expect(under(t, 'OrderStream', 'AWS::Lambda::EventSourceMapping').map(props)).toEqual([
    expect.objectContaining({
      Topics: ['orders'],
      BatchSize: 200,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      ProvisionedPollerConfig: expect.objectContaining({ MinimumPollers: 1, MaximumPollers: 4 }),
      DestinationConfig: { OnFailure: { Destination: expect.anything() } },
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: expect.any(String) },
    }),
  ]);
  expect(under(t, 'OrderStream', 'AWS::CloudWatch::Alarm').map((a) => props(a).Threshold)).toEqual(expect.arrayContaining([5000]));
  expect(under(t, 'Telemetry', 'AWS::MSK::ServerlessCluster').map((c) => props(c).ClientAuthentication)).toEqual([
    { Sasl: { Iam: { Enabled: true } } },
  ]);
  expect(JSON.stringify(under(t, 'Legacy', 'AWS::Lambda::EventSourceMapping').map(props))).toContain('SASL_SCRAM_256_AUTH');

  // BrokerConsumer: the RabbitMQ cluster it creates (private, logs, generated credentials by dynamic
  // reference), its mapping with the virtual host and batches of 10; the existing ActiveMQ broker's mapping.
  const broker = props(under(t, 'Invoices', 'AWS::AmazonMQ::Broker')[0]);
  expect(broker).toMatchObject({ EngineType: 'RABBITMQ', DeploymentMode: 'CLUSTER_MULTI_AZ', PubliclyAccessible: false });
  expect(JSON.stringify(broker.Users)).toContain('{{resolve:secretsmanager:');
  expect(under(t, 'Invoices', 'AWS::SecretsManager::Secret')).toHaveLength(1);
  expect(under(t, 'Invoices', 'AWS::Lambda::EventSourceMapping').map(props)).toEqual([
    expect.objectContaining({ Queues: ['invoices'], BatchSize: 10 }),
  ]);
  expect(JSON.stringify(under(t, 'Invoices', 'AWS::Lambda::EventSourceMapping').map(props))).toContain('VIRTUAL_HOST');
  expect(under(t, 'Shipments', 'AWS::AmazonMQ::Broker')).toHaveLength(0);
  expect(under(t, 'Shipments', 'AWS::Lambda::EventSourceMapping').map(props)).toEqual([
    expect.objectContaining({ Queues: ['shipments'], BatchSize: 5 }),
  ]);

  // The metrics on a dashboard of the app's, the kit's MessagingDashboard with a section per construct
  // added (FanOut, StreamPipeline, WorkQueue), and the kit's handlers as pre-built assets (with source
  // maps) in cdk.out.
  expect(Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')).toHaveLength(2);
  const ops = JSON.stringify(under(t, 'Ops', 'AWS::CloudWatch::Dashboard').map(props)[0]);
  for (const section of [
    'FanOut `AllConstructs/Notifications`',
    'StreamPipeline `AllConstructs/Clicks`',
    'WorkQueue `AllConstructs/Orders`',
  ]) {
    expect(ops).toContain(section);
  }
  const assetDirs = fs.readdirSync(outdir).filter((d) => d.startsWith('asset.'));
  expect(assetDirs.filter((d) => fs.existsSync(path.join(outdir, d, 'index.js.map'))).length).toBeGreaterThanOrEqual(3);
}
