/**
 * The secure-defaults checks: every resource of each kind in a synthesized template, whoever
 * declared it (a kit construct, the showcase, CDK), judged on what CONTRIBUTING.md promises —
 * encryption at rest, TLS-only resource policies, a dead-letter queue or on-failure destination
 * wherever a message can be dropped, bounded retries, an alarm on every dead-letter queue, and no
 * wildcard actions. Pure functions over the template, so that `secure-defaults.test.ts` can show
 * that each check catches what it is for.
 *
 * What is checked, by check id:
 * - `encryption`: SQS queues (SSE-SQS or a KMS key), SNS topics (a KMS key), S3 buckets (default
 *   encryption), Kinesis streams (KMS). DynamoDB tables are always encrypted at rest (the AWS owned
 *   key by default, as the kit's IdempotencyTable chooses; or an AWS managed or customer managed
 *   KMS key): nothing can fail there, and the check only rejects an SSESpecification that names no
 *   KMS type for `SSEEnabled: true`.
 * - `tls-only`: SQS queues, SNS topics and S3 buckets have a resource policy that denies requests
 *   with `aws:SecureTransport: false`. DynamoDB tables and Kinesis streams have no resource policy
 *   in these stacks: they are checked for encryption only.
 * - `redrive`: every SQS queue has a redrive policy, unless it is itself a dead-letter queue or an
 *   on-failure destination (the target of a redrive policy, a `DeadLetterConfig` or an `OnFailure`
 *   destination anywhere in the template).
 * - `stream-failures`: every event source mapping from a stream (Kinesis, DynamoDB Streams, Kafka:
 *   one with a `StartingPosition`) has an on-failure destination and bounded retries (not -1).
 * - `rule-target-dlq`: every EventBridge rule target, scheduled rules included, and every
 *   EventBridge Scheduler schedule has a `DeadLetterConfig`.
 * - `subscription-redrive`: every SNS subscription has a `RedrivePolicy`; no topic has inline
 *   subscriptions (they cannot have one).
 * - `async-failures`: every function invoked asynchronously (an EventBridge rule or schedule
 *   target, an SNS subscription, an S3 notification) has a dead-letter queue or an on-failure
 *   destination, or a documented reason: an acknowledgement of cdk-nag's Serverless-LambdaDLQ on
 *   it (`synchronousOnlyReason`), whose reason the acknowledgement gate judges.
 * - `dlq-alarm`: every dead-letter queue and on-failure destination that is an SQS queue or an SNS
 *   topic has a CloudWatch alarm whose metric has a dimension naming it (QueueName, TopicName).
 * - `wildcard-action`: no Allow statement in any policy (identity or resource) has `*` or
 *   `service:*` as an action, or a `NotAction`. Allowed: Deny statements (the TLS-only denials deny
 *   `sqs:*`), and actions with a wildcard after a name prefix (`kms:GenerateDataKey*`,
 *   `s3:GetObject*`): CDK's grants use them for the variants of one operation, and cdk-nag's
 *   AwsSolutions-IAM5 makes each one an acknowledgement with a reason of its own.
 */
import type { Acknowledgement, CfnResource, CfnTemplate } from './assembly';

/** One failed check on one resource. */
export interface Finding {
  readonly check: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly path?: string;
  readonly message: string;
}

/** What the checks need besides the template. */
export interface CheckContext {
  readonly paths?: ReadonlyMap<string, string>;
  readonly acknowledgements?: readonly Acknowledgement[];
}

type Json = unknown;

/** Logical ids a value references (`Ref`, `Fn::GetAtt`, `Fn::Sub`), pseudo parameters left out. */
export function refsIn(value: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) refsIn(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') {
        if (!v.startsWith('AWS::')) out.add(v);
      } else if (k === 'Fn::GetAtt') {
        const id = Array.isArray(v) ? v[0] : typeof v === 'string' ? v.split('.')[0] : undefined;
        if (typeof id === 'string') out.add(id);
      } else if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(v) ? (v as [string, Record<string, Json>]) : [v as string, {}];
        for (const m of String(text).matchAll(/\$\{([^!}][^}.]*)(?:\.[^}]*)?\}/g)) {
          if (!m[1].startsWith('AWS::') && !(m[1] in (vars ?? {}))) out.add(m[1]);
        }
        refsIn(vars, out);
      } else {
        refsIn(v, out);
      }
    }
  }
  return out;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every value under a key named `key`, anywhere in `value`. */
