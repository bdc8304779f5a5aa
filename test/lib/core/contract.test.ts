/**
 * The construct contract (CONTRIBUTING.md), checked over the whole public API as jsii sees it (the
 * `.jsii` assembly `npm run build` writes): every construct extends MessagingPattern, every optional
 * prop documents its default, grants return one `iam.Grant`, functions are wired by `connectX`, and
 * the root export holds the public types only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lib from '../../../lib';

interface TypeRef {
  readonly fqn?: string;
  readonly primitive?: string;
  readonly collection?: { kind: string; elementtype: TypeRef };
  readonly union?: unknown;
}
interface Parameter {
  readonly name: string;
  readonly type: TypeRef;
  readonly optional?: boolean;
}
interface Method {
  readonly name: string;
  readonly static?: boolean;
  readonly protected?: boolean;
  readonly parameters?: Parameter[];
  readonly returns?: { type: TypeRef; optional?: boolean };
}
interface Property {
  readonly name: string;
  readonly optional?: boolean;
  readonly docs?: { default?: string; summary?: string };
}
interface JsiiType {
  readonly fqn: string;
  readonly kind: 'class' | 'interface' | 'enum';
  readonly datatype?: boolean;
  readonly base?: string;
  readonly abstract?: boolean;
  readonly methods?: Method[];
  readonly properties?: Property[];
}

const assemblyFile = path.resolve(__dirname, '../../../.jsii');
const assembly = JSON.parse(fs.readFileSync(assemblyFile, 'utf8')) as { types: Record<string, JsiiType> };
const types = Object.values(assembly.types);
const classes = types.filter((t) => t.kind === 'class');
const structs = types.filter((t) => t.kind === 'interface' && t.datatype);
const PATTERN = 'cdk-messaging-patterns.MessagingPattern';
const GRANT = 'aws-cdk-lib.aws_iam.Grant';

const methodsOf = (kind: (m: Method) => boolean) =>
  classes.flatMap((c) => (c.methods ?? []).filter((m) => !m.static && !m.protected && kind(m)).map((m) => ({ cls: c.fqn, m })));

describe('the construct contract', () => {
  it('every construct extends MessagingPattern', () => {
    // Constructs are the classes with a base; helper classes such as RouteTarget (static factories) have
    // none. The dashboard shows patterns; it is not one.
    const constructs = classes.filter((c) => c.base !== undefined && c.fqn !== 'cdk-messaging-patterns.MessagingDashboard');
    expect(constructs.length).toBeGreaterThanOrEqual(9);
    expect(constructs.filter((c) => c.fqn !== PATTERN && c.base !== PATTERN).map((c) => c.fqn)).toEqual([]);
    expect(classes.find((c) => c.fqn === PATTERN)?.base).toBe('constructs.Construct');
  });

  it('every optional prop documents its default with @default', () => {
    const missing = structs.flatMap((s) =>
      (s.properties ?? []).filter((p) => p.optional && !p.docs?.default).map((p) => `${s.fqn}.${p.name}`),
    );
    expect(missing).toEqual([]);
  });

  it('every grant returns one iam.Grant (the combined grant, KMS included), never an array or nothing', () => {
    const grants = methodsOf((m) => m.name.startsWith('grant'));
    expect(grants.length).toBeGreaterThan(10);
    const wrong = grants.filter(({ m }) => m.returns?.type.fqn !== GRANT || m.returns.optional).map(({ cls, m }) => `${cls}.${m.name}`);
    expect(wrong).toEqual([]);
  });

  it('functions are wired by connectX(fn): a grant and the environment, one verb in every construct', () => {
    const connects = methodsOf((m) => m.name.startsWith('connect'));
    expect(connects.length).toBeGreaterThanOrEqual(9);
    // One verb, and a role from one vocabulary.
    const roles = /^connect(Producer|Consumer|Publisher|Requester|Recorder|Replayer)$/;
    expect(connects.filter(({ m }) => !roles.test(m.name)).map(({ cls, m }) => `${cls}.${m.name}`)).toEqual([]);
    for (const { m } of connects) {
      expect(m.parameters?.[0].type.fqn).toBe('aws-cdk-lib.aws_lambda.IFunction');
      expect(m.returns?.type.fqn).toBe(GRANT);
    }
    // No other public method takes a function to wire (the old verbs configureProducer, addRequester, addRecorder, connect).
    const others = methodsOf((m) => !m.name.startsWith('connect') && m.parameters?.[0]?.type.fqn === 'aws-cdk-lib.aws_lambda.IFunction');
    expect(others.map(({ cls, m }) => `${cls}.${m.name}`)).toEqual([]);
  });

  it('metrics are metricX(props?) returning a CloudWatch metric', () => {
    const metrics = methodsOf((m) => m.name.startsWith('metric'));
    expect(metrics.length).toBeGreaterThan(15);
    for (const { m } of metrics) {
      expect(m.returns?.type.fqn).toMatch(/^aws-cdk-lib\.aws_cloudwatch\.I?Metric$/);
      expect(m.parameters?.at(-1)).toMatchObject({
        name: 'props',
        optional: true,
        type: { fqn: 'aws-cdk-lib.aws_cloudwatch.MetricOptions' },
      });
    }
  });

  it('every construct takes the alarms and dashboard props and can add alarms of your own', () => {
    const props = structs.find((s) => s.fqn === 'cdk-messaging-patterns.MessagingPatternProps');
    expect(props?.properties?.map((p) => p.name).sort()).toEqual(['alarms', 'dashboard']);
    const pattern = classes.find((c) => c.fqn === PATTERN);
    expect(pattern?.methods?.map((m) => m.name)).toContain('addAlarm');
  });

  it('the root export holds the public types only: no builders, validator, nag helpers or defaults', () => {
    const names = Object.keys(lib).sort();
    const published = new Set(types.map((t) => t.fqn.replace('cdk-messaging-patterns.', '')));
    // MessagingPatternsError extends Error, which jsii cannot model: TypeScript-only.
    expect(names.filter((n) => !published.has(n))).toEqual(['MessagingPatternsError']);
    for (const leaked of [
      'buildQueue',
      'PropsValidator',
      'KitFunction',
      'handlerCode',
      'grantSendOnly',
      'nagReference',
      'DEFAULT_MAX_RECEIVE_COUNT',
    ]) {
      expect(names).not.toContain(leaked);
    }
  });
});