function valuesAt(value: Json, key: string, out: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const v of value) valuesAt(v, key, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) out.push(v);
      valuesAt(v, key, out);
    }
  }
  return out;
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Principal?: Json;
  Condition?: Record<string, Record<string, Json>>;
  Resource?: Json;
}

/** The statements of every policy document in a resource's properties. */
function statementsOf(resource: CfnResource): Statement[] {
  return valuesAt(resource.Properties ?? {}, 'Statement').flatMap((s) => asArray(s as Statement | Statement[]));
}

/** Whether `statement` denies requests made without TLS, for every action of `service` (or for `action`). */
function deniesInsecureTransport(statement: Statement, service: string, action?: string): boolean {
  if (statement.Effect !== 'Deny') return false;
  const bool = statement.Condition?.Bool ?? {};
  const secure = bool['aws:SecureTransport'];
  if (!(secure === false || secure === 'false')) return false;
  const principal = statement.Principal;
  const anyone =
    principal === '*' || (principal && typeof principal === 'object' && asArray((principal as { AWS?: Json }).AWS).includes('*'));
  if (!anyone) return false;
  const actions = asArray(statement.Action);
  return actions.includes('*') || actions.includes(`${service}:*`) || (action !== undefined && actions.includes(action));
}

const RESOURCE_POLICIES: Record<string, { policy: string[]; property: string; service: string; action?: string }> = {
  'AWS::SQS::Queue': { policy: ['AWS::SQS::QueuePolicy', 'AWS::SQS::QueueInlinePolicy'], property: 'Queues', service: 'sqs' },
  // CDK's enforceSSL on a topic denies sns:Publish: the call that carries the messages.
  'AWS::SNS::Topic': {
    policy: ['AWS::SNS::TopicPolicy', 'AWS::SNS::TopicInlinePolicy'],
    property: 'Topics',
    service: 'sns',
    action: 'sns:Publish',
  },
  'AWS::S3::Bucket': { policy: ['AWS::S3::BucketPolicy'], property: 'Bucket', service: 's3' },
};

/** Runs every check over `template`. */
export function checkSecureDefaults(template: CfnTemplate, context: CheckContext = {}): Finding[] {
  const resources = template.Resources ?? {};
  const entries = Object.entries(resources);
  const findings: Finding[] = [];
  const report = (check: string, logicalId: string, message: string) =>
    findings.push({ check, logicalId, resourceType: resources[logicalId]?.Type ?? '?', path: context.paths?.get(logicalId), message });
  const ofType = (type: string) => entries.filter(([, r]) => r.Type === type);

  // Dead-letter queues and on-failure destinations: whatever a redrive policy, a DeadLetterConfig or
  // an OnFailure destination names.
  const deadLetterTargets = new Set<string>();
  for (const [, r] of entries) {
    for (const key of ['deadLetterTargetArn', 'DeadLetterConfig', 'OnFailure']) {
      for (const v of valuesAt(r.Properties ?? {}, key)) refsIn(v, deadLetterTargets);
    }
  }
  // And a queue named as a dead-letter queue only at run time (the DelayQueue's, for the schedules
  // its producers create), which says so: cdk-nag's Serverless-SQSRedrivePolicy acknowledged on it
  // with a reason (the kit's acknowledgeDeadLetterQueue). It still needs its alarm.
  for (const [id] of entries.filter(([, r]) => r.Type === 'AWS::SQS::Queue')) {
    if (acknowledged(context, id, 'Serverless-SQSRedrivePolicy')) deadLetterTargets.add(id);
  }

  // encryption
  for (const [id, r] of entries) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        if (!p.KmsMasterKeyId && p.SqsManagedSseEnabled !== true)
          report('encryption', id, 'SQS queue without SSE-SQS (SqsManagedSseEnabled) or a KMS key');
        break;
      case 'AWS::SNS::Topic':
        if (!p.KmsMasterKeyId) report('encryption', id, 'SNS topic without a KMS key (KmsMasterKeyId)');
        break;
      case 'AWS::S3::Bucket':
        if (!asArray(p.BucketEncryption?.ServerSideEncryptionConfiguration).length)
          report('encryption', id, 'S3 bucket without default encryption (BucketEncryption)');
        break;
      case 'AWS::Kinesis::Stream':
        if (p.StreamEncryption?.EncryptionType !== 'KMS')
          report('encryption', id, 'Kinesis stream without KMS encryption (StreamEncryption)');
        break;
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        if (p.SSESpecification?.SSEEnabled === true && p.SSESpecification.SSEType !== undefined && p.SSESpecification.SSEType !== 'KMS') {
          report('encryption', id, `DynamoDB table with an unknown SSEType (${String(p.SSESpecification.SSEType)})`);
        }
        break;
    }
  }

  // tls-only
  for (const [type, { policy, property, service, action }] of Object.entries(RESOURCE_POLICIES)) {
    const policies = entries.filter(([, r]) => policy.includes(r.Type));
    for (const [id] of ofType(type)) {
      const covered = policies.some(([, r]) => {
        const target = r.Type.endsWith('InlinePolicy') ? (r.Properties?.Queue ?? r.Properties?.TopicArn) : r.Properties?.[property];
        return refsIn(target).has(id) && statementsOf(r).some((s) => deniesInsecureTransport(s, service, action));
      });
      if (!covered)
        report('tls-only', id, `${type} without a resource policy denying aws:SecureTransport false (${action ?? `${service}:*`})`);
    }
  }

  // redrive
  for (const [id, r] of ofType('AWS::SQS::Queue')) {
    if (!r.Properties?.RedrivePolicy && !deadLetterTargets.has(id)) {
      report('redrive', id, 'SQS queue without a redrive policy that is not a dead-letter queue or an on-failure destination');
    }
  }

  // stream-failures
  for (const [id, r] of ofType('AWS::Lambda::EventSourceMapping')) {
    const p = r.Properties ?? {};
    if (p.StartingPosition === undefined) continue; // SQS, Amazon MQ: the source keeps the message
    if (!p.DestinationConfig?.OnFailure?.Destination)
      report('stream-failures', id, 'stream event source mapping without an on-failure destination');
    if (p.MaximumRetryAttempts === undefined || p.MaximumRetryAttempts === -1) {
      report(
        'stream-failures',
        id,
        `stream event source mapping with unbounded retries (MaximumRetryAttempts ${p.MaximumRetryAttempts ?? 'absent: -1'})`,
      );
    }
  }

  // rule-target-dlq
  for (const [id, r] of ofType('AWS::Events::Rule')) {
    for (const target of asArray(r.Properties?.Targets) as Array<{ Id?: string; DeadLetterConfig?: { Arn?: Json } }>) {
      if (!target.DeadLetterConfig?.Arn) {
        const what = r.Properties?.ScheduleExpression ? `scheduled rule (${String(r.Properties.ScheduleExpression)})` : 'rule';
        report('rule-target-dlq', id, `target ${target.Id ?? '?'} of an EventBridge ${what} without a DeadLetterConfig`);
      }
    }
  }
  for (const [id, r] of ofType('AWS::Scheduler::Schedule')) {
    if (!r.Properties?.Target?.DeadLetterConfig?.Arn)
      report('rule-target-dlq', id, 'EventBridge Scheduler schedule without a DeadLetterConfig');
  }

  // subscription-redrive
  for (const [id, r] of ofType('AWS::SNS::Subscription')) {
    if (!r.Properties?.RedrivePolicy)
      report('subscription-redrive', id, `SNS subscription (${String(r.Properties?.Protocol)}) without a RedrivePolicy`);
  }
  for (const [id, r] of ofType('AWS::SNS::Topic')) {
    if (asArray(r.Properties?.Subscription).length)
      report('subscription-redrive', id, 'SNS topic with inline subscriptions, which cannot have a RedrivePolicy');
  }

  // async-failures
  const functionIds = new Set(ofType('AWS::Lambda::Function').map(([id]) => id));
  const toFunctions = (value: Json): string[] => {
    const ids = [...refsIn(value)];
    // Through an alias or a version to its function.
    return ids
      .flatMap((ref) => {
        const target = resources[ref];
        if (target && ['AWS::Lambda::Alias', 'AWS::Lambda::Version'].includes(target.Type))
          return [...refsIn(target.Properties?.FunctionName)];
        return [ref];
      })
      .filter((ref) => functionIds.has(ref));
  };
  const asynchronous = new Map<string, string>();
  for (const [id, r] of entries) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::Events::Rule')
      for (const t of asArray(p.Targets) as Array<{ Arn?: Json }>)
        for (const f of toFunctions(t.Arn)) asynchronous.set(f, `target of rule ${id}`);
    if (r.Type === 'AWS::Scheduler::Schedule') for (const f of toFunctions(p.Target?.Arn)) asynchronous.set(f, `target of schedule ${id}`);
    if (r.Type === 'AWS::SNS::Subscription' && p.Protocol === 'lambda')
      for (const f of toFunctions(p.Endpoint)) asynchronous.set(f, `subscriber of ${id}`);
    if (r.Type === 'AWS::SNS::Topic')
      for (const s of asArray(p.Subscription) as Array<{ Protocol?: string; Endpoint?: Json }>)
        if (s.Protocol === 'lambda') for (const f of toFunctions(s.Endpoint)) asynchronous.set(f, `subscriber of topic ${id}`);
    if (r.Type === 'AWS::S3::Bucket' || r.Type === 'Custom::S3BucketNotifications') {
      for (const key of ['Function', 'LambdaFunctionArn'])
        for (const v of valuesAt(p, key)) for (const f of toFunctions(v)) asynchronous.set(f, `notification of ${id}`);
    }
  }
  for (const [fn, why] of asynchronous) {
    const p = resources[fn].Properties ?? {};
    if (p.DeadLetterConfig?.TargetArn) continue;
    const onFailure = entries.some(
      ([, r]) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        toFunctions(r.Properties?.FunctionName).includes(fn) &&
        r.Properties?.DestinationConfig?.OnFailure?.Destination,
    );
    if (onFailure) continue;
    if (!acknowledged(context, fn, 'Serverless-LambdaDLQ'))
      report(
        'async-failures',
        fn,
        `function invoked asynchronously (${why}) without a dead-letter queue, an on-failure destination or a documented reason`,
      );
  }

  // dlq-alarm
  const alarmed = new Set<string>();
  for (const [, r] of ofType('AWS::CloudWatch::Alarm')) {
    const dimensions = [
      ...asArray(r.Properties?.Dimensions),
      ...valuesAt(r.Properties?.Metrics ?? [], 'Dimensions').flatMap((d) => asArray(d)),
    ] as Array<{
      Name?: string;
      Value?: Json;
    }>;
    for (const d of dimensions) if (d.Name === 'QueueName' || d.Name === 'TopicName') refsIn(d.Value, alarmed);
  }
  for (const id of deadLetterTargets) {
    const type = resources[id]?.Type;
    if ((type === 'AWS::SQS::Queue' || type === 'AWS::SNS::Topic') && !alarmed.has(id)) {
      report('dlq-alarm', id, `dead-letter queue or on-failure destination (${type}) without an alarm on a metric naming it`);
    }
  }

  // wildcard-action
  for (const [id, r] of entries) {
    for (const s of statementsOf(r)) {
      if ((s.Effect ?? 'Allow') !== 'Allow') continue;
      if (s.NotAction !== undefined) report('wildcard-action', id, `Allow statement with NotAction ${JSON.stringify(s.NotAction)}`);
      for (const action of asArray(s.Action)) {
        if (typeof action === 'string' && (action === '*' || /^[A-Za-z0-9-]+:\*$/.test(action))) {
          report('wildcard-action', id, `Allow ${action}${describePrincipal(s.Principal)}`);
        }
      }
    }
  }
  return findings;
}

/** Whether cdk-nag rule `rule` is acknowledged, with a reason, on the resource `logicalId` or a construct above it. */
function acknowledged(context: CheckContext, logicalId: string, rule: string): boolean {
  const path = context.paths?.get(logicalId);
  if (path === undefined) return false;
  return (context.acknowledgements ?? []).some(
    (a) => (a.id === rule || a.id.endsWith(`::${rule}`)) && a.reason.trim() !== '' && (path === a.path || path.startsWith(`${a.path}/`)),
  );
}

/** ` to <principal>` for a resource policy's statement, with the account root named as such. */
function describePrincipal(principal: Json): string {
  if (principal === undefined) return '';
  const text = JSON.stringify(principal);
  if (/"AWS"/.test(text) && /AWS::AccountId/.test(text) && /:root/.test(text)) return " to the account's root principal";
  return ` to ${text}`;
}

/** A finding that is accepted, with why. */
export interface SecureDefaultsAllowance {
  readonly check: string;
  readonly resourceType?: string;
  /** The construct path of the resource; any when omitted. */
  readonly path?: RegExp;
  /** What the finding's message must say; any when omitted. */
  readonly message?: RegExp;
  readonly reason: string;
}

export function allowsFinding(allowance: SecureDefaultsAllowance, finding: Finding): boolean {
  return (
    allowance.check === finding.check &&
    (allowance.resourceType === undefined || allowance.resourceType === finding.resourceType) &&
    (allowance.path === undefined || (finding.path !== undefined && allowance.path.test(finding.path))) &&
    (allowance.message === undefined || allowance.message.test(finding.message))
  );
}
